/**
 * What changed since the last live update, per timeframe and bucket: the buckets touched and, for
 * each, the prices changed (null: every level, e.g. after a correction or a reorder).
 */
import { FootprintCandle, type PriceLevel, TIMEFRAMES, TIMEFRAME_MS, type Timeframe } from '@orderflow/footprint';
import type { CandleSummary } from '@orderflow/contracts';
import { bucketOf, summaryOf } from './candles.js';
import type { MinuteWindow } from './minute-window.js';
import type { Rollups } from './rollups.js';

export interface LiveChange {
  timeframe: Timeframe;
  candle: CandleSummary;
  cells: PriceLevel[];
}

export class LiveChanges {
  private readonly buckets = new Map<Timeframe, Map<number, Set<number> | null>>();

  constructor(
    private readonly window: MinuteWindow,
    private readonly rollups: Rollups,
  ) {}

  /** `minute` changed at `prices` (null: every level): so did its bucket of every timeframe. */
  markMinute(minute: number, prices: Set<number> | null): void {
    for (const tf of TIMEFRAMES) this.mark(tf, bucketOf(minute, tf), prices);
  }

  /** Changes since the last call, per timeframe and candle, with the changed levels' full values. */
  take(): LiveChange[] {
    for (const [minute, s] of this.window.slots) {
      if (!s.live) continue;
      this.markMinute(minute, s.changed);
      s.live = false;
      s.changed = new Set();
    }
    const out: LiveChange[] = [];
    for (const tf of TIMEFRAMES) {
      const buckets = this.buckets.get(tf);
      if (!buckets || buckets.size === 0) continue;
      for (const [bucket, prices] of [...buckets].sort((a, b) => a[0] - b[0])) {
        const change = prices === null ? this.fullChange(tf, bucket) : this.partialChange(tf, bucket, prices);
        if (change !== null) out.push(change);
      }
      buckets.clear();
    }
    return out;
  }

  private fullChange(tf: Timeframe, bucket: number): LiveChange | null {
    const c = this.rollups.bucketCandle(tf, bucket);
    if (c === null || c.isEmpty) return null;
    return {
      timeframe: tf,
      candle: summaryOf(c),
      cells: c.sortedLevels().map((l) => ({ ...l })),
    };
  }

  /**
   * Summary and the given levels of a bucket without building the whole candle: for the current
   * bucket of a large timeframe (a day at native ticks can hold 10^5 levels) this is the
   * accumulator's level plus the window minutes' levels at each changed price.
   */
  private partialChange(tf: Timeframe, bucket: number, prices: Set<number>): LiveChange | null {
    const acc = this.rollups.accumulator(tf);
    if (acc === undefined || acc.openTime !== bucket) {
      const c = this.rollups.bucketCandle(tf, bucket);
      if (c === null || c.isEmpty) return null;
      const cells: PriceLevel[] = [];
      for (const p of [...prices].sort((a, b) => a - b)) {
        const l = c.levels.get(p);
        if (l) cells.push({ ...l });
      }
      return { timeframe: tf, candle: summaryOf(c), cells };
    }
    const slots = this.window.slots;
    const end = bucket + TIMEFRAME_MS[tf];
    const parts = [...slots.keys()]
      .filter((m) => m >= bucket && m < end)
      .sort((a, b) => a - b)
      .map((m) => slots.get(m)!.candle);
    const sum = new FootprintCandle(tf, bucket, 1, 'nearest');
    sum.append({ ...summaryOf(acc), levels: [] });
    for (const c of parts) sum.append({ ...summaryOf(c), levels: [] });
    if (sum.isEmpty) return null;
    const cells: PriceLevel[] = [];
    for (const p of [...prices].sort((a, b) => a - b)) {
      const l: PriceLevel = {
        price: p,
        buyVolume: 0,
        sellVolume: 0,
        buyTrades: 0,
        sellTrades: 0,
      };
      for (const c of [acc, ...parts]) {
        const x = c.levels.get(p);
        if (x) {
          l.buyVolume += x.buyVolume;
          l.sellVolume += x.sellVolume;
          l.buyTrades += x.buyTrades;
          l.sellTrades += x.sellTrades;
        }
      }
      if (l.buyTrades + l.sellTrades > 0) cells.push(l);
    }
    return { timeframe: tf, candle: summaryOf(sum), cells };
  }

  private mark(tf: Timeframe, bucket: number, prices: Set<number> | null): void {
    let m = this.buckets.get(tf);
    if (!m) this.buckets.set(tf, (m = new Map()));
    const prev = m.get(bucket);
    if (prev === null) return;
    if (prices === null) {
      m.set(bucket, null);
      return;
    }
    if (prev === undefined) m.set(bucket, new Set(prices));
    else for (const p of prices) prev.add(p);
  }
}
