/**
 * Candles of every timeframe from the minutes held. Higher timeframes: one accumulator per
 * timeframe holds the minutes of the current bucket that left the window; a candle of the bucket
 * = accumulator + the window's minutes in the bucket.
 */
import { FootprintCandle, TIMEFRAME_MS, type Timeframe } from '@orderflow/footprint';
import { HIGHER, bucketOf } from './candles.js';
import type { MinuteWindow } from './minute-window.js';

export class Rollups {
  private readonly acc = new Map<Timeframe, FootprintCandle>();
  /** The accumulators are rebuilt from the minutes before their next use. */
  private stale = false;

  constructor(private readonly window: MinuteWindow) {}

  /** A closed minute changed (a restore, a correction): rebuild the accumulators. */
  invalidate(): void {
    this.stale = true;
  }

  /**
   * The newest minute moved from `from` (-1: none) to `to`: a new bucket of a higher timeframe needs new accumulators.
   */
  advanced(from: number, to: number): void {
    if (from < 0 || HIGHER.some((tf) => bucketOf(from, tf) !== bucketOf(to, tf))) this.stale = true;
  }

  /** A minute left the window: it joins the accumulator of its bucket (unless they are rebuilt anyway). */
  absorb(minute: number, candle: FootprintCandle): void {
    if (this.stale) return;
    for (const acc of this.acc.values()) {
      if (minute >= acc.openTime && minute < acc.openTime + TIMEFRAME_MS[acc.timeframe]) acc.append(candle);
    }
  }

  /** The accumulator of `tf`'s current bucket (none for 1m). */
  accumulator(tf: Timeframe): FootprintCandle | undefined {
    if (this.stale) this.rebuild();
    return tf === '1m' ? undefined : this.acc.get(tf);
  }

  /** The candle of `tf` starting at `bucket` from what is held (null when nothing is held for it). */
  bucketCandle(tf: Timeframe, bucket: number): FootprintCandle | null {
    const w = this.window;
    if (tf === '1m') return w.minutes.get(bucket)?.clone() ?? null;
    if (this.stale) this.rebuild();
    const end = bucket + TIMEFRAME_MS[tf];
    const acc = this.acc.get(tf);
    let out: FootprintCandle;
    let inSlots: number[];
    if (acc && acc.openTime === bucket) {
      out = acc.clone();
      inSlots = [...w.slots.keys()].filter((m) => m >= bucket && m < end);
    } else {
      out = new FootprintCandle(tf, bucket, 1, 'nearest');
      inSlots = [...w.minutes.keys()].filter((m) => m >= bucket && m < end);
    }
    if (inSlots.length === 0 && out.isEmpty) return null;
    for (const m of inSlots.sort((a, b) => a - b)) out.append(w.minutes.get(m)!);
    return out;
  }

  private rebuild(): void {
    const w = this.window;
    this.stale = false;
    this.acc.clear();
    if (w.newest < 0) return;
    const ordered = [...w.minutes.keys()].filter((m) => !w.slots.has(m)).sort((a, b) => a - b);
    for (const tf of HIGHER) {
      const b = bucketOf(w.newest, tf);
      const acc = new FootprintCandle(tf, b, 1, 'nearest');
      for (const m of ordered) if (m >= b && m < b + TIMEFRAME_MS[tf]) acc.append(w.minutes.get(m)!);
      this.acc.set(tf, acc);
    }
  }
}
