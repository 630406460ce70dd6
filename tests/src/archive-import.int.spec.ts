/**
 * `npm run import` (the built CLI, as a user runs it) publishing a real Binance public-data
 * archive onto a real nats-server: every row arrives, exactly, in order; a bad line is reported
 * with file and line number and the good ones still import; importing the same file again adds
 * nothing (JetStream drops the repeated batches by their Nats-Msg-Id). Ids missing from the
 * files are recorded as unfilled gaps, as a live collector records them: the events, the summary
 * line, and the candles they touch marked incomplete by the aggregator in ClickHouse.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, connect } from '@nats-io/transport-node';
import { AggregatorRuntime, loadAggregatorConfig } from '@orderflow/aggregator';
import { connectClickHouse } from '@orderflow/clickhouse';
import { EVENTS_STREAM, type GapEvent } from '@orderflow/contracts';
import { formatFixedTrimmed } from '@orderflow/footprint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES_URL, startClickHouse } from './aggregator-support.js';
import {
  type Cleanup,
  SHARED_DATA,
  connectTo,
  needsSharedData,
  readTrades,
  runCleanup,
  startNats,
  trimZeros,
  waitFor,
} from './support.js';
import { zipOneFile } from './zip.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARCHIVE = 'BTCUSDT-aggTrades-2026-01-01_first5000.csv';
const CLI = join(ROOT, 'apps/collector/dist/import.main.js');

/** `npm run import`'s CLI on `files`, with `env` added to the test's environment. */
function importInto(env: Record<string, string>, files: readonly string[]) {
  return run(
    process.execPath,
    [CLI, '--exchange', 'binance', '--symbol', 'BTCUSDT', '--tick', '0.01', '--step', '0.00001', ...files],
    { cwd: ROOT, env: { ...process.env, ...env } },
  );
}

/** Every gap event in COLLECTOR_EVENTS with its subject, in stream order. */
async function readGapEvents(nc: NatsConnection): Promise<{ subject: string; event: GapEvent }[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(EVENTS_STREAM).catch(() => null);
  const out: { subject: string; event: GapEvent }[] = [];
  if (!info || info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(EVENTS_STREAM, { seq });
    if (m && m.subject.startsWith('gaps.')) out.push({ subject: m.subject, event: m.json<GapEvent>() });
  }
  return out;
}

/** Candle buckets by timeframe, in seconds. */
const TIMEFRAME_SECONDS: Record<string, number> = {
  '1m': 60,
  '5m': 300,
  '15m': 900,
  '30m': 1800,
  '1h': 3600,
  '4h': 14_400,
  '1d': 86_400,
};

/** "1767225600039409" (µs) -> "2026-01-01T00:00:00.039409Z". */
function isoMicros(us: string): string {
  return `${new Date(Number(us.slice(0, -3))).toISOString().slice(0, -1)}${us.slice(-3)}Z`;
}

interface ServicesModule {
  startNats(o: { accounts: Record<string, string> }): Promise<{ url: string; stop(): Promise<void> }>;
}

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

