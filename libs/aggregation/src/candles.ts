/**
 * Time buckets and candle arithmetic shared by the parts of a symbol's state: which minute a trade
 * falls in, which bucket of a timeframe a minute falls in, a candle's exact notional and summary.
 */
import {
  type CandleData,
  type FootprintCandle,
  type PriceLevel,
  TIMEFRAMES,
  TIMEFRAME_MS,
  type Timeframe,
} from '@orderflow/footprint';
import type { CandleSummary } from '@orderflow/contracts';

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;
/** The timeframes above 1m: each one's candle is a roll-up of minutes. */
export const HIGHER: readonly Timeframe[] = TIMEFRAMES.filter((tf) => tf !== '1m');

export const bucketOf = (ms: number, tf: Timeframe): number => ms - (ms % TIMEFRAME_MS[tf]);

/** Open time (ms) of the minute an exchange time (µs) falls in. */
export const minuteOfUs = (us: number): number => (us - (us % 60_000_000)) / 1000;

/** price * quantity summed over a candle's levels (exact; levels are exact trade prices at native ticks). */
export function notionalOf(c: FootprintCandle | CandleData): bigint {
  let n = 0n;
  const levels: Iterable<PriceLevel> = c.levels instanceof Map ? c.levels.values() : c.levels;
  for (const l of levels) n += BigInt(l.price) * BigInt(l.buyVolume + l.sellVolume);
  return n;
}

export function summaryOf(c: FootprintCandle | CandleData): CandleSummary {
  return {
    timeframe: c.timeframe,
    openTime: c.openTime,
    step: c.step,
    mode: c.mode,
    open: c.open,
    high: c.high,
    low: c.low,
    close: c.close,
    buyVolume: c.buyVolume,
    sellVolume: c.sellVolume,
    buyTrades: c.buyTrades,
    sellTrades: c.sellTrades,
    delta: c.buyVolume - c.sellVolume,
    maxDelta: c.maxDelta,
    minDelta: c.minDelta,
    firstTimeUs: c.firstTimeUs,
    lastTimeUs: c.lastTimeUs,
    onGrid: c.onGrid,
  };
}
