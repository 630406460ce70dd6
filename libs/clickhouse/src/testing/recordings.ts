/**
 * Real recorded trades for the ClickHouse integration specs (not exported from the package).
 * The LTCUSDT recording (Binance spot aggTrades, 2025-06-21 12:04 to 2025-06-22 19:03 UTC) spans
 * two UTC days and has real id gaps (WebSocket drops of the original recorder).
 */
import { existsSync, readFileSync } from 'node:fs';
import { FootprintSeries, parseFixed, type CandleData, type FootprintCandle } from '@orderflow/footprint';
import type { IngestedTrade } from '../footprint.store.js';

export const LTC_FILE = new URL(
  '../../../../../shared/data/binance-spot_LTCUSDT_aggtrade-ws_2025-06-21T12_2025-06-22T19.csv',
  import.meta.url,
).pathname;
export const haveLtc = existsSync(LTC_FILE);
/**
 * Options of a describe that needs the LTCUSDT recording: skipped without it, saying why (vitest.shared.ts prints it
 * once; CI fails on it).
 */
export const needsLtc = {
  skip: !haveLtc,
  meta: { skipReason: `${LTC_FILE} is missing (the recordings exist only on the project's machines)` },
};
export const LTC = { exchange: 'binance', symbol: 'LTCUSDT', priceScale: 2, quantityScale: 3, tick: 1 } as const;

/** An id gap of the recording: the ids between two consecutive trades, and those trades' times. */
export interface RecordedGap {
  fromId: string;
  toId: string;
  missing: number;
  fromTimeUs: number;
  toTimeUs: number;
}

export interface Recording {
  /** In file order (= id order = time order), ingestSeq = (1 + batch) * 65536 + index, batches of 100. */
  trades: IngestedTrade[];
  gaps: RecordedGap[];
}

export function ingestSeqOf(i: number): number {
  return (1 + Math.floor(i / 100)) * 65536 + (i % 100);
}

/** The LTCUSDT recording as trades (price scale 2, quantity scale 3, ms times as µs) and its id gaps. */
export function loadLtc(): Recording {
  const lines = readFileSync(LTC_FILE, 'utf8').trim().split(/\r?\n/).slice(1); // CRLF line ends
  const trades: IngestedTrade[] = [];
  const gaps: RecordedGap[] = [];
  let prev: { id: number; timeUs: number } | null = null;
  for (const line of lines) {
    const [ms, price, qty, side, id] = line.split(',');
    const timeUs = Number(ms) * 1000;
    const n = Number(id);
    if (side !== 'buy' && side !== 'sell') throw new Error(`bad side in ${line}`);
    if (!/^\d+$/.test(id ?? '')) throw new Error(`bad trade id in ${line}`);
    if (prev && n > prev.id + 1)
      gaps.push({
        fromId: String(prev.id + 1),
        toId: String(n - 1),
        missing: n - prev.id - 1,
        fromTimeUs: prev.timeUs,
        toTimeUs: timeUs,
      });
    prev = { id: n, timeUs };
    trades.push({
      exchange: LTC.exchange,
      symbol: LTC.symbol,
      id: String(id),
      price: parseFixed(price!, LTC.priceScale),
      quantity: parseFixed(qty!, LTC.quantityScale),
      side,
      exchangeTimeUs: timeUs,
      receiveTimeMs: Number(ms),
      ingestSeq: ingestSeqOf(trades.length),
    });
  }
  return { trades, gaps };
}

/** The engine's 1m candles (native ticks) of some trades, in time order. */
export function minutesOf(trades: readonly IngestedTrade[]): CandleData[] {
  const out: FootprintCandle[] = [];
  const series = new FootprintSeries({ timeframes: ['1m'], onClose: (c) => out.push(c) });
  for (const t of trades) series.add(t.price, t.quantity, t.side, t.exchangeTimeUs);
  series.flush();
  return out.map((c) => c.toData());
}