describe('archive import', needsSharedData, () => {
  let nats: Awaited<ReturnType<typeof startNats>>;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orderflow-import-'));
    nats = await startNats();
    // the CLI as `npm run import` runs it (built by the test target's ^build dependency)
    await run('npx', ['nx', 'run', '@orderflow/collector:build', '--outputStyle=static'], { cwd: ROOT });
  });
  afterAll(async () => {
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const importFiles = (...files: string[]) => importInto({ NATS_URL: nats.url }, files);

  it('imports every row exactly, reports a bad line by file and number, and a second import adds nothing', async () => {
    const rows = readFileSync(SHARED_DATA + ARCHIVE, 'utf8')
      .trim()
      .split('\n');
    const file = join(dir, ARCHIVE);
    // a copy with one broken line in the middle (line 1001)
    const lines = [
      ...rows.slice(0, 1000),
      '3800398495,not-a-price,0.1,1,1,1767225600039409,True,True',
      ...rows.slice(1000),
    ];
    writeFileSync(file, `${lines.join('\n')}\n`);
    const first = await importFiles(file);
    expect(first.stderr).toContain(`${file}:1001: skipped: INVALID_FIELD: price:`);
    expect(first.stderr).toMatch(
      /imported 5,000 trades of binance BTCUSDT, all acknowledged by JetStream; 1 bad lines skipped; no id holes\n/,
    );
    expect(first.stderr).not.toContain('id hole ');

    const again = join(dir, 'again.csv');
    copyFileSync(file, again);
    await importFiles(again);

    const nc = await connectTo(nats.url);
    try {
      const { trades, scales } = await readTrades(nc);
      expect(trades.length).toBe(5000);
      const want = rows.map((r) => r.split(','));
      expect(
        trades.map((t) => [
          t.id,
          formatFixedTrimmed(t.price, scales!.priceScale),
          formatFixedTrimmed(t.quantity, scales!.quantityScale),
          t.side,
          t.exchangeTimeUs,
        ]),
      ).toEqual(
        want.map(([a, p, q, , , ts, maker]) => [
          a,
          trimZeros(p!),
          trimZeros(q!),
          maker === 'True' ? 'sell' : 'buy',
          Number(ts),
        ]),
      );
      // the archive's ids are consecutive: nothing recorded as a gap
      expect((await readGapEvents(nc)).length).toBe(0);
    } finally {
      await nc.close();
    }
  });

  it('reads .zip archives as Binance publishes them', async () => {
    const content = readFileSync(SHARED_DATA + ARCHIVE);
    const zip = join(dir, 'BTCUSDT-aggTrades-2026-01-01.zip');
    writeFileSync(zip, zipOneFile('BTCUSDT-aggTrades-2026-01-01.csv', content));
    const r = await importFiles(zip);
    expect(r.stderr).toMatch(
      /imported 5,000 trades of binance BTCUSDT, all acknowledged by JetStream; 0 bad lines skipped; no id holes\n/,
    );
    // the same trades were imported from the .csv before: the stream still holds each once
    const nc = await connectTo(nats.url);
    try {
      expect((await readTrades(nc)).trades.length).toBe(5000);
    } finally {
      await nc.close();
    }
  });

  it('ids missing from the files: unfilled gap events, the candles they touch incomplete in ClickHouse, the summary line', async () => {
    const cleanup: Cleanup = [];
    try {
      const rows = readFileSync(SHARED_DATA + ARCHIVE, 'utf8')
        .trim()
        .split('\n')
        .map((r) => r.split(','));
      // the premise of every expectation below: the archive's aggregate ids are consecutive
      expect(rows.every((r, i) => Number(r[0]) === Number(rows[0]![0]) + i)).toBe(true);
      // rows taken out, by index (inclusive): one id, 20 ids, and the 100 between the two files
      const removed = [
        [1500, 1500],
        [3000, 3019],
        [4000, 4099],
      ] as const;
      const gone = new Set(removed.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, k) => a + k)));
      const part = (name: string, from: number, to: number) => {
        const path = join(dir, name);
        writeFileSync(
          path,
          `${rows
            .slice(from, to)
            .filter((_, k) => !gone.has(from + k))
            .map((r) => r.join(','))
            .join('\n')}\n`,
        );
        return path;
      };
      const first = part('BTCUSDT-aggTrades-part1.csv', 0, 4000);
      const second = part('BTCUSDT-aggTrades-part2.csv', 4000, 5000);
      const time = (i: number) => rows[i]![5]!;
      const want = removed.map(([a, b]) => ({
        fromId: rows[a]![0]!,
        toId: rows[b]![0]!,
        missing: b - a + 1,
        fromTime: time(a - 1),
        toTime: time(b + 1),
      }));

      // a NATS with the platform's users: the import runs as the collector, as npm start's collectors do
      const pw = {
        collector: 'collector-secret',
        aggregator: 'aggregator-secret',
        gateway: 'gateway-secret',
        admin: 'admin-secret',
      };
      const services = (await import(SERVICES_URL)) as ServicesModule;
      const own = await services.startNats({ accounts: pw });
      cleanup.push(() => own.stop());
      // the files given out of order: the holes are those of the ids together
      const r = await importInto({ NATS_URL: own.url, NATS_USER: 'collector', NATS_PASSWORD: pw.collector }, [
        second,
        first,
      ]);
      const subject = 'gaps.binance.BTCUSDT';
      for (const w of want) {
        expect(r.stderr).toContain(
          `id hole ${w.fromId}..${w.toId} (${w.missing} missing) between ${isoMicros(w.fromTime)} and ${isoMicros(w.toTime)}: recorded as unfilled on ${subject}\n`,
        );
      }
      expect(r.stderr).toContain(
        `imported 4,879 trades of binance BTCUSDT, all acknowledged by JetStream; 0 bad lines skipped; 3 id holes, 121 ids missing, between ${isoMicros(time(1499))} and ${isoMicros(time(4100))}, recorded as unfilled gaps on ${subject}\n`,
      );

      const nc = await connect({ servers: own.url, user: 'admin', pass: pw.admin, name: 'archive-import-test' });
      cleanup.push(() => nc.close());
      const events = await readGapEvents(nc);
      expect(events.map((e) => e.subject)).toEqual([subject, subject, subject]);
      expect(
        events.map(({ event: g }) => [
          g.exchange,
          g.symbol,
          g.fromId,
          g.toId,
          g.missing,
          g.fromTimeUs,
          g.toTimeUs,
          g.status,
        ]),
      ).toEqual(
        want.map((w) => [
          'binance',
          'BTCUSDT',
          w.fromId,
          w.toId,
          w.missing,
          Number(w.fromTime),
          Number(w.toTime),
          'unfilled',
        ]),
      );

      // the aggregator (the live path's consumer) as its NATS and ClickHouse role users
      const ch = await startClickHouse();
      cleanup.push(() => ch.stop());
      const client = connectClickHouse({ url: ch.url });
      cleanup.push(() => client.close());
      const roles = ch.roles;
      const agg = new AggregatorRuntime(
        loadAggregatorConfig({
          NATS_URL: own.url,
          NATS_USER: 'aggregator',
          NATS_PASSWORD: pw.aggregator,
          CLICKHOUSE_URL: ch.url,
          CLICKHOUSE_DATABASE: 'import_gaps',
          AGG_DISCOVER_INTERVAL_MS: '200',
          AGG_FLUSH_INTERVAL_MS: '200',
          ...(roles
            ? {
                CLICKHOUSE_USER: roles.writer.user,
                CLICKHOUSE_PASSWORD: roles.writer.password,
                CLICKHOUSE_MIGRATIONS_USER: roles.migrator.user,
                CLICKHOUSE_MIGRATIONS_PASSWORD: roles.migrator.password,
              }
            : {}),
        }),
        quiet,
      );
      cleanup.push(() => agg.stop());
      await agg.start();
      const sql = async (query: string) =>
        (
          await (
            await client.query({
              query,
              format: 'TabSeparated',
              clickhouse_settings: { enable_optimize_predicate_expression: 1 } as never,
            })
          ).text()
        ).trim();
      const where = `exchange = 'binance' AND symbol = 'BTCUSDT'`;
      await waitFor(
        'the imported trades and the three gaps in ClickHouse',
        async () =>
          (await sql(`SELECT sum(trades) FROM import_gaps.candles WHERE ${where} AND timeframe = '1m'`)) === '4879' &&
          (await sql(`SELECT count() FROM import_gaps.gaps WHERE ${where}`)) === '3',
        90_000,
      );

      // the reference: a bucket is incomplete when a minute between the trades around a hole lies in it
      const holeMinutes = want.flatMap((w) => {
        const [a, b] = [Math.floor(Number(w.fromTime) / 60_000_000), Math.floor(Number(w.toTime) / 60_000_000)];
        return Array.from({ length: b - a + 1 }, (_, k) => (a + k) * 60);
      });
      const expected: string[] = [];
      for (const [tf, sec] of Object.entries(TIMEFRAME_SECONDS)) {
        const buckets = new Set(
          rows.filter((_, i) => !gone.has(i)).map((row) => Math.floor(Number(row[5]) / 1_000_000 / sec) * sec),
        );
        for (const b of buckets) expected.push(`${tf} ${b} ${holeMinutes.some((m) => m >= b && m < b + sec) ? 0 : 1}`);
      }
      // the data makes both cases: some 1m candles complete, some not
      expect(expected.filter((l) => l.startsWith('1m ') && l.endsWith(' 0')).length).toBeGreaterThan(0);
      expect(expected.filter((l) => l.startsWith('1m ') && l.endsWith(' 1')).length).toBeGreaterThan(0);
      const got = (await sql(`SELECT timeframe, toUInt32(bucket), complete FROM import_gaps.candles WHERE ${where}`))
        .split('\n')
        .map((l) => l.split('\t').join(' '));
      expect(got.sort()).toEqual(expected.sort());
    } finally {
      await runCleanup(cleanup);
    }
  }, 180_000);
});
