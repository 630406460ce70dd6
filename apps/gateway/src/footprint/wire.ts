import { type CandleData, type GroupingMode, type PriceLevel, buildProfile, pocAndValueArea } from '@orderflow/footprint';

/**
 * What goes over the wire (Socket.IO and HTTP JSON). Prices and quantities are integer units of
 * the view's scales (`scales` in every snapshot and response: price = units / 10^priceScale), so
 * nothing is rounded; CSV exports print the exact decimals instead.
 */

/** A footprint cell: [price, buyVolume, sellVolume, buyTrades, sellTrades] at the subscription's grouping. */
export type WireCell = [number, number, number, number, number];

/** A candle without its cells, plus its profile metrics at the grouping. */
export interface WireCandle {
  /** Bucket start, ms since the epoch (UTC-aligned). */
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  buyVolume: number;
  sellVolume: number;
  buyTrades: number;
  sellTrades: number;
  delta: number;
  /**
   * Extremes of the running delta within the candle. Null for a merged candle in which more than
   * one exchange traded: the exchanges' trades interleave in time in an order nobody recorded.
   */
  maxDelta: number | null;
  minDelta: number | null;
  /** Point of control and 70 % value area of the candle's cells (libs/footprint pocAndValueArea), at the grouping. */
  poc: number | null;
  vah: number | null;
  val: number | null;
}

export interface WireFootprintCandle extends WireCandle {
  /** Ascending by price; only levels that traded. */
  cells: WireCell[];
}

/** A candle's summary in a view's units (the part of CandleData without levels), as a member contributes it. */
export interface SummaryPart {
  open: number;
  high: number;
  low: number;
  close: number;
  buyVolume: number;
  sellVolume: number;
  buyTrades: number;
  sellTrades: number;
  maxDelta: number | null;
  minDelta: number | null;
  /** First and last trade time (µs) when known (live candles, and merged history): orders the members' opens and closes. */
  firstTimeUs: number | null;
  lastTimeUs: number | null;
}

const MAX = Number.MAX_SAFE_INTEGER;

/**
 * The summary of a candle made of members' parts (in member order). One part: itself, exactly.
 * Several: OHLC from the part whose first trade is earliest (open) / last trade latest (close),
 * ties and unknown times going to the earlier member; sums of volumes and counts; delta extremes
 * unknown (null).
 */
export function mergeSummaries(parts: readonly (SummaryPart | undefined)[]): SummaryPart | null {
  let out: SummaryPart | null = null;
  let n = 0;
  for (const p of parts) {
    if (p === undefined || p.buyTrades + p.sellTrades === 0) continue;
    n++;
    if (out === null) {
      out = { ...p };
      continue;
    }
    if (p.firstTimeUs !== null && (out.firstTimeUs === null || p.firstTimeUs < out.firstTimeUs)) {
      out.open = p.open;
      out.firstTimeUs = p.firstTimeUs;
    }
    if (p.lastTimeUs !== null && (out.lastTimeUs === null || p.lastTimeUs > out.lastTimeUs)) {
      out.close = p.close;
      out.lastTimeUs = p.lastTimeUs;
    }
    if (p.high > out.high) out.high = p.high;
    if (p.low < out.low) out.low = p.low;
    out.buyVolume += p.buyVolume;
    out.sellVolume += p.sellVolume;
    out.buyTrades += p.buyTrades;
    out.sellTrades += p.sellTrades;
    if (out.buyVolume > MAX || out.sellVolume > MAX) throw new Error('merged candle volume exceeds 2^53 - 1 units');
  }
  if (out !== null && n > 1) {
    out.maxDelta = null;
    out.minDelta = null;
  }
  return out;
}

export interface CandleMetrics {
  poc: number | null;
  vah: number | null;
  val: number | null;
}

/** POC and value area of one candle's cells (ascending by price), with the engine's functions. */
export function candleMetrics(cells: readonly WireCell[], step: number, mode: GroupingMode): CandleMetrics {
  if (cells.length === 0) return { poc: null, vah: null, val: null };
  const levels: PriceLevel[] = cells.map((c) => ({ price: c[0], buyVolume: c[1], sellVolume: c[2], buyTrades: c[3], sellTrades: c[4] }));
  const m = pocAndValueArea(buildProfile([{ step, mode, levels } as unknown as CandleData]));
  return m === null ? { poc: null, vah: null, val: null } : { poc: m.poc, vah: m.valueAreaHigh, val: m.valueAreaLow };
}

export function wireCandle(openTime: number, s: SummaryPart, m: CandleMetrics): WireCandle {
  return {
    openTime,
    open: s.open,
    high: s.high,
    low: s.low,
    close: s.close,
    buyVolume: s.buyVolume,
    sellVolume: s.sellVolume,
    buyTrades: s.buyTrades,
    sellTrades: s.sellTrades,
    delta: s.buyVolume - s.sellVolume,
    maxDelta: s.maxDelta,
    minDelta: s.minDelta,
    poc: m.poc,
    vah: m.vah,
    val: m.val,
  };
}

