import {
  type CandleData,
  FootprintCandle,
  type PriceLevel,
  TIMEFRAMES,
  TIMEFRAME_MS,
  type Timeframe,
  type Trade,
  buildProfile,
  profileMetrics,
  tradeRejectReason,
} from '@orderflow/footprint';
import {
  type CandleSummary,
  type InstrumentScales,
  type SessionSummary,
  sessionVwap,
} from '@orderflow/contracts';

/** A trade as the aggregator applied it: `ingestSeq` orders trades of one symbol as they were applied. */
export interface IngestedTrade extends Trade {
  /** JetStream stream sequence * 65536 + index in its batch (a safe integer). */
  readonly ingestSeq: number;
}

export const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const HIGHER: readonly Timeframe[] = TIMEFRAMES.filter((tf) => tf !== '1m');

export const bucketOf = (ms: number, tf: Timeframe): number =>
  ms - (ms % TIMEFRAME_MS[tf]);

/** Open time (ms) of the minute an exchange time (µs) falls in. */
export const minuteOfUs = (us: number): number =>
  (us - (us % 60_000_000)) / 1000;

/** price * quantity summed over a candle's levels (exact; levels are exact trade prices at native ticks). */
export function notionalOf(c: FootprintCandle | CandleData): bigint {
  let n = 0n;
  const levels: Iterable<PriceLevel> =
    c.levels instanceof Map ? c.levels.values() : c.levels;
  for (const l of levels)
    n += BigInt(l.price) * BigInt(l.buyVolume + l.sellVolume);
  return n;
}

