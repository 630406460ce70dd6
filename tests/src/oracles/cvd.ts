/**
 * Cumulative volume delta across candles, from README ("cumulative delta across candles,
 * optionally reset each session (UTC day or any offset/length), with its intra-candle high/low")
 * and the doc comments of cumulativeDelta in libs/footprint/src/orderflow.ts: per candle, delta =
 * buy − sell; cvd = the sum of the deltas so far (since the session start when resetting);
 * cvdOpen = cvd before the candle; cvdHigh / cvdLow = cvdOpen + the highest / lowest running delta
 * after each of the candle's trades.
 */
import type { RefCandle } from './candles.js';
import { type Session, sessionOf, toSafe } from './units.js';

export interface RefCvdPoint {
  openTime: number;
  delta: number;
  cvd: number;
  cvdOpen: number;
  cvdHigh: number;
  cvdLow: number;
}

export function cvdPoints(
  candles: readonly RefCandle[],
  options: { resetEachSession?: boolean; session?: Session } = {},
): RefCvdPoint[] {
  let cvd = 0n;
  let session: number | null = null;
  return candles.map((c) => {
    if (options.resetEachSession && sessionOf(c.openTime, options.session) !== session) {
      session = sessionOf(c.openTime, options.session);
      cvd = 0n;
    }
    const before = cvd;
    const delta = c.buy - c.sell;
    cvd += delta;
    return {
      openTime: c.openTime,
      delta: toSafe(delta),
      cvd: toSafe(cvd),
      cvdOpen: toSafe(before),
      cvdHigh: toSafe(before + c.maxDelta),
      cvdLow: toSafe(before + c.minDelta),
    };
  });
}