const encoded = new WeakMap<WireFootprintCandle, string>();
/** Cell counts (or estimates) of candles made by footprintCandleFromJson, whose cells are parsed only when read. */
const lazyCellCounts = new WeakMap<WireFootprintCandle, number>();

/**
 * A footprint candle from its head and its cells' JSON text (`cellsJson` must be exactly
 * JSON.stringify of the cells: history/cell-transcoder.ts makes it so). Its JSON (encodeCandle) is
 * the head's with the text spliced in, made here once; `cells` is an own enumerable property that
 * parses the candle's JSON on first use, so a candle only sent on (an HTTP response, a snapshot)
 * never becomes arrays, and everything else (spread, JSON.stringify, Socket.IO) sees the cells.
 */
export function footprintCandleFromJson(head: WireCandle, cellsJson: string, cellCount = Math.ceil(cellsJson.length / 24)): WireFootprintCandle {
  const json = `${JSON.stringify(head).slice(0, -1)},"cells":${cellsJson}}`;
  const c = head as WireFootprintCandle;
  let cells: WireCell[] | null = null;
  Object.defineProperty(c, 'cells', {
    enumerable: true,
    configurable: false,
    get: () => (cells ??= (JSON.parse(encoded.get(c)!) as WireFootprintCandle).cells),
  });
  encoded.set(c, json);
  lazyCellCounts.set(c, cellCount);
  return c;
}

const INT15 = '(?:0|[1-9]\\d{0,14})';
const CELL15 = `\\[(?:0|-?[1-9]\\d{0,14}),${INT15},${INT15},${INT15},${INT15}\\]`;
/** One or more cells whose integers have at most 15 digits: a single pass of the regular expression engine (~2 ns a character). */
const WIRE_CELLS_15 = new RegExp(`^\\[(?:${CELL15},)*${CELL15}\\]$`);

/**
 * Whether `s` is exactly what JSON.stringify prints for one or more cells (five-integer arrays:
 * canonical integers within 2^53 - 1, only the price negative, no spaces): the check on a stored
 * wire form before it is spliced into a response. Integers of 16 digits are checked one by one.
 */
export function isWireCells(s: string): boolean {
  if (WIRE_CELLS_15.test(s)) return true;
  const n = s.length;
  if (n < 3 || s.charCodeAt(0) !== 91 || s.charCodeAt(n - 1) !== 93) return false;
  let i = 1;
  for (;;) {
    if (s.charCodeAt(i++) !== 91) return false;
    for (let f = 0; f < 5; f++) {
      let c = s.charCodeAt(i);
      if (c === 45 && f === 0) {
        c = s.charCodeAt(++i);
        if (c === 48) return false; // -0, or a leading zero
      }
      const start = i;
      if (c === 48) i++;
      else while (c >= 48 && c <= 57) c = s.charCodeAt(++i);
      const digits = i - start;
      if (digits === 0 || digits > 16 || (digits === 16 && Number(s.slice(start, i)) > Number.MAX_SAFE_INTEGER)) return false;
      if (s.charCodeAt(i++) !== (f < 4 ? 44 : 93)) return false;
    }
    const next = s.charCodeAt(i++);
    if (next === 93) return i === n;
    if (next !== 44) return false;
  }
}

/** How many cells a candle has: for one made by footprintCandleFromJson, without parsing them, the count it was given (or its estimate from the text's length, ~24 characters a cell). */
export function cellCount(c: WireFootprintCandle): number {
  return lazyCellCounts.get(c) ?? c.cells.length;
}

/**
 * A footprint candle's JSON, made once per candle object. Candles are never changed once built
 * (a view builds a new object for every read; history candles are shared read-only through the
 * history cache), so a candle sent again (a cached history candle, in a snapshot or an HTTP
 * response) costs a string copy instead of a serialisation.
 */
export function encodeCandle(c: WireFootprintCandle): string {
  let s = encoded.get(c);
  if (s === undefined) {
    s = JSON.stringify(c);
    encoded.set(c, s);
  }
  return s;
}

/** Cells of a Map keyed by price, ascending. */
export function sortedCells(levels: ReadonlyMap<number, WireCell>): WireCell[] {
  return [...levels.values()].sort((a, b) => a[0] - b[0]);
}

/** A CandleData-like view of grouped cells, for the engine's per-candle functions (imbalances, naked POCs). */
export function asCandleData(c: WireFootprintCandle, timeframe: CandleData['timeframe'], step: number, mode: GroupingMode): CandleData {
  return {
    timeframe,
    openTime: c.openTime,
    step,
    mode,
    open: c.open,
    high: c.high,
    low: c.low,
    close: c.close,
    buyVolume: c.buyVolume,
    sellVolume: c.sellVolume,
    buyTrades: c.buyTrades,
    sellTrades: c.sellTrades,
    delta: c.delta,
    maxDelta: c.maxDelta ?? 0,
    minDelta: c.minDelta ?? 0,
    firstTimeUs: 0,
    lastTimeUs: 0,
    onGrid: step === 1,
    levels: c.cells.map((x) => ({ price: x[0], buyVolume: x[1], sellVolume: x[2], buyTrades: x[3], sellTrades: x[4] })),
  };
}
