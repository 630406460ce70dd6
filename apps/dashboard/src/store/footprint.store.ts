import {
  type CandleData,
  type GroupingMode,
  type Timeframe,
  buildProfile,
  groupPrice,
  profileMetrics,
} from '@orderflow/footprint';
import type {
  Scales,
  SessionSummary,
  SnapshotMessage,
  UpdateMessage,
  WireCandle,
  WireCell,
} from '@orderflow/contracts';

/**
 * The client side of one subscription: the snapshot, then each update applied exactly as the
 * gateway's protocol says (@orderflow/contracts protocol.ts): the candle's summary is replaced;
 * `replace` makes its cells exactly those sent, otherwise each sent cell replaces the one at its
 * price (full values, never increments). Updates are numbered 1, 2, 3 ... per subscription; anything else
 * (a jump, another epoch) means the state can no longer be trusted and asks for a re-snapshot.
 *
 * Every candle carries a `version` that grows when it changes, so that the renderer repaints only
 * what changed (its bitmaps are cached by version).
 */
export interface StoreCandle extends WireCandle {
  /** Ascending by price. Replaced (never mutated in place) when the candle changes. */
  cells: WireCell[];
  version: number;
  /** False when the history says a gap was recorded in this candle and not filled; null: unknown. */
  complete: boolean | null;
}

export type ApplyResult = 'applied' | 'stale' | 'other' | 'resync';

export interface StoreView {
  exchange: string;
  symbol: string;
  timeframe: Timeframe;
  ticks: number;
  mode: GroupingMode;
  step: number;
  scales: Scales;
}

let versions = 0;
const nextVersion = () => ++versions;

export class FootprintStore {
  subscriptionId: string | null = null;
  epoch: string | null = null;
  seq = 0;
  view: StoreView | null = null;
  live = false;
  history = false;
  session: SessionSummary | null = null;
  /** Ascending by openTime. */
  candles: StoreCandle[] = [];
  /** Grows on every change of the candle list (new, changed or dropped candles). */
  revision = 0;
  /** Grows when any candle but the newest changes (or the list does): what the closed candles' drawing depends on. */
  revisionOfClosed = 0;
  /** Newest exchange trade time (µs) seen in an update, and when the update arrived. */
  lastTradeUs: number | null = null;
  updates = 0;
  private readonly index = new Map<number, StoreCandle>();
  private completeness = new Map<number, boolean | null>();

  constructor(
    /** Candles kept (older ones are dropped as new ones open). */
    readonly maxCandles = 2000,
  ) {}

  applySnapshot(m: SnapshotMessage): void {
    this.subscriptionId = m.subscriptionId;
    this.epoch = m.epoch;
    this.seq = m.seq;
    this.view = {
      exchange: m.exchange,
      symbol: m.symbol,
      timeframe: m.timeframe,
      ticks: m.ticks,
      mode: m.mode,
      step: m.step,
      scales: m.scales,
    };
    this.live = m.live;
    this.history = m.history;
    this.session = m.session;
    this.index.clear();
    this.candles = m.candles.map((c) => {
      const { cells, ...summary } = c;
      const sc: StoreCandle = {
        ...summary,
        cells: [...cells].sort((a, b) => a[0] - b[0]),
        version: nextVersion(),
        complete: this.completeness.get(c.openTime) ?? null,
      };
      this.index.set(c.openTime, sc);
      return sc;
    });
    this.candles.sort((a, b) => a.openTime - b.openTime);
    this.trim();
    this.revision++;
    this.revisionOfClosed++;
  }

