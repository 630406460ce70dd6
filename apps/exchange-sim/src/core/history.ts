import type { SimTrade } from '../trade.js';

/**
 * The trades a market has produced so far (sent on the WebSocket or skipped), oldest first,
 * bounded to the newest `limit`. Served by the REST endpoints so that clients can backfill.
 * Ids and times are ascending (recordings and the generator guarantee it), so lookups are binary searches.
 */
export class TradeHistory {
  private buf: SimTrade[] = [];
  private head = 0;

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`history limit must be >= 1, got ${limit}`);
  }

  get size(): number {
    return this.buf.length - this.head;
  }

  /** The i-th retained trade, 0 = oldest. */
  at(i: number): SimTrade | undefined {
    return i >= 0 ? this.buf[this.head + i] : undefined;
  }

  first(): SimTrade | undefined {
    return this.at(0);
  }

  last(): SimTrade | undefined {
    return this.at(this.size - 1);
  }

  push(trades: readonly SimTrade[]): void {
    for (let i = 0; i < trades.length; i++) this.buf.push(trades[i]!);
    const excess = this.size - this.limit;
    if (excess > 0) this.head += excess;
    if (this.head > 4096 && this.head > this.buf.length / 2) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
  }

  /** Retained trades [from, to) by index, oldest first. */
  slice(from: number, to: number): SimTrade[] {
    const a = Math.max(0, from);
    const b = Math.min(this.size, to);
    return b > a ? this.buf.slice(this.head + a, this.head + b) : [];
  }

  /** Index of the first trade with id >= `id` (size if none). */
  lowerBoundId(id: number): number {
    return this.lowerBound((t) => t.id < id);
  }

  /** Index of the first trade with time >= `time` (size if none). */
  lowerBoundTime(time: number): number {
    return this.lowerBound((t) => t.time < time);
  }

  private lowerBound(before: (t: SimTrade) => boolean): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(this.buf[this.head + mid]!)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
