import type { CandleSummary, WireCandle, WireCell, WireFootprintCandle } from '@orderflow/contracts';
import { type GroupingMode, type PriceLevel, TIMEFRAME_MS, type Timeframe, groupPrice } from '@orderflow/footprint';
import {
  type CandleMetrics,
  type SummaryPart,
  candleMetrics,
  mergeSummaries,
  sortedCells,
  wireCandle,
} from './wire-candle.js';
import { type ViewMember, scaleUnits } from './instrument-view.js';
import type { HeldCandle, NativeEvent } from './native-candles.js';

/**
 * The live candles of one (view, timeframe, grouping), shared by every subscription to it: the
 * members' native events turned into grouped cells in the view's units.
 *
 * Exactness: a native update says each changed level's previous and new full value, so a grouped
 * cell moves by the difference (integers, any grouping). A whole candle (snapshot, new candle,
 * correction) replaces the member's part. Each member's part is kept apart, so that a merged
 * candle is the sum of what each exchange contributed and one exchange's part can be replaced.
 *
 * A merged view only follows candles from `floor` on (its creation minus the history it was
 * seeded with): for an older candle it does not know the other members' parts.
 */
export interface GroupedChange {
  openTime: number;
  /** The candle's version after the change (1, 2, ...). */
  version: number;
  /** Grouped prices whose cells changed, ascending (every cell of the candle when `replace`). */
  prices: number[];
  /** The candle was rebuilt: its cells are exactly those listed. */
  replace: boolean;
  /** Exchange time (µs) of the last trade in the member's candle, and when the aggregator published the update. */
  lastTradeUs: number | null;
  sourceSentAtMs: number | null;
  /**
   * Encodings of the runs of changes that end with this one (ClientSession.encode): the update's
   * shared JSON, made once for every connection that waits for exactly that run.
   */
  encoded?: RunEncoding[];
}

/**
 * The shared JSON of an update for the run of changes `first`..(the change holding it), valid while the candle is at
 * `version` and the session object is the same.
 */
export interface RunEncoding {
  first: GroupedChange;
  replace: boolean;
  version: number;
  session: unknown;
  tail: string;
}

export interface MemberPart {
  summary: SummaryPart;
  levels: Map<number, WireCell>;
}

interface GroupedCandle {
  openTime: number;
  version: number;
  parts: (MemberPart | undefined)[];
  /** The sum of the parts (the single part's own map when the view has one member). */
  levels: Map<number, WireCell>;
  summary: SummaryPart | null;
  /** Wall-clock ms of its last change: a candle changed moments ago is not evicted before its update goes out. */
  changedAtMs: number;
  wire: { version: number; candle: WireCandle } | null;
  cellsCache: { version: number; change: GroupedChange; cells: WireCell[] } | null;
}

export class GroupedView {
  private readonly candles = new Map<number, GroupedCandle>();
  private newest = -Infinity;
  /** Merged views: candles before this are not followed (see above). */
  floor = -Infinity;
  /**
   * Grows with every change of any candle (seed or applied event): what caches of derived figures (a merged session)
   * key on.
   */
  revision = 0;
  private readonly retentionMs: number;

  constructor(
    readonly key: string,
    readonly members: readonly ViewMember[],
    readonly timeframe: Timeframe,
    /** Price units of the view per level (ticks x the view's tick). */
    readonly step: number,
    readonly mode: GroupingMode,
    /** Wall-clock ms (the caller's clock; tests pass their own). */
    private readonly clock: () => number,
    retentionMs?: number,
  ) {
    this.retentionMs = retentionMs ?? Math.max(2 * TIMEFRAME_MS[timeframe], 15 * 60_000);
  }

  get merged(): boolean {
    return this.members.length > 1;
  }

  /**
   * A member's part of candle `openTime`, known from elsewhere (history, or the stream's held candle). Replaces any
   * part it had.
   */
  seed(member: number, openTime: number, part: MemberPart): void {
    const c = this.candle(openTime);
    this.setPart(c, member, part);
    c.version++;
    c.changedAtMs = this.clock();
    this.revision++;
  }