  /** Applies one update of this store's subscription. */
  applyUpdate(u: UpdateMessage): ApplyResult {
    if (u.subscriptionId !== this.subscriptionId) return 'other';
    if (u.epoch !== this.epoch) return 'resync';
    if (u.seq <= this.seq) return 'stale';
    if (u.seq !== this.seq + 1) return 'resync';
    this.seq = u.seq;
    this.updates++;
    if (u.session) this.session = u.session;
    if (u.lastTradeUs !== null && (this.lastTradeUs === null || u.lastTradeUs > this.lastTradeUs))
      this.lastTradeUs = u.lastTradeUs;
    const t = u.candle.openTime;
    const existing = this.index.get(t);
    let cells: WireCell[];
    if (u.replace || existing === undefined) {
      cells = [...u.cells].sort((a, b) => a[0] - b[0]);
    } else {
      cells = mergeCells(existing.cells, u.cells);
    }
    const next: StoreCandle = {
      ...u.candle,
      cells,
      version: nextVersion(),
      complete: existing?.complete ?? this.completeness.get(t) ?? null,
    };
    this.index.set(t, next);
    if (existing) {
      const i = this.position(t);
      this.candles[i] = next;
      if (i !== this.candles.length - 1) this.revisionOfClosed++;
    } else {
      this.revisionOfClosed++;
      // usually the newest; a late correction of an older candle is inserted in order
      const last = this.candles[this.candles.length - 1];
      if (!last || last.openTime < t) this.candles.push(next);
      else this.candles.splice(this.lowerBound(t), 0, next);
      this.trim();
    }
    this.revision++;
    return 'applied';
  }

  /** Applies updates in order; stops at the first that needs a re-snapshot. */
  applyBatch(updates: readonly UpdateMessage[]): { applied: number; resync: boolean } {
    let applied = 0;
    for (const u of updates) {
      const r = this.applyUpdate(u);
      if (r === 'applied') applied++;
      else if (r === 'resync') return { applied, resync: true };
    }
    return { applied, resync: false };
  }

  /** Records which candles have an unfilled gap (from the history API). */
  setCompleteness(rows: readonly { openTime: number; complete: boolean | null }[]): void {
    let changed = false;
    for (const r of rows) {
      this.completeness.set(r.openTime, r.complete);
      const c = this.index.get(r.openTime);
      if (c && c.complete !== r.complete) {
        const next = { ...c, complete: r.complete, version: nextVersion() };
        this.index.set(r.openTime, next);
        this.candles[this.position(r.openTime)] = next;
        changed = true;
      }
    }
    if (changed) {
      this.revision++;
      this.revisionOfClosed++;
    }
  }

  candle(openTime: number): StoreCandle | undefined {
    return this.index.get(openTime);
  }

  /**
   * Re-groups the candles in place to `ticks` when that is exact (see canRegroupExactly), so that
   * a change of grouping shows at once while the new subscription's snapshot is on its way.
   * Returns false (and changes nothing) when it is not exact.
   */
  regroup(ticks: number): boolean {
    const v = this.view;
    if (!v || !canRegroupExactly(v.ticks, ticks, v.mode)) return false;
    const step = ticks * v.scales.tick;
    this.candles = this.candles.map((c) => regroupCandle(c, step, v.mode));
    this.index.clear();
    for (const c of this.candles) this.index.set(c.openTime, c);
    this.view = { ...v, ticks, step };
    this.revision++;
    this.revisionOfClosed++;
    return true;
  }

  private trim(): void {
    const extra = this.candles.length - this.maxCandles;
    if (extra > 0) for (const c of this.candles.splice(0, extra)) this.index.delete(c.openTime);
  }

