import type { WireCandle, WireCell, WireFootprintCandle } from '@orderflow/contracts';
import {
  type CandleData,
  type GroupingMode,
  type PriceLevel,
  buildProfile,
  pocAndValueArea,
} from '@orderflow/footprint';
import { asciiBytes, asciiText } from './ascii-bytes.js';

/**
 * Candles as they go over the wire (the shapes: @orderflow/contracts protocol.ts): a view's summary
 * parts merged, profile metrics, and each candle's JSON made once.
 */

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
  /**
   * First and last trade time (µs) when known (live candles, and merged history): orders the members' opens and closes.
   */
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
  const levels: PriceLevel[] = cells.map((c) => ({
    price: c[0],
    buyVolume: c[1],
    sellVolume: c[2],
    buyTrades: c[3],
    sellTrades: c[4],
  }));
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

/**
 * What a candle's JSON is made of, kept on the candle itself under a symbol, not enumerable (so not
 * in a spread, JSON.stringify or Socket.IO's encoding): its text, or for one made from stored bytes
 * the bytes of its parts, and for one whose cells are parsed only when read, their count. Not a
 * WeakMap: every cached candle's entries made each full GC's ephemeron work grow with the cache
 * (~40 ms of a cold day's read with a full cache).
 */
interface Encoding {
  json?: string;
  parts?: readonly Uint8Array[];
  cells?: number;
}
const ENCODING = Symbol('encoding');
const encodingOf = (c: WireFootprintCandle): Encoding | undefined =>
  (c as unknown as { [ENCODING]?: Encoding })[ENCODING];
function setEncoding(c: WireFootprintCandle, e: Encoding): Encoding {
  Object.defineProperty(c, ENCODING, { value: e, enumerable: false, writable: false, configurable: false });
  return e;
}
const CLOSE = asciiBytes('}');

/**
 * A footprint candle from its head and its cells' JSON (`cellsJson` must be exactly JSON.stringify
 * of the cells: the history reader's cell transcoder makes it so, isWireCells checks a stored one). Its JSON
 * is the head's with the cells spliced in, made here once: as text, or as bytes when the cells come
 * as bytes (a stored wire form straight from ClickHouse's response: no text is made of it unless
 * something asks for encodeCandle or `cells`). `cells` is an own enumerable property that parses
 * the candle's JSON on first use, so a candle only sent on (an HTTP response, a snapshot) never
 * becomes arrays, and everything else (spread, JSON.stringify, Socket.IO) sees the cells.
 */
export function footprintCandleFromJson(
  head: WireCandle,
  cellsJson: string | Uint8Array,
  cellCount = Math.ceil(cellsJson.length / 24),
): WireFootprintCandle {
  const prefix = `${JSON.stringify(head).slice(0, -1)},"cells":`;
  const c = head as WireFootprintCandle;
  let cells: WireCell[] | null = null;
  Object.defineProperty(c, 'cells', {
    enumerable: true,
    configurable: false,
    get: () => (cells ??= (JSON.parse(encodeCandle(c)) as WireFootprintCandle).cells),
  });
  // the head holds only numbers and nulls, so its JSON is ASCII
  setEncoding(
    c,
    typeof cellsJson === 'string'
      ? { json: `${prefix}${cellsJson}}`, cells: cellCount }
      : { parts: [asciiBytes(prefix), cellsJson, CLOSE], cells: cellCount },
  );
  return c;
}

/**
 * Whether bytes [from, to) of `b` are exactly what JSON.stringify prints for one or more cells
 * (five-integer arrays: canonical integers within 2^53 - 1, only the price negative, no spaces, so
 * ASCII): the check on a stored wire form before it is spliced into a response. One pass over the
 * bytes (~1.3 ns a byte here: 12 ms for a 432 k-cell day, as the regular expression on text it
 * replaced, without making the text).
 */
export function isWireCells(b: Uint8Array, from = 0, to = b.length): boolean {
  if (to - from < 3 || b[from] !== 91 || b[to - 1] !== 93) return false;
  let i = from + 1;
  for (;;) {
    if (b[i++] !== 91) return false;
    for (let f = 0; f < 5; f++) {
      let c = b[i];
      if (c === 45 && f === 0) {
        c = b[++i];
        if (c === 48) return false; // -0, or a leading zero
      }
      const start = i;
      if (c === 48) i++;
      else while (c !== undefined && c >= 48 && c <= 57) c = b[++i];
      const digits = i - start;
      if (digits === 0 || digits > 16) return false;
      if (digits === 16) {
        let v = 0;
        for (let k = start; k < i; k++) v = v * 10 + (b[k]! - 48);
        if (v > Number.MAX_SAFE_INTEGER) return false;
      }
      if (b[i++] !== (f < 4 ? 44 : 93)) return false;
    }
    const next = b[i++];
    if (next === 93) return i === to;
    if (next !== 44) return false;
  }
}

/**
 * How many cells a candle has: for one made by footprintCandleFromJson, without parsing them, the count it was given
 * (or its estimate from the text's length, ~24 characters a cell).
 */
export function cellCount(c: WireFootprintCandle): number {
  return encodingOf(c)?.cells ?? c.cells.length;
}

/**
 * A footprint candle's JSON, made once per candle object. Candles are never changed once built
 * (a view builds a new object for every read; history candles are shared read-only through the
 * history cache), so a candle sent again (a cached history candle, in a snapshot or an HTTP
 * response) costs a string copy instead of a serialisation.
 */
export function encodeCandle(c: WireFootprintCandle): string {
  const e = encodingOf(c) ?? setEncoding(c, {});
  e.json ??= e.parts !== undefined ? asciiText(e.parts) : JSON.stringify(c);
  return e.json;
}

/**
 * A footprint candle's JSON as made: for one made from stored bytes, the bytes of its parts (written to a response as
 * they are), else encodeCandle's text.
 */
export function candleJson(c: WireFootprintCandle): string | readonly Uint8Array[] {
  return encodingOf(c)?.parts ?? encodeCandle(c);
}

/** Cells of a Map keyed by price, ascending. */
export function sortedCells(levels: ReadonlyMap<number, WireCell>): WireCell[] {
  return [...levels.values()].sort((a, b) => a[0] - b[0]);
}

/** A CandleData-like view of grouped cells, for the engine's per-candle functions (imbalances, naked POCs). */
export function asCandleData(
  c: WireFootprintCandle,
  timeframe: CandleData['timeframe'],
  step: number,
  mode: GroupingMode,
): CandleData {
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