  /** Turns a member stream's native event into a grouped change (null when the view does not follow that candle). */
  apply(member: number, ev: NativeEvent, held: HeldCandle | undefined, sentAtMs: number | null): GroupedChange | null {
    const t = ev.openTime;
    if (this.merged && t < this.floor) return null;
    const c = this.candle(t);
    const m = this.members[member]!;
    const existing = c.parts[member];
    if (ev.kind === 'replace' || existing === undefined) {
      const levels = ev.kind === 'replace' ? ev.levels : held ? [...held.levels.values()] : null;
      if (levels === null) return null;
      this.setPart(c, member, this.part(m, ev.summary, levels));
      c.version++;
      c.changedAtMs = this.clock();
      this.revision++;
      return {
        openTime: t,
        version: c.version,
        prices: [...c.levels.keys()].sort((a, b) => a - b),
        replace: true,
        lastTradeUs: ev.summary.lastTimeUs,
        sourceSentAtMs: sentAtMs,
      };
    }
    const changed = new Set<number>();
    for (const ch of ev.changes) {
      const g = groupPrice(scaleUnits(ch.price, m.priceFactor, 'price'), this.step, this.mode);
      const p = ch.prev;
      const d: WireCell = [
        g,
        scaleUnits(ch.next.buyVolume - (p?.buyVolume ?? 0), m.quantityFactor, 'volume'),
        scaleUnits(ch.next.sellVolume - (p?.sellVolume ?? 0), m.quantityFactor, 'volume'),
        ch.next.buyTrades - (p?.buyTrades ?? 0),
        ch.next.sellTrades - (p?.sellTrades ?? 0),
      ];
      addCell(existing.levels, d, 1);
      if (this.merged) addCell(c.levels, d, 1);
      changed.add(g);
    }
    existing.summary = this.summaryPart(m, ev.summary);
    c.summary = this.merged ? mergeSummaries(c.parts.map((p) => p?.summary)) : existing.summary;
    c.version++;
    c.changedAtMs = this.clock();
    this.revision++;
    return {
      openTime: t,
      version: c.version,
      prices: [...changed].sort((a, b) => a - b),
      replace: false,
      lastTradeUs: ev.summary.lastTimeUs,
      sourceSentAtMs: sentAtMs,
    };
  }

  has(openTime: number): boolean {
    return this.candles.has(openTime);
  }

  version(openTime: number): number {
    return this.candles.get(openTime)?.version ?? 0;
  }

  /** Open times of the candles with trades, ascending. */
  openTimes(): number[] {
    const out: number[] = [];
    for (const c of this.candles.values()) if (c.summary !== null) out.push(c.openTime);
    return out.sort((a, b) => a - b);
  }

  /** The newest candle with trades, or null. */
  latestOpenTime(): number | null {
    let out: number | null = null;
    for (const c of this.candles.values())
      if (c.summary !== null && (out === null || c.openTime > out)) out = c.openTime;
    return out;
  }

  /** The candle's summary and metrics (computed once per version). */
  wireCandle(openTime: number): WireCandle | null {
    const c = this.candles.get(openTime);
    if (!c || c.summary === null) return null;
    if (c.wire?.version !== c.version) {
      const metrics: CandleMetrics = candleMetrics(sortedCells(c.levels), this.step, this.mode);
      c.wire = { version: c.version, candle: wireCandle(openTime, c.summary, metrics) };
    }
    return c.wire.candle;
  }

  /**
   * Current values of the given cells (all cells when prices is null). Cached for the latest change, which most readers
   * ask for.
   */
  cells(openTime: number, prices: readonly number[] | null, change?: GroupedChange): WireCell[] {
    const c = this.candles.get(openTime);
    if (!c) return [];
    if (change && c.cellsCache?.change === change && c.cellsCache.version === c.version) return c.cellsCache.cells;
    let out: WireCell[];
    if (prices === null) out = sortedCells(c.levels).map((x) => [...x] as WireCell);
    else {
      out = [];
      for (const p of prices) {
        const x = c.levels.get(p);
        if (x) out.push([...x] as WireCell);
      }
    }
    if (change && change.version === c.version) c.cellsCache = { version: c.version, change, cells: out };
    return out;
  }

  footprint(openTime: number): WireFootprintCandle | null {
    const w = this.wireCandle(openTime);
    return w === null ? null : { ...w, cells: this.cells(openTime, null) };
  }

