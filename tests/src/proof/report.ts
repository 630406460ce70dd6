/** Rows of the proof runs, and the Markdown report (docs/proof/REPORT.md) of a full-size run. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Measurement } from './pipeline.js';

export interface Row {
  fault: string;
  how: string;
  measurements: Measurement[];
  recoveryMs: number | null;
  wallMs: number;
  /** The live Socket.IO client's line (liveLine in faults.int.spec.ts): what it held against ClickHouse at the end. */
  live?: string;
}

export const REPORT_DIR = fileURLToPath(new URL('../../../docs/proof/', import.meta.url));

export function line(r: Row): string {
  const lost = r.measurements.reduce((n, m) => n + m.lost, 0);
  const twice = r.measurements.reduce((n, m) => n + m.countedTwice, 0);
  const diffs = r.measurements
    .map(
      (m) =>
        `${m.symbol}: ${m.tradesIn} in, ${m.tradesInClickHouse} in ClickHouse, cell diffs ${m.cellDiffs}, candle diffs ${m.candleDiffs}, raw diffs ${m.rawDiffs}, volume diff ${m.volumeDiff}, foreign ids ${m.foreign}`,
    )
    .join('; ');
  return `[proof] ${r.fault}: trades lost: ${lost}, counted twice: ${twice} (${diffs}; recovered in ${r.recoveryMs === null ? 'n/a' : (r.recoveryMs / 1000).toFixed(1) + ' s'})`;
}

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  // "nats-server v2.9.10, ClickHouse 18.16.1": ClickHouse's SELECT version() of a throwaway server
  // of the same binary (this report is written after the run's servers stopped)
  let servers = 'nats-server and ClickHouse versions unknown';
  try {
    const script = fileURLToPath(new URL('../../bench/lib/versions.mjs', import.meta.url));
    servers = execFileSync(process.execPath, [script], { encoding: 'utf8', timeout: 120_000 }).trim() || servers;
  } catch {
    /* not essential */
  }
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}, ${servers}`;
}

export function writeReport(rows: Row[], meta: { size: string; stream: string; command: string }): string {
  mkdirSync(REPORT_DIR, { recursive: true });
  const file = REPORT_DIR + (meta.size === 'full' ? 'REPORT.md' : `REPORT-${meta.size}.md`);
  const t = (ms: number | null) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);
  const out = [
    `# Proof under fire: ${meta.size} run`,
    '',
    `Run ${new Date().toISOString()} on ${machine()}.`,
    '',
    `Command: \`${meta.command}\``,
    '',
    `Stream: ${meta.stream}`,
    '',
    'Each row is one replay through the whole platform (simulator → collector → JetStream → 2 aggregator shards → ClickHouse, each service its own process) with one fault, then the exactness check: `footprint` and `candles` at every timeframe against an independent BigInt aggregation of the input (`reference()`), and the raw `trades` table aggregated in SQL. "lost" = input trade ids absent from ClickHouse; "counted twice" = trades counted by the 1m footprint beyond the distinct ids stored; "diffs" = cells / candles that differ from the reference (either side). "recovered" = from the restart of the faulted component until ClickHouse held every trade the simulator had produced at that moment.',
    '',
    '| fault | symbol | trades in | trades in ClickHouse | lost | counted twice | cell / candle / raw diffs | time to recover | wall time |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
  ];
  for (const r of rows)
    for (const m of r.measurements)
      out.push(
        `| ${r.fault} | ${m.symbol} | ${m.tradesIn.toLocaleString('en')} | ${m.tradesInClickHouse.toLocaleString('en')} | ${m.lost} | ${m.countedTwice} | ${m.cellDiffs} / ${m.candleDiffs} / ${m.rawDiffs} | ${t(r.recoveryMs)} | ${t(r.wallMs)} |`,
      );
  const live = rows.filter((r) => r.live);
  if (live.length > 0) {
    out.push(
      '',
      '## The live client through the gateway',
      '',
      'In every run the gateway runs as its own process and a Socket.IO client (socket.io-client, reconnecting, re-subscribing on a sequence gap) follows LTCUSDT (shard 0) and LTCUSDC (shard 1) through it from the first trades on: 1m at native ticks and a grouped higher timeframe each. At the end every candle it holds is compared with ClickHouse (cells, every summary field, POC / value area) and with the gateway\'s own `GET /api/footprint`; a client subscribing after the run is compared the same way. "diffs" count cells / candles / metrics / HTTP cells that differ (either side); "missing" = stored candles from its first one on that it does not hold. The test asserts all of them are 0.',
      '',
      '```',
      ...live.map((r) => r.live!),
      '```',
    );
  }
  out.push('', '## How each fault was applied', '');
  for (const r of rows) out.push(`- **${r.fault}**: ${r.how}`);
  out.push('', '## Report lines', '', '```', ...rows.map(line), '```', '');
  writeFileSync(file, out.join('\n'));
  return file;
}

export function appendJson(file: string, row: Row): void {
  let rows: Row[] = [];
  try {
    rows = JSON.parse(readFileSync(file, 'utf8')) as Row[];
  } catch {
    /* first row */
  }
  rows.push(row);
  writeFileSync(file, JSON.stringify(rows, null, 1));
}
