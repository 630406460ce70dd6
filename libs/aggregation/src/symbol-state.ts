import {
  type CandleData,
  type FootprintCandle,
  type PriceLevel,
  type Timeframe,
  tradeRejectReason,
} from '@orderflow/footprint';
import type { InstrumentScales, SessionSummary } from '@orderflow/contracts';
import { DAY_MS, bucketOf, minuteOfUs } from './candles.js';
import { type FlushBatch, FlushQueue, unwrittenCandles } from './flush.js';
import { type LiveChange, LiveChanges } from './live-changes.js';
import { MinuteWindow, type Slot } from './minute-window.js';
import { Rollups } from './rollups.js';
import { NakedPocs, sessionSummary } from './session.js';
import type { IngestedTrade } from './trade-order.js';

export interface ApplyResult {
  applied: number;
  duplicates: number;
  /** Trades of minutes no longer held in memory: the caller merges them with the stored minute. */
  outOfWindow: IngestedTrade[];
  rejected: { trade: IngestedTrade; reason: string }[];
}

export interface SymbolStateOptions {
  exchange: string;
  symbol: string;
  scales: InstrumentScales;
  /** Closed minutes kept in memory with their trade ids, for exact dedupe of late repeats (default 5). */
  windowMinutes?: number;
}

/**
 * The state of one symbol's actor (pure: no I/O). Trades go in with apply(); the 1m candles and
 * raw trades to write come out with takeFlush(); live changes with takeLiveChanges().
 *
 * It coordinates its parts: the minutes held and the dedupe window (MinuteWindow), the candles of
 * higher timeframes (Rollups), what is still to be written (FlushQueue), what changed since the
 * last live update (LiveChanges) and the session's naked POCs (NakedPocs).
 *
 * Memory: the minutes of the current UTC day (candles only) plus, for the newest minutes (the
 * open one and `windowMinutes` before it), the ids of their trades. A repeated trade of a minute
 * in memory is dropped by id; a trade of an older minute is returned as `outOfWindow` for the
 * caller to merge with the stored minute (exact: ClickHouse keeps the raw trades). A minute
 * leaves the window only once everything it holds is durable.
 */
export class SymbolState {
  readonly exchange: string;
  readonly symbol: string;
  scales: InstrumentScales;
  private readonly window: MinuteWindow;
  private readonly rollups: Rollups;
  private readonly live: LiveChanges;
  private readonly writes = new FlushQueue();
  private readonly naked = new NakedPocs();
  counters = {
    applied: 0,
    duplicates: 0,
    outOfWindow: 0,
    rejected: 0,
    corrections: 0,
  };

  constructor(o: SymbolStateOptions) {
    this.exchange = o.exchange;
    this.symbol = o.symbol;
    this.scales = o.scales;
    this.window = new MinuteWindow(o.windowMinutes ?? 5);
    this.rollups = new Rollups(this.window);
    this.live = new LiveChanges(this.window, this.rollups);
  }

  /**
   * Rebuilds after a restart: `stored` = the day's stored 1m candles before `windowStart`,
   * `trades` = every stored raw trade from `windowStart` on (ingest order). The window's minutes
   * are rebuilt from the raw trades (exact even if a crash came between the two inserts) and
   * re-written by the next flush (same or higher version: harmless).
   */
  restore(
    windowStart: number,
    stored: readonly CandleData[],
    trades: readonly IngestedTrade[],
    priorDays: readonly { dayMs: number; levels: readonly PriceLevel[] }[] = [],
  ): void {
    this.window.restore(windowStart, stored);
    this.naked.restore(priorDays, this.scales.tick);
    for (const c of stored) this.naked.touch(c.low, c.high, c.openTime);
    for (const t of trades) {
      const minute = minuteOfUs(t.exchangeTimeUs);
      if (minute < windowStart) continue;
      const s = this.slot(minute);
      if (s.ids.has(t.id)) continue;
      this.window.accept(s, t);
      s.durable = s.trades.length;
      s.dirty = true;
      s.unwritten.add(t.price); // the stored minute row may predate these trades (a crash between the two writes)
      this.naked.touch(t.price, t.price, minute);
    }
    this.window.reorder();
    this.window.pruneDay();
    this.rollups.invalidate();
  }