  /**
   * Drops candles past the retention (their final state is in ClickHouse), except those changed in
   * the last `graceMs`: an old candle corrected by a resync (read back from ClickHouse) must stay
   * until the flush pass has sent the correction to the clients that hold a stale copy.
   */
  evict(now = this.clock(), graceMs = 5_000): number[] {
    const cut = this.newest - this.retentionMs;
    const out: number[] = [];
    for (const [t, c] of this.candles) if (t < cut && now - c.changedAtMs > graceMs) out.push(t);
    for (const t of out) this.candles.delete(t);
    if (this.merged && cut > this.floor) this.floor = cut;
    return out;
  }

  /** A member's grouped part from native levels. */
  part(m: ViewMember, summary: CandleSummary, levels: Iterable<PriceLevel>): MemberPart {
    const out = new Map<number, WireCell>();
    for (const l of levels) {
      const g = groupPrice(scaleUnits(l.price, m.priceFactor, 'price'), this.step, this.mode);
      addCell(
        out,
        [
          g,
          scaleUnits(l.buyVolume, m.quantityFactor, 'volume'),
          scaleUnits(l.sellVolume, m.quantityFactor, 'volume'),
          l.buyTrades,
          l.sellTrades,
        ],
        1,
      );
    }
    return { summary: this.summaryPart(m, summary), levels: out };
  }

  summaryPart(
    m: ViewMember,
    s: Omit<CandleSummary, 'timeframe' | 'step' | 'mode' | 'onGrid' | 'delta' | 'openTime'>,
  ): SummaryPart {
    const pf = m.priceFactor;
    const qf = m.quantityFactor;
    return {
      open: scaleUnits(s.open, pf, 'price'),
      high: scaleUnits(s.high, pf, 'price'),
      low: scaleUnits(s.low, pf, 'price'),
      close: scaleUnits(s.close, pf, 'price'),
      buyVolume: scaleUnits(s.buyVolume, qf, 'volume'),
      sellVolume: scaleUnits(s.sellVolume, qf, 'volume'),
      buyTrades: s.buyTrades,
      sellTrades: s.sellTrades,
      maxDelta: scaleUnits(s.maxDelta, qf, 'delta'),
      minDelta: scaleUnits(s.minDelta, qf, 'delta'),
      firstTimeUs: s.firstTimeUs,
      lastTimeUs: s.lastTimeUs,
    };
  }

  private candle(openTime: number): GroupedCandle {
    let c = this.candles.get(openTime);
    if (!c) {
      c = {
        openTime,
        version: 0,
        parts: this.members.map(() => undefined),
        levels: new Map(),
        summary: null,
        changedAtMs: 0,
        wire: null,
        cellsCache: null,
      };
      this.candles.set(openTime, c);
      if (openTime > this.newest) this.newest = openTime;
    }
    return c;
  }

  private setPart(c: GroupedCandle, member: number, part: MemberPart): void {
    const old = c.parts[member];
    c.parts[member] = part;
    if (this.merged) {
      if (old) for (const x of old.levels.values()) addCell(c.levels, x, -1);
      for (const x of part.levels.values()) addCell(c.levels, x, 1);
      c.summary = mergeSummaries(c.parts.map((p) => p?.summary));
    } else {
      c.levels = part.levels;
      c.summary = part.summary.buyTrades + part.summary.sellTrades > 0 ? part.summary : null;
    }
  }
}

/** levels[cell price] += sign * cell; a cell left with no trades is removed. */
function addCell(levels: Map<number, WireCell>, d: WireCell, sign: 1 | -1): void {
  const x = levels.get(d[0]);
  if (x === undefined) {
    if (sign === 1) levels.set(d[0], [d[0], d[1], d[2], d[3], d[4]]);
    return;
  }
  x[1] += sign * d[1];
  x[2] += sign * d[2];
  x[3] += sign * d[3];
  x[4] += sign * d[4];
  if (x[1] > Number.MAX_SAFE_INTEGER || x[2] > Number.MAX_SAFE_INTEGER)
    throw new Error(`cell volume at ${d[0]} exceeds 2^53 - 1 units`);
  if (x[3] === 0 && x[4] === 0) levels.delete(d[0]);
}