  private lowerBound(t: number): number {
    let lo = 0;
    let hi = this.candles.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.candles[mid]!.openTime < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private position(t: number): number {
    // the newest candle is the one that changes almost always
    const n = this.candles.length;
    if (n > 0 && this.candles[n - 1]!.openTime === t) return n - 1;
    return this.lowerBound(t);
  }
}

/** `cells` (ascending) with each of `changes` replacing the cell at its price (or added). */
export function mergeCells(cells: readonly WireCell[], changes: readonly WireCell[]): WireCell[] {
  if (changes.length === 0) return cells as WireCell[];
  const byPrice = new Map<number, WireCell>();
  for (const c of cells) byPrice.set(c[0], c);
  let added = false;
  for (const c of changes) {
    if (!byPrice.has(c[0])) added = true;
    byPrice.set(c[0], c);
  }
  if (!added) return cells.map((c) => byPrice.get(c[0])!);
  return [...byPrice.values()].sort((a, b) => a[0] - b[0]);
}

/**
 * Grouping from `fromTicks` to `toTicks` can be done on the client exactly when the cells hold
 * exact trade prices (native ticks), or, grouping down, when the new step is a multiple of the
 * old one. Round-to-nearest does not compose otherwise (libs/footprint regroup()).
 */
export function canRegroupExactly(fromTicks: number, toTicks: number, mode: GroupingMode): boolean {
  if (toTicks === fromTicks) return true;
  if (fromTicks === 1) return true;
  return mode === 'down' && toTicks % fromTicks === 0;
}

/** A candle's cells grouped to `step`, with its POC and value area recomputed by the engine. */
export function regroupCandle(c: StoreCandle, step: number, mode: GroupingMode): StoreCandle {
  const byPrice = new Map<number, WireCell>();
  for (const x of c.cells) {
    const p = groupPrice(x[0], step, mode);
    const y = byPrice.get(p);
    if (y === undefined) byPrice.set(p, [p, x[1], x[2], x[3], x[4]]);
    else {
      y[1] += x[1];
      y[2] += x[2];
      y[3] += x[3];
      y[4] += x[4];
    }
  }
  const cells = [...byPrice.values()].sort((a, b) => a[0] - b[0]);
  const m = candleMetrics(cells, step, mode);
  return { ...c, cells, poc: m.poc, vah: m.vah, val: m.val, version: nextVersion() };
}

/** POC and 70 % value area of one candle's cells, as the gateway computes them (libs/footprint). */
export function candleMetrics(
  cells: readonly WireCell[],
  step: number,
  mode: GroupingMode,
): { poc: number | null; vah: number | null; val: number | null } {
  if (cells.length === 0) return { poc: null, vah: null, val: null };
  const m = profileMetrics(buildProfile([asCandleLike(cells, step, mode)]));
  return { poc: m.poc, vah: m.valueAreaHigh, val: m.valueAreaLow };
}

/** The minimal CandleData the engine's per-candle functions read (levels, step, mode). */
export function asCandleLike(
  cells: readonly WireCell[],
  step: number,
  mode: GroupingMode,
  c?: Partial<WireCandle> & { openTime?: number },
): CandleData {
  return {
    timeframe: '1m',
    openTime: c?.openTime ?? 0,
    step,
    mode,
    open: c?.open ?? 0,
    high: c?.high ?? 0,
    low: c?.low ?? 0,
    close: c?.close ?? 0,
    buyVolume: c?.buyVolume ?? 0,
    sellVolume: c?.sellVolume ?? 0,
    buyTrades: c?.buyTrades ?? 0,
    sellTrades: c?.sellTrades ?? 0,
    delta: c?.delta ?? 0,
    maxDelta: c?.maxDelta ?? 0,
    minDelta: c?.minDelta ?? 0,
    firstTimeUs: 0,
    lastTimeUs: 0,
    onGrid: step === 1,
    levels: cells.map((x) => ({ price: x[0], buyVolume: x[1], sellVolume: x[2], buyTrades: x[3], sellTrades: x[4] })),
  };
}

/**
 * A grouping that shows roughly `targetLevels` levels across a typical candle: the median candle
 * range divided by the target, rounded up to 1, 2 or 5 x 10^k ticks.
 */
export function suggestTicks(
  candles: readonly { high: number; low: number }[],
  tick: number,
  targetLevels = 24,
): number {
  const ranges = candles
    .map((c) => c.high - c.low)
    .filter((r) => r > 0)
    .sort((a, b) => a - b);
  if (ranges.length === 0) return 1;
  const median = ranges[Math.floor(ranges.length / 2)]!;
  const raw = median / tick / targetLevels;
  if (raw <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return Math.min(10_000, m * p);
  return 10_000;
}
