/**
 * The aggregator's system tests: recordings published as the collector publishes them, an
 * independent reference aggregation of the recording, and the analyst views read back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { TRADES_STREAM } from '@orderflow/contracts';
import {
  type FootprintCandle,
  FootprintSeries,
  type Instrument,
  TIMEFRAMES,
  type Trade,
  instrumentFromSteps,
} from '@orderflow/footprint';
import { TradePublisher, ensureStreams, silentLogger } from '@orderflow/nats';
import { type Cleanup, type RecordedTrade, readTradeJsonl, waitFor } from './support.js';

export const SERVICES_URL = new URL('../../scripts/lib/services.mjs', import.meta.url).href;
export const AGGREGATOR_MAIN = fileURLToPath(new URL('../../apps/aggregator/dist/main.js', import.meta.url));

/** The service role users of a test ClickHouse (scripts/lib/clickhouse-roles.mjs): what the services connect as. */
export interface ClickHouseRoleUsers {
  migrator: { user: string; password: string };
  writer: { user: string; password: string };
  reader: { user: string; password: string };
}

export interface ClickHouseServer {
  url: string;
  httpPort: number;
  tcpPort: number;
  dataDir: string;
  roles: ClickHouseRoleUsers | null;
  stop(): Promise<void>;
}

export async function startClickHouse(
  o: { httpPort?: number; tcpPort?: number; dataDir?: string } = {},
): Promise<ClickHouseServer> {
  const services = (await import(SERVICES_URL)) as { startClickHouse(o: object): Promise<ClickHouseServer> };
  return services.startClickHouse(o);
}

/** A ClickHouse whose data directory survives stop() (so that it can be stopped and started again). */
export async function startOwnClickHouse(cleanup: Cleanup): Promise<ClickHouseServer & { restart(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'orderflow-system-ch-'));
  cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  let server = await startClickHouse({ dataDir });
  const out = {
    ...server,
    stop: () => server.stop(),
    async restart() {
      server = await startClickHouse({ dataDir, httpPort: server.httpPort, tcpPort: server.tcpPort });
    },
  };
  cleanup.push(() => server.stop());
  return out;
}

export interface Recording {
  exchange: string;
  symbol: string;
  instrument: Instrument;
  recorded: RecordedTrade[];
  trades: Trade[];
}

/** A recording as normalised trades of an instrument (tick size and quantity step as the exchange gives them). */
export function recording(
  file: string,
  exchange: string,
  symbol: string,
  tickSize: string,
  quantityStep: string,
): Recording {
  const instrument = instrumentFromSteps(exchange, symbol, tickSize, quantityStep);
  const recorded = readTradeJsonl(file);
  const trades = recorded.map((r) => ({
    exchange,
    symbol,
    id: r.id,
    price: Number(units(r.price, instrument.priceScale)),
    quantity: Number(units(r.quantity, instrument.quantityScale)),
    side: r.side,
    exchangeTimeUs: r.timeMs * 1000,
    receiveTimeMs: r.timeMs,
  }));
  return { exchange, symbol, instrument, recorded, trades };
}

/** "64123.1" at scale 2 -> 6412310n: the reference's own decimal parsing (not the engine's). */
export function units(decimal: string, scale: number): bigint {
  const [int, frac = ''] = decimal.split('.');
  if (frac.length > scale && /[^0]/.test(frac.slice(scale)))
    throw new Error(`${decimal} has more than ${scale} decimals`);
  return BigInt(int! + frac.slice(0, scale).padEnd(scale, '0'));
}

/** Publishes trades the way the collector does (TradePublisher: batches, msg ids, order kept), waits for every ack. */
export async function publish(
  nc: NatsConnection,
  rec: Recording,
  trades: readonly Trade[] = rec.trades,
  batch = 500,
): Promise<void> {
  const p = new TradePublisher(jetstream(nc), { maxBatchTrades: batch, logger: silentLogger });
  for (const t of trades) p.add(rec.instrument, t);
  await p.close({ timeoutMs: 60_000 });
}

export async function ensureTradeStreams(nc: NatsConnection): Promise<void> {
  await ensureStreams(nc, { maxAgeMs: 365 * 86_400_000, maxBytes: -1, duplicateWindowMs: 120_000 });
}

/** Waits until each symbol's durable consumer has had every message delivered and acknowledged. */
export async function waitAllAcked(nc: NatsConnection, consumers: string[], timeoutMs = 120_000): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await waitFor(
    `consumers ${consumers.join(', ')} fully acknowledged`,
    async () => {
      for (const c of consumers) {
        const info = await jsm.consumers.info(TRADES_STREAM, c).catch(() => null);
        if (!info || info.num_pending > 0 || info.num_ack_pending > 0) return false;
      }
      return true;
    },
    timeoutMs,
  );
}

const TF_SECONDS: Record<string, number> = {
  '1m': 60,
  '5m': 300,
  '15m': 900,
  '30m': 1800,
  '1h': 3600,
  '4h': 14_400,
  '1d': 86_400,
};
export const TIMEFRAME_NAMES = Object.keys(TF_SECONDS);

/**
 * The reference: a direct aggregation of the recording, per timeframe, bucket and price, written
 * independently of the engine (BigInt sums of the decimal strings), each trade id once.
 * Lines: "tf bucket price buy sell buyTrades sellTrades" and "tf bucket open high low close buy sell trades".
 */