/** Trade ids in exchange order: numerically when both are integers (Binance, OKX), else as text (Bybit UUIDs). */
export function compareIds(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an !== bn) return an ? -1 : 1; // integers first (a feed never mixes the two)
  if (an) {
    const x = a.replace(/^0+(?=\d)/, '');
    const y = b.replace(/^0+(?=\d)/, '');
    if (x.length !== y.length) return x.length - y.length;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The order trades are applied in within a candle: exchange time, then id. It depends only on
 * the trades, never on how they were delivered (redeliveries, replays, a restart), so the same
 * set of trades always gives the same candle, open and close and delta extremes included.
 */
export function compareTrades(a: Trade, b: Trade): number {
  return a.exchangeTimeUs - b.exchangeTimeUs || compareIds(a.id, b.id);
}

/** A 1m candle of a set of trades (each id once), applied in compareTrades order. */
export function minuteFromTrades(
  minute: number,
  trades: Iterable<Trade>,
): FootprintCandle {
  const c = new FootprintCandle('1m', minute, 1, 'nearest');
  for (const t of [...trades].sort(compareTrades))
    c.add(t.price, t.quantity, t.side, t.exchangeTimeUs);
  return c;
}

function rangeOf(levels: readonly PriceLevel[]): { low: number; high: number } {
  let low = Infinity;
  let high = -Infinity;
  for (const l of levels) {
    if (l.price < low) low = l.price;
    if (l.price > high) high = l.price;
  }
  return { low, high };
}

/** The POC of a session's levels (native ticks) grouped to `step`, by the engine's rules (profileMetrics). */
export function pocOf(
  levels: readonly PriceLevel[],
  step: number,
): number | null {
  if (levels.length === 0) return null;
  const c = FootprintCandle.fromData({
    timeframe: '1d',
    openTime: 0,
    step: 1,
    mode: 'nearest',
    open: 0,
    high: 0,
    low: 0,
    close: 0,
    buyVolume: 0,
    sellVolume: 0,
    buyTrades: 0,
    sellTrades: 0,
    delta: 0,
    maxDelta: 0,
    minDelta: 0,
    firstTimeUs: 0,
    lastTimeUs: 0,
    onGrid: true,
    levels: [...levels].sort((a, b) => a.price - b.price),
  });
  return profileMetrics(buildProfile([c], { step })).poc;
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

/** A recent minute: its candle, the ids of its trades (dedupe) and what is written of it. */
interface Slot {
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

export interface ApplyResult {
  applied: number;
  duplicates: number;
  /** Trades of minutes no longer held in memory: the caller merges them with the stored minute. */
  outOfWindow: IngestedTrade[];
  rejected: { trade: IngestedTrade; reason: string }[];
}

export interface FlushBatch {
  trades: IngestedTrade[];
  minutes: CandleData[];
  /** Opaque: hand back to flushed() or flushFailed(). */
  readonly token: {
    readonly versions: ReadonlyMap<number, number>;
    readonly trades: IngestedTrade[];
  };
}

export interface LiveChange {
  timeframe: Timeframe;
  candle: CandleSummary;
  cells: PriceLevel[];
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
 * Memory: the minutes of the current UTC day (candles only) plus, for the newest minutes (the
 * open one and `windowMinutes` before it), the ids of their trades. A repeated trade of a minute
 * in memory is dropped by id; a trade of an older minute is returned as `outOfWindow` for the
 * caller to merge with the stored minute (exact: ClickHouse keeps the raw trades). A minute
 * leaves the window only once everything it holds is durable.
 *
 * Higher timeframes: one accumulator per timeframe holds the minutes of the current bucket that
 * left the window; a candle of the bucket = accumulator + the window's minutes in the bucket.
 */
export class SymbolState {
  readonly exchange: string;
  readonly symbol: string;
  scales: InstrumentScales;
  private readonly windowMs: number;
  /** Every minute held (today's and the window's), by open time. */
  private readonly minutes = new Map<number, FootprintCandle>();
  private readonly notionals = new Map<number, bigint>();
  private readonly slots = new Map<number, Slot>();
  /** Minutes before this may have left memory: their trades go to the caller (outOfWindow). */
  private evictedBefore = 0;
  /** The newest minute seen. */
  private newest = -1;
  private readonly acc = new Map<Timeframe, FootprintCandle>();
  private accDirty = false;
  private pending: IngestedTrade[] = [];
  private readonly liveBuckets = new Map<
    Timeframe,
    Map<number, Set<number> | null>
  >();
  /** POCs of earlier sessions not traded through since, oldest first (at most 64 kept). */
  private naked: { sessionStartMs: number; price: number }[] = [];
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
    const w = o.windowMinutes ?? 5;
    if (!Number.isInteger(w) || w < 1 || w > 1440)
      throw new Error(`windowMinutes must be 1..1440, got ${w}`);
    this.windowMs = w * MINUTE_MS;
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
    if (this.newest >= 0)
      throw new Error('restore() must come before any trade');
    if (windowStart % MINUTE_MS !== 0)
      throw new Error('windowStart must be a whole minute');
    for (const d of stored) {
      if (d.openTime >= windowStart) continue;
      this.minutes.set(d.openTime, FootprintCandle.fromData(d));
      this.notionals.set(d.openTime, notionalOf(d));
      this.newest = Math.max(this.newest, d.openTime);
    }
    this.evictedBefore = windowStart;
    // earlier sessions: each one's POC is naked unless a later session's range covers it
    const days = [...priorDays]
      .filter((d) => d.levels.length > 0)
      .sort((a, b) => a.dayMs - b.dayMs);
    for (const [i, d] of days.entries()) {
      const poc = pocOf(d.levels, this.scales.tick);
      if (poc === null) continue;
      if (
        days.slice(i + 1).some((later) => {
          const r = rangeOf(later.levels);
          return r.low <= poc && poc <= r.high;
        })
      )
        continue;
      this.naked.push({ sessionStartMs: d.dayMs, price: poc });
    }
    for (const c of stored) this.touch(c.low, c.high, c.openTime);
    for (const t of trades) {
      const minute = minuteOfUs(t.exchangeTimeUs);
      if (minute < windowStart) continue;
      const s = this.slot(minute);
      if (s.ids.has(t.id)) continue;
      this.accept(s, t);
      s.durable = s.trades.length;
      s.dirty = true;
      s.unwritten.add(t.price); // the stored minute row may predate these trades (a crash between the two writes)
      this.touch(t.price, t.price, minute);
    }
    this.reorderSlots();
    this.pruneDay();
    this.accDirty = true;
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
      let s = this.slots.get(minute);
      if (s === undefined) {
        if (minute < this.evictedBefore) {
          r.outOfWindow.push(t);
          continue;
        }
        s = this.slot(minute);
      }
      if (s.ids.has(t.id)) {
        r.duplicates++;
        continue;
      }
      this.accept(s, t);
      s.dirty = true;
      if (s.changed !== null) s.changed.add(t.price);
      s.unwritten.add(t.price);
      s.live = true;
      if (this.naked.length > 0) this.touch(t.price, t.price, minute);
      this.pending.push(t);
      r.applied++;
    }
    this.reorderSlots();
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
    if (candle.timeframe !== '1m')
      throw new Error('corrections are 1m candles');
    const minute = candle.openTime;
    if (this.slots.has(minute))
      throw new Error(
        `minute ${minute} is in the window: apply its trades instead`,
      );
    this.counters.corrections++;
    if (minute < this.dayStart() - DAY_MS) return; // too old to matter for the live state
    this.minutes.set(minute, candle);
    this.notionals.set(minute, notionalOf(candle));
    this.accDirty = true;
    for (const tf of TIMEFRAMES) this.markLive(tf, bucketOf(minute, tf), null);
  }

  /** Number of raw trades waiting for a flush. */
  get pendingTrades(): number {
    return this.pending.length;
  }

  /** What to write now: the raw trades applied since the last flush and the changed minutes (complete state). */
  takeFlush(): FlushBatch | null {
    const versions = new Map<number, number>();
    const minutes: CandleData[] = [];
    for (const [minute, s] of this.slots) {
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

  /** The batch is in ClickHouse: its minutes may leave the window. */
  flushed(batch: FlushBatch): void {
    for (const [minute, v] of batch.token.versions) {
      const s = this.slots.get(minute);
      if (s && v > s.durable) s.durable = v;
      if (s) s.writing.clear();
    }
    this.evict();
  }

  /** The batch could not be written: everything in it goes back to be written again. */
  flushFailed(batch: FlushBatch): void {
    this.pending = batch.token.trades.concat(this.pending);
    for (const minute of batch.token.versions.keys()) {
      const s = this.slots.get(minute);
      if (s) {
        s.dirty = true;
        for (const p of s.writing) s.unwritten.add(p);
        s.writing.clear();
      }
    }
  }

  /** The open candle of each kept minute... of a timeframe's current bucket (with levels), or null. */
  openCandle(tf: Timeframe): FootprintCandle | null {
    if (this.newest < 0) return null;
    const c = this.bucketCandle(tf, bucketOf(this.newest, tf));
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
    const buckets = new Map<number, Set<number>>();
    for (const [minute, s] of this.slots) {
      const b = bucketOf(minute, tf);
      let prices = buckets.get(b);
      if (!prices) buckets.set(b, (prices = new Set()));
      for (const p of s.unwritten) prices.add(p);
      for (const p of s.writing) prices.add(p);
    }
    const out: CandleData[] = [];
    for (const [b, prices] of [...buckets].sort((x, y) => x[0] - y[0])) {
      const c = this.bucketCandle(tf, b);
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

  /** Changes since the last call, per timeframe and candle, with the changed levels' full values. */
  takeLiveChanges(): LiveChange[] {
    for (const [minute, s] of this.slots) {
      if (!s.live) continue;
      for (const tf of TIMEFRAMES)
        this.markLive(tf, bucketOf(minute, tf), s.changed);
      s.live = false;
      s.changed = new Set();
    }
    const out: LiveChange[] = [];
    for (const tf of TIMEFRAMES) {
      const buckets = this.liveBuckets.get(tf);
      if (!buckets || buckets.size === 0) continue;
      for (const [bucket, prices] of [...buckets].sort((a, b) => a[0] - b[0])) {
        const change =
          prices === null
            ? this.fullChange(tf, bucket)
            : this.partialChange(tf, bucket, prices);
        if (change !== null) out.push(change);
      }
      buckets.clear();
    }
    return out;
  }

  /**
   * Session (UTC day of the newest minute) metrics, with the day's exact notional (what merged
   * views divide by their summed volume). `profile` false skips the POC/VA pass (cheap summary only).
   */
  session(profile = true, previous?: SessionSummary): SessionSummary {
    const start = this.dayStart();
    const day = this.newest < 0 ? null : this.bucketCandle('1d', start);
    let notional = 0n;
    for (const [minute, n] of this.notionals)
      if (minute >= start && minute < start + DAY_MS && !this.slots.has(minute))
        notional += n;
    for (const [minute, s] of this.slots)
      if (minute >= start && minute < start + DAY_MS) notional += s.notional;
    const nakedPocs = this.naked.map((n) => ({ ...n }));
    if (day === null || day.isEmpty)
      return {
        startMs: start,
        poc: null,
        vah: null,
        val: null,
        vwap: null,
        notional: '0',
        cvd: 0,
        volume: 0,
        trades: 0,
        nakedPocs,
      };
    let poc = previous?.startMs === start ? previous.poc : null;
    let vah = previous?.startMs === start ? previous.vah : null;
    let val = previous?.startMs === start ? previous.val : null;
    if (profile) {
      const m = profileMetrics(buildProfile([day], { step: this.scales.tick }));
      poc = m.poc;
      vah = m.valueAreaHigh;
      val = m.valueAreaLow;
    }
    return {
      startMs: start,
      poc,
      vah,
      val,
      vwap: sessionVwap(notional, day.volume, this.scales.priceScale),
      notional: notional.toString(),
      cvd: day.delta,
      volume: day.volume,
      trades: day.trades,
      nakedPocs,
    };
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

  // ---------------------------------------------------------------------------------------------

  /** A session ended: its POC is naked until a later trade reaches it. */
  private closeSession(dayMs: number): void {
    const day = this.bucketCandle('1d', dayMs);
    if (day === null || day.isEmpty) return;
    const poc = pocOf(day.sortedLevels(), this.scales.tick);
    if (poc === null) return;
    this.naked.push({ sessionStartMs: dayMs, price: poc });
    if (this.naked.length > 64) this.naked.shift();
  }

  /** Trades at low..high at `atMs`: POCs of earlier sessions in that range are no longer naked. */
  private touch(low: number, high: number, atMs: number): void {
    if (this.naked.length === 0) return;
    this.naked = this.naked.filter(
      (n) =>
        !(
          atMs >= n.sessionStartMs + DAY_MS &&
          low <= n.price &&
          n.price <= high
        ),
    );
  }

  private dayStart(): number {
    return this.newest < 0 ? 0 : this.newest - (this.newest % DAY_MS);
  }

  private accept(s: Slot, t: IngestedTrade): void {
    s.ids.add(t.id);
    s.trades.push(t);
    s.notional += BigInt(t.price) * BigInt(t.quantity);
    if (s.last !== null && compareTrades(t, s.last) < 0) {
      s.reorder = true; // an older trade after a newer one: rebuilt in order below
      return;
    }
    s.last = t;
    if (!s.reorder) s.candle.add(t.price, t.quantity, t.side, t.exchangeTimeUs);
  }

  /** Rebuilds, in compareTrades order, the minutes that received a trade out of order. */
  private reorderSlots(): void {
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

  private slot(minute: number): Slot {
    let s = this.slots.get(minute);
    if (s !== undefined) return s;
    const candle = new FootprintCandle('1m', minute, 1, 'nearest');
    s = {
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
    if (minute > this.newest) {
      const oldDay = this.dayStart();
      const oldNewest = this.newest;
      this.newest = minute;
      if (
        oldNewest < 0 ||
        HIGHER.some((tf) => bucketOf(oldNewest, tf) !== bucketOf(minute, tf))
      )
        this.accDirty = true;
      if (this.dayStart() !== oldDay) {
        if (oldNewest >= 0) this.closeSession(oldDay);
        this.pruneDay();
      }
    }
    return s;
  }

  /** Moves durable minutes older than the window out of it, oldest first. */
  private evict(): void {
    const limit = this.newest - this.windowMs;
    const order = [...this.slots.keys()].sort((a, b) => a - b);
    for (const minute of order) {
      if (minute >= limit) break;
      const s = this.slots.get(minute)!;
      if (s.dirty || s.durable < s.candle.trades) break;
      if (s.live)
        for (const tf of TIMEFRAMES)
          this.markLive(tf, bucketOf(minute, tf), s.changed);
      this.slots.delete(minute);
      // a closed minute keeps its levels but not the builder's index (a 512-slot array per candle)
      this.minutes.set(minute, FootprintCandle.fromData(s.candle.toData()));
      this.notionals.set(minute, s.notional);
      this.evictedBefore = minute + MINUTE_MS;
      if (!this.accDirty) {
        for (const acc of this.acc.values()) {
          if (
            minute >= acc.openTime &&
            minute < acc.openTime + TIMEFRAME_MS[acc.timeframe]
          )
            acc.append(s.candle);
        }
      }
    }
    const first = [...this.slots.keys()].reduce(
      (a, b) => Math.min(a, b),
      Infinity,
    );
    const next = Math.min(first, limit - (limit % MINUTE_MS));
    if (next > this.evictedBefore) this.evictedBefore = next;
    this.pruneDay();
  }

  /** Drops candles of earlier days that are out of the window (the day before stays until the window passes midnight). */
  private pruneDay(): void {
    const keepFrom = Math.min(
      this.dayStart(),
      this.evictedBefore - (this.evictedBefore % DAY_MS),
    );
    for (const minute of this.minutes.keys()) {
      if (minute < keepFrom && !this.slots.has(minute)) {
        this.minutes.delete(minute);
        this.notionals.delete(minute);
      }
    }
  }

  private rebuildAcc(): void {
    this.accDirty = false;
    this.acc.clear();
    if (this.newest < 0) return;
    const ordered = [...this.minutes.keys()]
      .filter((m) => !this.slots.has(m))
      .sort((a, b) => a - b);
    for (const tf of HIGHER) {
      const b = bucketOf(this.newest, tf);
      const acc = new FootprintCandle(tf, b, 1, 'nearest');
      for (const m of ordered)
        if (m >= b && m < b + TIMEFRAME_MS[tf])
          acc.append(this.minutes.get(m)!);
      this.acc.set(tf, acc);
    }
  }

  /** The candle of `tf` starting at `bucket` from what is held (null when nothing is held for it). */
  private bucketCandle(tf: Timeframe, bucket: number): FootprintCandle | null {
    if (tf === '1m') return this.minutes.get(bucket)?.clone() ?? null;
    if (this.accDirty) this.rebuildAcc();
    const end = bucket + TIMEFRAME_MS[tf];
    const acc = this.acc.get(tf);
    let out: FootprintCandle;
    let inSlots: number[];
    if (acc && acc.openTime === bucket) {
      out = acc.clone();
      inSlots = [...this.slots.keys()].filter((m) => m >= bucket && m < end);
    } else {
      out = new FootprintCandle(tf, bucket, 1, 'nearest');
      inSlots = [...this.minutes.keys()].filter((m) => m >= bucket && m < end);
    }
    if (inSlots.length === 0 && out.isEmpty) return null;
    for (const m of inSlots.sort((a, b) => a - b))
      out.append(this.minutes.get(m)!);
    return out;
  }

  private fullChange(tf: Timeframe, bucket: number): LiveChange | null {
    const c = this.bucketCandle(tf, bucket);
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
  private partialChange(
    tf: Timeframe,
    bucket: number,
    prices: Set<number>,
  ): LiveChange | null {
    if (this.accDirty) this.rebuildAcc();
    const acc = tf === '1m' ? undefined : this.acc.get(tf);
    if (acc === undefined || acc.openTime !== bucket) {
      const c = this.bucketCandle(tf, bucket);
      if (c === null || c.isEmpty) return null;
      const cells: PriceLevel[] = [];
      for (const p of [...prices].sort((a, b) => a - b)) {
        const l = c.levels.get(p);
        if (l) cells.push({ ...l });
      }
      return { timeframe: tf, candle: summaryOf(c), cells };
    }
    const end = bucket + TIMEFRAME_MS[tf];
    const parts = [...this.slots.keys()]
      .filter((m) => m >= bucket && m < end)
      .sort((a, b) => a - b)
      .map((m) => this.slots.get(m)!.candle);
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

  private markLive(
    tf: Timeframe,
    bucket: number,
    prices: Set<number> | null,
  ): void {
    let m = this.liveBuckets.get(tf);
    if (!m) this.liveBuckets.set(tf, (m = new Map()));
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