  /** Applies trades in order. Never throws for bad input: invalid trades come back as rejected. */
  apply(trades: readonly IngestedTrade[]): ApplyResult {
    const r: ApplyResult = {
      applied: 0,
      duplicates: 0,
      outOfWindow: [],
      rejected: [],
    };
    for (const t of trades) {
      const reason = tradeRejectReason(t);
      if (reason !== null) {
        r.rejected.push({ trade: t, reason });
        continue;
      }
      const minute = minuteOfUs(t.exchangeTimeUs);
      let s = this.window.slots.get(minute);
      if (s === undefined) {
        if (minute < this.window.evictedBefore) {
          r.outOfWindow.push(t);
          continue;
        }
        s = this.slot(minute);
      }
      if (s.ids.has(t.id)) {
        r.duplicates++;
        continue;
      }
      this.window.accept(s, t);
      s.dirty = true;
      if (s.changed !== null) s.changed.add(t.price);
      s.unwritten.add(t.price);
      s.live = true;
      if (this.naked.size > 0) this.naked.touch(t.price, t.price, minute);
      this.writes.add(t);
      r.applied++;
    }
    this.window.reorder();
    this.counters.applied += r.applied;
    this.counters.duplicates += r.duplicates;
    this.counters.outOfWindow += r.outOfWindow.length;
    this.counters.rejected += r.rejected.length;
    return r;
  }

  /**
   * The merged state of a minute that was out of the window (computed by the caller from the
   * stored raw trades plus the new ones, and already written). Updates the day's candles.
   */
  applyCorrection(candle: FootprintCandle): void {
    if (candle.timeframe !== '1m') throw new Error('corrections are 1m candles');
    const minute = candle.openTime;
    if (this.window.slots.has(minute)) throw new Error(`minute ${minute} is in the window: apply its trades instead`);
    this.counters.corrections++;
    if (minute < this.window.dayStart() - DAY_MS) return; // too old to matter for the live state
    this.window.putClosed(candle);
    this.rollups.invalidate();
    this.live.markMinute(minute, null);
  }

  /** Number of raw trades waiting for a flush. */
  get pendingTrades(): number {
    return this.writes.size;
  }

  /** What to write now: the raw trades applied since the last flush and the changed minutes (complete state). */
  takeFlush(): FlushBatch | null {
    return this.writes.take(this.window.slots);
  }

  /** The batch is in ClickHouse: its minutes may leave the window. */
  flushed(batch: FlushBatch): void {
    this.writes.written(batch, this.window.slots);
    this.window.evict((minute, s) => {
      if (s.live) this.live.markMinute(minute, s.changed);
      this.rollups.absorb(minute, s.candle);
    });
  }

  /** The batch could not be written: everything in it goes back to be written again. */
  flushFailed(batch: FlushBatch): void {
    this.writes.failed(batch, this.window.slots);
  }

  /** The open candle of a timeframe's current bucket (with levels), or null. */
  openCandle(tf: Timeframe): FootprintCandle | null {
    if (this.window.newest < 0) return null;
    const c = this.rollups.bucketCandle(tf, bucketOf(this.window.newest, tf));
    return c === null || c.isEmpty ? null : c;
  }

  /**
   * For a snapshot: the candles of `tf` that hold a minute still in memory, ascending, each with
   * its full summary but only the levels whose values ClickHouse may not have yet (changed since
   * the last completed write). Stored rows read after this call, overlaid with these levels and
   * then with every live update of a later seq, give the exact candle (a level not in here and not
   * updated later is as stored). Small whatever the candle's size: a day at native ticks can hold
   * 10^5 levels, far beyond a NATS message.
   */
  recentCandles(tf: Timeframe): CandleData[] {
    return unwrittenCandles(this.window.slots, this.rollups, tf);
  }

  /** Changes since the last call, per timeframe and candle, with the changed levels' full values. */
  takeLiveChanges(): LiveChange[] {
    return this.live.take();
  }

  /**
   * Session (UTC day of the newest minute) metrics, with the day's exact notional (what merged
   * views divide by their summed volume). `profile` false skips the POC/VA pass (cheap summary only).
   */
  session(profile = true, previous?: SessionSummary): SessionSummary {
    const start = this.window.dayStart();
    const day = this.window.newest < 0 ? null : this.rollups.bucketCandle('1d', start);
    const notional = this.window.dayNotional(start);
    return sessionSummary(start, day, notional, this.naked.copy(), this.scales, profile, previous);
  }

  /** Minutes held in the window (with ids) and in all; for metrics. */
  get sizes(): { windowMinutes: number; dayMinutes: number; ids: number } {
    return this.window.sizes;
  }

  /**
   * The slot of `minute`, opened if absent. A newer minute may start new higher-timeframe buckets
   * and, past midnight, a new session: the one that ended keeps its POC as naked.
   */
  private slot(minute: number): Slot {
    const held = this.window.slots.get(minute);
    if (held !== undefined) return held;
    const oldDay = this.window.dayStart();
    const oldNewest = this.window.newest;
    const s = this.window.open(minute);
    if (minute > oldNewest) {
      this.rollups.advanced(oldNewest, minute);
      if (this.window.dayStart() !== oldDay) {
        if (oldNewest >= 0) this.naked.closed(oldDay, this.rollups.bucketCandle('1d', oldDay), this.scales.tick);
        this.window.pruneDay();
      }
    }
    return s;
  }
}
