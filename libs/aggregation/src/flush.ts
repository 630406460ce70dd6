/**
 * What is still to be written to ClickHouse: the raw trades applied since the last flush and the
 * window's changed minutes, handed out in batches; a batch written lets its minutes become
 * durable, a batch failed goes back to be written again.
 */
import type { CandleData, PriceLevel, Timeframe } from '@orderflow/footprint';
import { bucketOf, summaryOf } from './candles.js';
import type { Slot } from './minute-window.js';
import type { Rollups } from './rollups.js';
import type { IngestedTrade } from './trade-order.js';

export interface FlushBatch {
  trades: IngestedTrade[];
  minutes: CandleData[];
  /** Opaque: hand back to flushed() or flushFailed(). */
  readonly token: {
    readonly versions: ReadonlyMap<number, number>;
    readonly trades: IngestedTrade[];
  };
}

export class FlushQueue {
  private pending: IngestedTrade[] = [];

  /** Number of raw trades waiting for a flush. */
  get size(): number {
    return this.pending.length;
  }

  add(t: IngestedTrade): void {
    this.pending.push(t);
  }

  /** What to write now: the raw trades applied since the last flush and the changed minutes (complete state). */
  take(slots: ReadonlyMap<number, Slot>): FlushBatch | null {
    const versions = new Map<number, number>();
    const minutes: CandleData[] = [];
    for (const [minute, s] of slots) {
      if (!s.dirty) continue;
      s.dirty = false;
      versions.set(minute, s.candle.trades);
      for (const p of s.unwritten) s.writing.add(p);
      s.unwritten = new Set();
      minutes.push(s.candle.toData());
    }
    if (minutes.length === 0 && this.pending.length === 0) return null;
    const trades = this.pending;
    this.pending = [];
    return { trades, minutes, token: { versions, trades } };
  }

  /** The batch is in ClickHouse: its minutes are durable up to the version written. */
  written(batch: FlushBatch, slots: ReadonlyMap<number, Slot>): void {
    for (const [minute, v] of batch.token.versions) {
      const s = slots.get(minute);
      if (s && v > s.durable) s.durable = v;
      if (s) s.writing.clear();
    }
  }

  /** The batch could not be written: everything in it goes back to be written again. */
  failed(batch: FlushBatch, slots: ReadonlyMap<number, Slot>): void {
    this.pending = batch.token.trades.concat(this.pending);
    for (const minute of batch.token.versions.keys()) {
      const s = slots.get(minute);
      if (s) {
        s.dirty = true;
        for (const p of s.writing) s.unwritten.add(p);
        s.writing.clear();
      }
    }
  }
}

/**
 * The candles of `tf` that hold a minute of `slots`, ascending, each with its full summary but
 * only the levels whose values ClickHouse may not have yet (changed since the last completed
 * write): see SymbolState.recentCandles.
 */
export function unwrittenCandles(slots: ReadonlyMap<number, Slot>, rollups: Rollups, tf: Timeframe): CandleData[] {
  const buckets = new Map<number, Set<number>>();
  for (const [minute, s] of slots) {
    const b = bucketOf(minute, tf);
    let prices = buckets.get(b);
    if (!prices) buckets.set(b, (prices = new Set()));
    for (const p of s.unwritten) prices.add(p);
    for (const p of s.writing) prices.add(p);
  }
  const out: CandleData[] = [];
  for (const [b, prices] of [...buckets].sort((x, y) => x[0] - y[0])) {
    const c = rollups.bucketCandle(tf, b);
    if (c === null || c.isEmpty) continue;
    const d = { ...summaryOf(c), levels: [] as PriceLevel[] };
    for (const p of [...prices].sort((x, y) => x - y)) {
      const l = c.levels.get(p);
      if (l) d.levels.push({ ...l });
    }
    out.push(d);
  }
  return out;
}
