import type { CandleSummary, LiveUpdate } from '@orderflow/contracts';
import { type CandleData, type PriceLevel, TIMEFRAME_MS, type Timeframe } from '@orderflow/footprint';

/**
 * The native-tick candles one live stream (`live.<exchange>.<symbol>.<tf>`) holds: the owner's
 * snapshot, kept current by its updates. An update carries the changed levels' full values, so
 * the gateway can say exactly how each level moved (previous and new value): that is what lets a
 * grouped view re-derive its changed cells by adding differences, exactly, for any grouping.
 *
 * An update whose cells add up to its candle's totals is the whole candle (a new candle, or the
 * aggregator's correction of an old one) and replaces what is held. A partial update of a candle
 * not held cannot be applied: the caller re-snapshots.
 */
export interface HeldCandle {
  summary: CandleSummary;
  levels: Map<number, PriceLevel>;
}

export interface LevelChange {
  price: number;
  prev: PriceLevel | undefined;
  next: PriceLevel;
}

export type NativeEvent =
  | { kind: 'update'; openTime: number; summary: CandleSummary; changes: LevelChange[] }
  | { kind: 'replace'; openTime: number; summary: CandleSummary; levels: PriceLevel[] };

/** Why an update could not be applied (the stream must re-snapshot). */
export type Refusal = { refused: string };

export class NativeCandles {
  readonly candles = new Map<number, HeldCandle>();
  private newest = -Infinity;
  private readonly retentionMs: number;

  constructor(
    readonly timeframe: Timeframe,
    /** Held candles older than the newest by more than this are dropped (their final state is in ClickHouse). */
    retentionMs?: number,
  ) {
    this.retentionMs = retentionMs ?? Math.max(2 * TIMEFRAME_MS[timeframe], 15 * 60_000);
  }

  /** Replaces everything with a snapshot's candles (ascending); one replace event per candle. */
  reset(candles: readonly CandleData[]): NativeEvent[] {
    this.candles.clear();
    this.newest = -Infinity;
    const out: NativeEvent[] = [];
    for (const c of candles) {
      const problem = checkCandle(c, this.timeframe);
      if (problem !== null) throw new Error(`snapshot candle at ${String(c?.openTime)}: ${problem}`);
      const { levels, ...rest } = c;
      const summary: CandleSummary = rest;
      this.candles.set(c.openTime, { summary, levels: new Map(levels.map((l) => [l.price, { ...l }])) });
      if (c.openTime > this.newest) this.newest = c.openTime;
      out.push({ kind: 'replace', openTime: c.openTime, summary, levels: levels.map((l) => ({ ...l })) });
    }
    return out;
  }

  /** Adds (or replaces) whole candles without dropping the others held; one replace event per candle. */
  put(candles: readonly CandleData[]): NativeEvent[] {
    const out: NativeEvent[] = [];
    for (const c of candles) {
      const problem = checkCandle(c, this.timeframe);
      if (problem !== null) throw new Error(`stored candle at ${String(c?.openTime)}: ${problem}`);
      const { levels, ...rest } = c;
      const summary: CandleSummary = rest;
      this.candles.set(c.openTime, { summary, levels: new Map(levels.map((l) => [l.price, { ...l }])) });
      if (c.openTime > this.newest) this.newest = c.openTime;
      out.push({ kind: 'replace', openTime: c.openTime, summary, levels: levels.map((l) => ({ ...l })) });
    }
    return out;
  }

  /** Applies one update (already in sequence). */
  apply(u: LiveUpdate): NativeEvent | Refusal {
    const problem = checkUpdate(u, this.timeframe);
    if (problem !== null) return { refused: `malformed update: ${problem}` };
    const t = u.candle.openTime;
    let buy = 0;
    let sell = 0;
    let trades = 0;
    for (const l of u.cells) {
      buy += l.buyVolume;
      sell += l.sellVolume;
      trades += l.buyTrades + l.sellTrades;
    }
    const whole =
      buy === u.candle.buyVolume && sell === u.candle.sellVolume && trades === u.candle.buyTrades + u.candle.sellTrades;
    const held = this.candles.get(t);
    if (t > this.newest) this.newest = t;
    if (whole) {
      const levels = u.cells.map((l) => ({ ...l }));
      this.candles.set(t, { summary: u.candle, levels: new Map(levels.map((l) => [l.price, l])) });
      return { kind: 'replace', openTime: t, summary: u.candle, levels: levels.map((l) => ({ ...l })) };
    }
    if (held === undefined)
      return { refused: `a partial update of candle ${new Date(t).toISOString()}, which is not held` };
    const changes: LevelChange[] = [];
    for (const l of u.cells) {
      const prev = held.levels.get(l.price);
      const next = { ...l };
      held.levels.set(l.price, next);
      changes.push({ price: l.price, prev, next: { ...l } });
    }
    held.summary = u.candle;
    return { kind: 'update', openTime: t, summary: u.candle, changes };
  }

  /** Drops candles that fell out of the retention; returns their open times. */
  evict(): number[] {
    const cut = this.newest - this.retentionMs;
    const out: number[] = [];
    for (const t of this.candles.keys()) if (t < cut) out.push(t);
    for (const t of out) this.candles.delete(t);
    return out;
  }

  /** Open times held, ascending. */
  openTimes(): number[] {
    return [...this.candles.keys()].sort((a, b) => a - b);
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

function checkLevel(l: unknown): string | null {
  if (typeof l !== 'object' || l === null) return 'a level is not an object';
  const x = l as PriceLevel;
  if (
    !isCount(x.price) ||
    x.price === 0 ||
    !isCount(x.buyVolume) ||
    !isCount(x.sellVolume) ||
    !isCount(x.buyTrades) ||
    !isCount(x.sellTrades)
  ) {
    return 'a level has a field that is not a non-negative integer';
  }
  return null;
}

function checkSummary(c: CandleSummary, tf: Timeframe): string | null {
  if (typeof c !== 'object' || c === null) return 'candle is not an object';
  if (c.timeframe !== tf) return `candle timeframe ${String(c.timeframe)} is not ${tf}`;
  if (!isInt(c.openTime) || c.openTime % TIMEFRAME_MS[tf] !== 0) return 'candle openTime is not aligned';
  for (const k of ['open', 'high', 'low', 'close', 'buyVolume', 'sellVolume', 'buyTrades', 'sellTrades'] as const)
    if (!isCount(c[k])) return `candle ${k} is not a non-negative integer`;
  for (const k of ['maxDelta', 'minDelta', 'firstTimeUs', 'lastTimeUs'] as const)
    if (!isInt(c[k])) return `candle ${k} is not an integer`;
  if (c.step !== 1) return `candle step ${String(c.step)} is not the native 1`;
  return null;
}

function checkCandle(c: CandleData, tf: Timeframe): string | null {
  const s = checkSummary(c, tf);
  if (s !== null) return s;
  if (!Array.isArray(c.levels)) return 'levels is not an array';
  for (const l of c.levels) {
    const p = checkLevel(l);
    if (p !== null) return p;
  }
  return null;
}

function checkUpdate(u: LiveUpdate, tf: Timeframe): string | null {
  const s = checkSummary(u.candle, tf);
  if (s !== null) return s;
  if (!Array.isArray(u.cells)) return 'cells is not an array';
  for (const l of u.cells) {
    const p = checkLevel(l);
    if (p !== null) return p;
  }
  return null;
}