export function reference(rec: Recording): { cells: string[]; candles: string[] } {
  const seen = new Set<string>();
  const trades = rec.recorded.filter((t) => !seen.has(t.id) && seen.add(t.id));
  const cells: string[] = [];
  const candles: string[] = [];
  for (const tf of TIMEFRAME_NAMES) {
    const sec = TF_SECONDS[tf]!;
    const cellMap = new Map<string, [bigint, bigint, number, number]>();
    const candleMap = new Map<
      number,
      { o: bigint; h: bigint; l: bigint; c: bigint; b: bigint; s: bigint; n: number }
    >();
    for (const t of trades) {
      const bucket = Math.floor(t.timeMs / 1000 / sec) * sec;
      const p = units(t.price, rec.instrument.priceScale);
      const q = units(t.quantity, rec.instrument.quantityScale);
      const key = `${bucket} ${p}`;
      const c = cellMap.get(key) ?? [0n, 0n, 0, 0];
      if (t.side === 'buy') {
        c[0] += q;
        c[2]++;
      } else {
        c[1] += q;
        c[3]++;
      }
      cellMap.set(key, c);
      const k = candleMap.get(bucket);
      if (!k)
        candleMap.set(bucket, {
          o: p,
          h: p,
          l: p,
          c: p,
          b: t.side === 'buy' ? q : 0n,
          s: t.side === 'sell' ? q : 0n,
          n: 1,
        });
      else {
        if (p > k.h) k.h = p;
        if (p < k.l) k.l = p;
        k.c = p;
        if (t.side === 'buy') k.b += q;
        else k.s += q;
        k.n++;
      }
    }
    for (const [key, c] of cellMap) cells.push(`${tf} ${key} ${c[0]} ${c[1]} ${c[2]} ${c[3]}`);
    for (const [bucket, k] of candleMap)
      candles.push(`${tf} ${bucket} ${k.o} ${k.h} ${k.l} ${k.c} ${k.b} ${k.s} ${k.n}`);
  }
  return { cells: cells.sort(), candles: candles.sort() };
}

/**
 * The engine's own result (FootprintSeries over the recording, all timeframes at once), in the reference's line format.
 */
export function engineLines(rec: Recording): { cells: string[]; candles: string[] } {
  const closed: FootprintCandle[] = [];
  const series = new FootprintSeries({ timeframes: TIMEFRAMES, onClose: (c) => closed.push(c) });
  for (const t of rec.trades) series.add(t.price, t.quantity, t.side, t.exchangeTimeUs);
  series.flush();
  const cells: string[] = [];
  const candles: string[] = [];
  for (const c of closed) {
    const b = c.openTime / 1000;
    for (const l of c.sortedLevels())
      cells.push(`${c.timeframe} ${b} ${l.price} ${l.buyVolume} ${l.sellVolume} ${l.buyTrades} ${l.sellTrades}`);
    candles.push(
      `${c.timeframe} ${b} ${c.open} ${c.high} ${c.low} ${c.close} ${c.buyVolume} ${c.sellVolume} ${c.trades}`,
    );
  }
  return { cells: cells.sort(), candles: candles.sort() };
}

const SETTINGS = { enable_optimize_predicate_expression: 1 } as const;

async function tsv(ch: ClickHouseClient, query: string): Promise<string[]> {
  const rs = await ch.query({ query, format: 'TabSeparated', clickhouse_settings: SETTINGS as never });
  return (await rs.text())
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t').join(' '));
}

/** The analyst views of a symbol in the reference's line format. */
export async function readViews(
  ch: ClickHouseClient,
  db: string,
  exchange: string,
  symbol: string,
): Promise<{ cells: string[]; candles: string[] }> {
  const where = `exchange = '${exchange}' AND symbol = '${symbol}'`;
  const cells = await tsv(
    ch,
    `SELECT timeframe, toUInt32(bucket), price, toString(buy_volume), toString(sell_volume), buy_trades, sell_trades FROM ${db}.footprint WHERE ${where}`,
  );
  const candles = await tsv(
    ch,
    `SELECT timeframe, toUInt32(bucket), open, high, low, close, toString(buy_volume), toString(sell_volume), buy_trades + sell_trades FROM ${db}.candles WHERE ${where}`,
  );
  return { cells: cells.sort(), candles: candles.sort() };
}

/** The same from the raw trades table, aggregated in SQL (each trade id once). */
export async function readRawAggregation(
  ch: ClickHouseClient,
  db: string,
  exchange: string,
  symbol: string,
): Promise<string[]> {
  const out: string[] = [];
  for (const tf of TIMEFRAME_NAMES) {
    const sec = TF_SECONDS[tf]!;
    out.push(
      ...(await tsv(
        ch,
        `SELECT '${tf}', intDiv(intDiv(t, 1000000), ${sec}) * ${sec} AS bucket, p,
                toString(sumIf(toDecimal128(q, 0), s = 'b')), toString(sumIf(toDecimal128(q, 0), s = 's')), countIf(s = 'b'), countIf(s = 's')
         FROM (SELECT trade_id, any(price) AS p, any(quantity) AS q, any(side) AS s, any(exchange_time_us) AS t
               FROM ${db}.trades WHERE exchange = '${exchange}' AND symbol = '${symbol}' GROUP BY trade_id)
         GROUP BY bucket, p`,
      )),
    );
  }
  return out.sort();
}

export interface AggregatorProcess {
  child: ChildProcess;
  output: string[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The built aggregator (apps/aggregator/dist/main.js) as its own process. */
export function spawnAggregator(cleanup: Cleanup, env: Record<string, string>): AggregatorProcess {
  const child = spawn(process.execPath, [AGGREGATOR_MAIN], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (d: Buffer) => {
    output.push(d.toString());
    if (process.env['SYSTEM_TEST_LOGS']) process.stdout.write(`[agg ${env['AGG_SHARD_INDEX']}] ${d.toString()}`);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  cleanup.push(() => kill('SIGKILL'));
  return { child, output, kill };
}

export async function httpJson(url: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.json().catch(() => null) };
}
