import { invalidArgument } from './errors.js';

/** Candle timeframes. All are UTC-aligned: a bucket starts at a multiple of its length since the epoch. */
export const TIMEFRAMES = ['1m', '5m', '15m', '30m', '1h', '4h', '1d'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];

export const TIMEFRAME_MS: Readonly<Record<Timeframe, number>> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '4h': 14_400_000,
  '1d': 86_400_000,
};

export function isTimeframe(value: unknown): value is Timeframe {
  return typeof value === 'string' && (TIMEFRAMES as readonly string[]).includes(value);
}

export function parseTimeframe(value: unknown): Timeframe {
  if (!isTimeframe(value))
    throw invalidArgument(`timeframe must be one of ${TIMEFRAMES.join(', ')}, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Start (ms) of the bucket holding `timeUs`. Integer remainder instead of division so that the
 * result is exact for every safe integer input.
 */
export function bucketStartMs(timeUs: number, tf: Timeframe): number {
  const lenUs = TIMEFRAME_MS[tf] * 1000;
  const r = timeUs % lenUs;
  return (timeUs - (r < 0 ? r + lenUs : r)) / 1000;
}

/** Start (ms) of the bucket of length `tf` holding the millisecond time `timeMs`. */
export function bucketStartOfMs(timeMs: number, tf: Timeframe): number {
  const len = TIMEFRAME_MS[tf];
  const r = timeMs % len;
  return timeMs - (r < 0 ? r + len : r);
}
