/**
 * The input streams of the proof suite, built from the real LTCUSDT recording, and their ground
 * truth. The recording is parsed here with its own few lines of code (not the simulator's parser,
 * not the engine) and written back as `aggtrade-csv` files that the simulator's CLI replays.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { instrumentFromSteps } from '@orderflow/footprint';
import type { Recording } from '../aggregator-support.js';
import { type RecordedTrade, SHARED_DATA } from '../support.js';

export const LTC_FILE = 'binance-spot_LTCUSDT_aggtrade-ws_2025-06-21T12_2025-06-22T19.csv';
export const EXCHANGE = 'sim-binance';
export const TICK = '0.01';
export const STEP = '0.001';

export interface StreamTrade extends RecordedTrade {
  idNum: number;
}

let cached: StreamTrade[] | null = null;

/** The recording as it is: 149,944 trades, ascending aggregate ids with 25 real holes (950 ids). */
export function ltcRecording(): StreamTrade[] {
  if (cached) return cached;
  const lines = readFileSync(SHARED_DATA + LTC_FILE, 'utf8')
    .trim()
    .split('\n');
  const out: StreamTrade[] = [];
  for (const line of lines.slice(1)) {
    const [ts, price, quantity, side, id] = line.split(',');
    if (side !== 'buy' && side !== 'sell') throw new Error(`bad side in ${line}`);
    out.push({ id: id!, idNum: Number(id), price: price!, quantity: quantity!, side, timeMs: Number(ts) });
  }
  cached = out;
  return out;
}

/** The recording's id holes inside [from, to) as [index, missing ids]. */
export function holes(trades: readonly StreamTrade[]): [number, number][] {
  const h: [number, number][] = [];
  for (let i = 1; i < trades.length; i++)
    if (trades[i]!.idNum !== trades[i - 1]!.idNum + 1) h.push([i, trades[i]!.idNum - trades[i - 1]!.idNum - 1]);
  return h;
}

export interface StreamSpec {
  /** slice of the recording: [from, to) */
  from: number;
  to: number;
  /** copies of the slice, one after the other */
  copies: number;
  /** true: the recording's own id holes stay (REST cannot fill them); false: ids renumbered contiguously */
  keepHoles: boolean;
  /** added to every time (ms), e.g. to move the stream to another day */
  timeShiftMs?: number;
}

/**
 * Copy k of the slice: ids + k × (id span of the slice), times + k × (time span of the slice +
 * 60 s), so that the copies follow each other as one longer stream, ids ascending and contiguous
 * across copies, times non-decreasing. With keepHoles false the ids are renumbered
 * first (the i-th trade of the slice gets first id + i), so the only holes are the ones a test makes.
 */
export function buildStream(spec: StreamSpec): StreamTrade[] {
  const slice = ltcRecording().slice(spec.from, spec.to);
  const base = slice.map((t, i) =>
    spec.keepHoles ? t : { ...t, idNum: slice[0]!.idNum + i, id: String(slice[0]!.idNum + i) },
  );
  const idSpan = base.at(-1)!.idNum - base[0]!.idNum + 1;
  const timeSpan = base.at(-1)!.timeMs - base[0]!.timeMs + 60_000;
  const out: StreamTrade[] = [];
  for (let k = 0; k < spec.copies; k++) {
    for (const t of base) {
      const idNum = t.idNum + k * idSpan;
      out.push({ ...t, idNum, id: String(idNum), timeMs: t.timeMs + k * timeSpan + (spec.timeShiftMs ?? 0) });
    }
  }
  return out;
}

/** Writes trades as the simulator's `aggtrade-csv` (file name carries the symbol). */
export function writeReplayFile(dir: string, symbol: string, trades: readonly StreamTrade[]): string {
  const file = join(dir, `binance-spot_${symbol}_aggtrade-ws_proof.csv`);
  const chunks: string[] = ['timestamp,price,quantity,side,tradeId'];
  for (const t of trades) chunks.push(`${t.timeMs},${t.price},${t.quantity},${t.side},${t.id}`);
  writeFileSync(file, chunks.join('\n') + '\n');
  return file;
}

/** A stream as the Recording that `reference()` aggregates. */
export function asRecording(symbol: string, trades: readonly StreamTrade[]): Recording {
  const instrument = instrumentFromSteps(EXCHANGE, symbol, TICK, STEP);
  return { exchange: EXCHANGE, symbol, instrument, recorded: [...trades] as RecordedTrade[], trades: [] };
}

/**
 * The stream of `spec` moved in time by whole minutes so that its point at `at` (0..1) lies
 * `minutesAgo` before now, replayed under each of `symbols`. Why: the collector's start-up backfill
 * reaches at most 24 h back from the wall clock, and the live views ask for the latest candles.
 */
export function marketsNearNow(
  spec: StreamSpec,
  symbols: readonly string[],
  at: number,
  minutesAgo: number,
): { symbol: string; trades: StreamTrade[] }[] {
  const raw = buildStream(spec);
  const anchor = raw[Math.min(raw.length - 1, Math.floor(raw.length * at))]!.timeMs;
  const shift = Math.round((Date.now() - minutesAgo * 60_000 - anchor) / 60_000) * 60_000;
  const trades = raw.map((t) => ({ ...t, timeMs: t.timeMs + shift }));
  return symbols.map((symbol) => ({ symbol, trades }));
}
