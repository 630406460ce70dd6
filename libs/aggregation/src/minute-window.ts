/**
 * The minutes a symbol's state holds: every minute of the current UTC day (candles only), and for
 * the newest minutes (the open one and `windowMinutes` before it) a slot with the ids of their
 * trades. A repeated trade of a minute in a slot is dropped by id; a trade of an older minute is
 * the caller's to merge with the stored minute. A minute leaves the window only once everything
 * it holds is durable.
 */
import { type CandleData, FootprintCandle } from '@orderflow/footprint';
import { DAY_MS, MINUTE_MS, notionalOf } from './candles.js';
import { type IngestedTrade, compareTrades, minuteFromTrades } from './trade-order.js';

/** A recent minute: its candle, the ids of its trades (dedupe) and what is written of it. */
export interface Slot {
  candle: FootprintCandle;
  ids: Set<string>;
  /** Its trades, to rebuild the candle when one arrives out of order. */
  trades: IngestedTrade[];
  /** The greatest trade (compareTrades) applied so far. */
  last: IngestedTrade | null;
  reorder: boolean;
  notional: bigint;
  /** Trade count known to be in ClickHouse (trades and the 1m rows). */
  durable: number;
  /** Changed since it was last handed to a flush. */
  dirty: boolean;
  /** Prices whose values are not in ClickHouse yet: changed since the last write, and in the write under way. */
  unwritten: Set<number>;
  writing: Set<number>;
  /** Prices changed since the last live update (null: every level, e.g. after a correction). */
  changed: Set<number> | null;
  live: boolean;
}

export class MinuteWindow {
  /** Every minute held (today's and the window's), by open time. */
  readonly minutes = new Map<number, FootprintCandle>();
  readonly notionals = new Map<number, bigint>();
  /** The window's minutes, by open time. */
  readonly slots = new Map<number, Slot>();
  /** Minutes before this may have left memory: their trades go to the caller (outOfWindow). */
  evictedBefore = 0;
  /** The newest minute seen. */
  newest = -1;
  private readonly windowMs: number;

  /** `windowMinutes`: closed minutes kept with their trade ids. */
  constructor(windowMinutes: number) {
    const w = windowMinutes;
    if (!Number.isInteger(w) || w < 1 || w > 1440) throw new Error(`windowMinutes must be 1..1440, got ${w}`);
    this.windowMs = w * MINUTE_MS;
  }

  /** Start of the UTC day of the newest minute (0 before any). */
  dayStart(): number {
    return this.newest < 0 ? 0 : this.newest - (this.newest % DAY_MS);
  }

  /** After a restart: the stored minutes before `windowStart`; the window starts there. */
  restore(windowStart: number, stored: readonly CandleData[]): void {
    if (this.newest >= 0) throw new Error('restore() must come before any trade');
    if (windowStart % MINUTE_MS !== 0) throw new Error('windowStart must be a whole minute');
    for (const d of stored) {
      if (d.openTime >= windowStart) continue;
      this.minutes.set(d.openTime, FootprintCandle.fromData(d));
      this.notionals.set(d.openTime, notionalOf(d));
      this.newest = Math.max(this.newest, d.openTime);
    }
    this.evictedBefore = windowStart;
  }

  /** A minute outside the window, held as it is given (a merged correction). */
  putClosed(candle: FootprintCandle): void {
    this.minutes.set(candle.openTime, candle);
    this.notionals.set(candle.openTime, notionalOf(candle));
  }

  /** A new slot for `minute` (not in the window yet); the newest minute moves up to it. */
  open(minute: number): Slot {
    const candle = new FootprintCandle('1m', minute, 1, 'nearest');
    const s: Slot = {
      candle,
      ids: new Set(),
      trades: [],
      last: null,
      reorder: false,
      notional: 0n,
      durable: 0,
      dirty: false,
      unwritten: new Set(),
      writing: new Set(),
      changed: new Set(),
      live: false,
    };
    this.slots.set(minute, s);
    this.minutes.set(minute, candle);
    if (minute > this.newest) this.newest = minute;
    return s;
  }

  /** Adds a trade (not in the slot yet) to its slot; one older than the slot's latest marks it for reorder(). */
  accept(s: Slot, t: IngestedTrade): void {
    s.ids.add(t.id);
    s.trades.push(t);
    s.notional += BigInt(t.price) * BigInt(t.quantity);
    if (s.last !== null && compareTrades(t, s.last) < 0) {
      s.reorder = true; // an older trade after a newer one: rebuilt in order by reorder()
      return;
    }
    s.last = t;
    if (!s.reorder) s.candle.add(t.price, t.quantity, t.side, t.exchangeTimeUs);
  }

  /** Rebuilds, in compareTrades order, the minutes that received a trade out of order. */
  reorder(): void {
    for (const [minute, s] of this.slots) {
      if (!s.reorder) continue;
      s.reorder = false;
      s.candle = minuteFromTrades(minute, s.trades);
      s.last = s.trades.reduce((a, b) => (compareTrades(a, b) >= 0 ? a : b));
      this.minutes.set(minute, s.candle);
      s.changed = null;
      s.live = true;
    }
  }

  /**
   * Moves durable minutes older than the window out of it, oldest first; `left` is called for
   * each one (its slot as it was) after it left.
   */
  evict(left: (minute: number, s: Slot) => void): void {
    const limit = this.newest - this.windowMs;
    const order = [...this.slots.keys()].sort((a, b) => a - b);
    for (const minute of order) {
      if (minute >= limit) break;
      const s = this.slots.get(minute)!;
      if (s.dirty || s.durable < s.candle.trades) break;
      this.slots.delete(minute);
      // a closed minute keeps its levels but not the builder's index (a 512-slot array per candle)
      this.minutes.set(minute, FootprintCandle.fromData(s.candle.toData()));
      this.notionals.set(minute, s.notional);
      this.evictedBefore = minute + MINUTE_MS;
      left(minute, s);
    }
    const first = [...this.slots.keys()].reduce((a, b) => Math.min(a, b), Infinity);
    const next = Math.min(first, limit - (limit % MINUTE_MS));
    if (next > this.evictedBefore) this.evictedBefore = next;
    this.pruneDay();
  }

  /**
   * Drops candles of earlier days that are out of the window (the day before stays until the window passes midnight).
   */
  pruneDay(): void {
    const keepFrom = Math.min(this.dayStart(), this.evictedBefore - (this.evictedBefore % DAY_MS));
    for (const minute of this.minutes.keys()) {
      if (minute < keepFrom && !this.slots.has(minute)) {
        this.minutes.delete(minute);
        this.notionals.delete(minute);
      }
    }
  }

  /** Exact notional of the UTC day starting at `start`: closed minutes' and the window's. */
  dayNotional(start: number): bigint {
    let notional = 0n;
    for (const [minute, n] of this.notionals)
      if (minute >= start && minute < start + DAY_MS && !this.slots.has(minute)) notional += n;
    for (const [minute, s] of this.slots) if (minute >= start && minute < start + DAY_MS) notional += s.notional;
    return notional;
  }

  /** Minutes held in the window (with ids) and in all; for metrics. */
  get sizes(): { windowMinutes: number; dayMinutes: number; ids: number } {
    let ids = 0;
    for (const s of this.slots.values()) ids += s.ids.size;
    return {
      windowMinutes: this.slots.size,
      dayMinutes: this.minutes.size,
      ids,
    };
  }
}
