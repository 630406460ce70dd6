/**
 * Binance aggregate trade streams, spot and USDT-M futures.
 * - Spot: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#aggregate-trade-streams
 * - USDT-M futures:
 * https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Aggregate-Trade-Streams
 *
 * `m` is "is the buyer the market maker?". When it is true the buyer was resting and the SELLER
 * crossed the spread: the aggressor side is 'sell'. Getting this backwards inverts every delta.
 *
 * Pure: text in, trade out. Sockets, REST and reconnects live in the collector app.
 */
import {
  type Instrument,
  type Trade,
  instrumentFromSteps,
  parseFixedRange,
  priceQtySideTimeRejectReason,
} from '@orderflow/footprint';
import { BINANCE_FRAME_WASM } from './binance-frame.wasm.js';
import { NormalizeError } from './normalize.error.js';
import { describeValue, isObject } from './normalize.shared.js';

/** The exchange id stamped on trades: 'binance', 'binance-futures', or a simulator's 'sim-...' id. */
export type BinanceExchange = string;

/** An aggTrade: the ids of the first and last underlying trades are kept for gap checks (f = previous l + 1). */
export interface BinanceAggTrade extends Trade {
  readonly firstTradeId: string;
  readonly lastTradeId: string;
}

/** A frame that is not a trade: a subscription reply ({"result":null,"id":1}) or an error reply. */
export interface ControlFrame {
  readonly control: true;
  readonly payload: unknown;
}

export interface BinanceNormalizeOptions {
  exchange: BinanceExchange;
  /** Instruments by exchange symbol ("BTCUSDT"). */
  instruments: ReadonlyMap<string, Instrument>;
  /** Spot streams opened with timeUnit=MICROSECOND send E and T in µs. Default 'ms'. */
  timeUnit?: 'ms' | 'us';
}

/**
 * Normalises one WebSocket text frame of a raw (`/ws/<symbol>@aggTrade`) or combined
 * (`/stream?streams=...`) aggTrade stream. Throws NormalizeError for anything malformed.
 *
 * Speed: a strict matcher reads Binance's canonical frame (fixed field order, no whitespace) in one
 * pass without JSON.parse, which costs several times more than the whole rest of the
 * pipeline. The matcher accepts only text that is valid JSON of exactly that shape; any other
 * frame (new fields, reordered keys, whitespace) goes through JSON.parse and a field-by-field check.
 */
export function normalizeBinanceAggTrade(
  text: string,
  options: BinanceNormalizeOptions,
  receiveTimeMs: number,
): BinanceAggTrade | ControlFrame {
  const fast =
    scanner === null
      ? matchCanonical(text, options, receiveTimeMs)
      : scanCanonical(scanner, text, options, receiveTimeMs);
  return fast ?? normalizeParsed(text, options, receiveTimeMs);
}

// ---- fast path ----------------------------------------------------------------------------

/**
 * The frame scanner compiled to WebAssembly (../wasm/binance-frame.wat): the same strict match as
 * matchCanonical below, over the frame's bytes, several times faster than any JavaScript loop
 * over the string on the benchmark machine. The text is copied in with TextEncoder.encodeInto;
 * positions equal string indices because a canonical frame is ASCII (anything else falls back).
 */
interface FrameScanner {
  scan(length: number): number;
  dec(start: number, end: number, scale: number): number;
  input: Uint8Array;
  out: Int32Array;
  time: Float64Array;
}

const MAX_SCANNED = 60_000;
const encoder = new TextEncoder();
const scanner: FrameScanner | null = createScanner();

/** Which fast path this runtime uses ('wasm' wherever WebAssembly exists, so Node and browsers). */
export const binanceFrameScanner: 'wasm' | 'js' = scanner === null ? 'js' : 'wasm';

function createScanner(): FrameScanner | null {
  if (typeof WebAssembly === 'undefined') return null;
  const e = new WebAssembly.Instance(new WebAssembly.Module(BINANCE_FRAME_WASM)).exports as {
    memory: WebAssembly.Memory;
    scan(length: number): number;
    dec(start: number, end: number, scale: number): number;
  };
  const buffer = e.memory.buffer;
  return {
    scan: e.scan,
    dec: e.dec,
    input: new Uint8Array(buffer, 0, MAX_SCANNED),
    out: new Int32Array(buffer, 65536, 13),
    time: new Float64Array(buffer, 65600, 1),
  };
}

function scanCanonical(
  s: FrameScanner,
  text: string,
  o: BinanceNormalizeOptions,
  receiveTimeMs: number,
): BinanceAggTrade | undefined {
  if (text.length > MAX_SCANNED) return matchCanonical(text, o, receiveTimeMs);
  const { read, written } = encoder.encodeInto(text, s.input);
  if (read !== text.length || written !== text.length) return matchCanonical(text, o, receiveTimeMs); // not ASCII
  if (s.scan(written) !== 1) return undefined;
  const out = s.out;
  const instrument = instrumentAt(text, out[0]!, out[1]!, o);
  const price = s.dec(out[4]!, out[5]!, instrument.priceScale);
  const quantity = s.dec(out[6]!, out[7]!, instrument.quantityScale);
  // A decimal the scanner refuses: the JavaScript path produces the precise error.
  if (price < 0 || quantity < 0) return matchCanonical(text, o, receiveTimeMs);
  return build(
    o,
    instrument,
    text.slice(out[2], out[3]),
    price,
    quantity,
    out[12] === 1,
    s.time[0]!,
    text.slice(out[8], out[9]),
    text.slice(out[10], out[11]),
    receiveTimeMs,
  );
}

/**
 * Binance's canonical aggTrade frame, raw or in a combined-stream envelope, as a test without
 * captures. On this hardware V8's compiled regular expressions read about 1 ns a character while a
 * JavaScript charCodeAt loop takes about 2.2 ns, and every capture group costs an allocated string
 * (nine of them cost more than the whole match), so the frame is validated here in one native pass
 * and the fields are then read by position (readCanonical), knowing the shape is exactly this.
 * Integers are JSON integers (no leading zeros); the decimal strings are checked when parsed.
 */
const CANONICAL =
  /^(?:\{"stream":"[\w@.-]+","data":)?\{"e":"aggTrade","E":(?:0|[1-9]\d*),"s":"[\w-]+","a":(?:0|[1-9]\d*),"p":"[\d.]+","q":"[\d.]+","f":(?:0|[1-9]\d*),"l":(?:0|[1-9]\d*),"T":(?:0|[1-9]\d*),"m":(?:true|false)(?:,"M":(?:true|false))?\}\}?$/;

/**
 * Reads a canonical frame, or returns undefined for anything else (new fields, another key order,
 * whitespace), which then goes through JSON.parse. It accepts only text that is valid JSON of
 * exactly the canonical shape, so the two paths never disagree (a property test checks).
 */
function matchCanonical(text: string, o: BinanceNormalizeOptions, receiveTimeMs: number): BinanceAggTrade | undefined {
  if (!CANONICAL.test(text)) return undefined;
  const enveloped = text.charCodeAt(2) === 115; // {"s(tream)
  // The closing brace of the envelope must be there exactly when the envelope is.
  if (enveloped !== (text.charCodeAt(text.length - 2) === 125)) return undefined;
  let i = enveloped ? text.indexOf('","data":', 11) + 29 : 20; // after {"e":"aggTrade","E":
  i = skipDigits(text, i) + 6; // ,"s":"
  const symStart = i;
  const symEnd = text.indexOf('"', i);
  const instrument = instrumentAt(text, symStart, symEnd, o);
  i = symEnd + 6; // ","a":
  const aEnd = skipDigits(text, i);
  const a = text.slice(i, aEnd);
  const pStart = aEnd + 6; // ,"p":"
  const pEnd = text.indexOf('"', pStart);
  const qStart = pEnd + 7; // ","q":"
  const qEnd = text.indexOf('"', qStart);
  const fStart = qEnd + 6; // ","f":
  const fEnd = skipDigits(text, fStart);
  const lStart = fEnd + 5; // ,"l":
  const lEnd = skipDigits(text, lStart);
  const tStart = lEnd + 5; // ,"T":
  const tEnd = skipDigits(text, tStart);
  // JSON numbers beyond 2^53 lose digits in JSON.parse: let that path refuse them alike.
  if (aEnd - i > 15 || fEnd - fStart > 15 || lEnd - lStart > 15 || tEnd - tStart > 15) return undefined;
  let time = 0;
  for (let k = tStart; k < tEnd; k++) time = time * 10 + text.charCodeAt(k) - 48;
  return build(
    o,
    instrument,
    a,
    decimal(text, pStart, pEnd, instrument.priceScale, 'p'),
    decimal(text, qStart, qEnd, instrument.quantityScale, 'q'),
    text.charCodeAt(tEnd + 5) === 116, // ,"m":t(rue)
    time,
    text.slice(fStart, fEnd),
    text.slice(lStart, lEnd),
    receiveTimeMs,
  );
}

function skipDigits(text: string, i: number): number {
  let c = text.charCodeAt(i);
  while (c >= 48 && c <= 57) c = text.charCodeAt(++i);
  return i;
}

// The last symbol seen and its instrument: frames of one stream repeat the symbol, and comparing it
// in place is much cheaper than slicing it and hashing it into the instruments map.
let lastSymbol = '';
let lastInstrument: Instrument | undefined;
let lastInstruments: ReadonlyMap<string, Instrument> | undefined;

function instrumentAt(text: string, start: number, end: number, o: BinanceNormalizeOptions): Instrument {
  if (o.instruments === lastInstruments && end - start === lastSymbol.length && text.startsWith(lastSymbol, start))
    return lastInstrument!;
  return instrumentOf(text.slice(start, end), o);
}

function instrumentOf(symbol: string, o: BinanceNormalizeOptions): Instrument {
  if (symbol === lastSymbol && o.instruments === lastInstruments) return lastInstrument!;
  const instrument = o.instruments.get(symbol);
  if (instrument === undefined)
    throw new NormalizeError('UNKNOWN_SYMBOL', `symbol ${symbol.slice(0, 40)} is not configured for ${o.exchange}`);
  lastSymbol = symbol;
  lastInstrument = instrument;
  lastInstruments = o.instruments;
  return instrument;
}

/** A whole decimal string at a scale, or a NormalizeError naming the field (for other Binance formats). */
export function decimalField(text: string, scale: number, field: string): number {
  return decimal(text, 0, text.length, scale, field);
}

function decimal(text: string, start: number, end: number, scale: number, field: string): number {
  try {
    return parseFixedRange(text, start, end, scale);
  } catch (e) {
    throw new NormalizeError('INVALID_FIELD', `${field}: ${(e as Error).message}`, { cause: e });
  }
}

/** Builds and validates one aggTrade (shared by the stream, REST and archive readers). */
export { build as buildBinanceTrade };

function build(
  o: BinanceNormalizeOptions,
  instrument: Instrument,
  id: string,
  price: number,
  quantity: number,
  buyerIsMaker: boolean,
  time: number,
  firstTradeId: string,
  lastTradeId: string,
  receiveTimeMs: number,
): BinanceAggTrade {
  const side = buyerIsMaker ? 'sell' : 'buy';
  const exchangeTimeUs = o.timeUnit === 'us' ? time : time * 1000;
  const reason = priceQtySideTimeRejectReason(price, quantity, side, exchangeTimeUs);
  if (reason !== null) throw new NormalizeError('INVALID_FIELD', reason);
  return {
    exchange: o.exchange,
    symbol: instrument.symbol,
    id,
    price,
    quantity,
    side,
    exchangeTimeUs,
    receiveTimeMs,
    firstTradeId,
    lastTradeId,
  };
}

// ---- general path -------------------------------------------------------------------------

function normalizeParsed(
  text: string,
  o: BinanceNormalizeOptions,
  receiveTimeMs: number,
): BinanceAggTrade | ControlFrame {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new NormalizeError('MALFORMED_JSON', `not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!isObject(root)) throw new NormalizeError('UNEXPECTED_SHAPE', 'frame is not a JSON object');
  if ('result' in root || 'error' in root) return { control: true, payload: root };
  let data: unknown = root;
  if ('stream' in root || 'data' in root) {
    if (typeof root['stream'] !== 'string' || !isObject(root['data'])) {
      throw new NormalizeError(
        'UNEXPECTED_SHAPE',
        'combined-stream frame needs a string "stream" and an object "data"',
      );
    }
    data = root['data'];
  }
  const d = data as Record<string, unknown>;
  if (d['e'] !== 'aggTrade')
    throw new NormalizeError('UNEXPECTED_SHAPE', `event type ${describeValue(d['e'])} is not aggTrade`);
  const symbol = d['s'];
  if (typeof symbol !== 'string') throw new NormalizeError('INVALID_FIELD', 's (symbol) must be a string');
  const instrument = instrumentOf(symbol, o);
  const a = idField(d, 'a');
  const f = idField(d, 'f');
  const l = idField(d, 'l');
  const time = d['T'];
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0)
    throw new NormalizeError('INVALID_FIELD', 'T (trade time) must be a non-negative integer');
  const p = d['p'];
  const q = d['q'];
  if (typeof p !== 'string') throw new NormalizeError('INVALID_FIELD', 'p (price) must be a decimal string');
  if (typeof q !== 'string') throw new NormalizeError('INVALID_FIELD', 'q (quantity) must be a decimal string');
  const m = d['m'];
  if (typeof m !== 'boolean') throw new NormalizeError('INVALID_FIELD', 'm (buyer is maker) must be a boolean');
  return build(
    o,
    instrument,
    a,
    decimal(p, 0, p.length, instrument.priceScale, 'p'),
    decimal(q, 0, q.length, instrument.quantityScale, 'q'),
    m,
    time,
    f,
    l,
    receiveTimeMs,
  );
}

function idField(d: Record<string, unknown>, key: string): string {
  const v = d[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new NormalizeError('INVALID_FIELD', `${key} must be a non-negative integer id`);
  return String(v);
}

// ---- REST ---------------------------------------------------------------------------------

/**
 * The response of `GET /api/v3/aggTrades` (spot) or `/fapi/v1/aggTrades` (USDT-M futures): an
 * array of `{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":true,"M":true}`
 * in ascending id order, for one symbol (the request's). Used to backfill gaps and at start-up.
 * https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#compressedaggregate-trades-list
 */
export function normalizeBinanceRestAggTrades(
  jsonText: string,
  symbol: string,
  options: BinanceNormalizeOptions,
  receiveTimeMs: number,
): BinanceAggTrade[] {
  let rows: unknown;
  try {
    rows = JSON.parse(jsonText);
  } catch (e) {
    throw new NormalizeError('MALFORMED_JSON', `aggTrades response is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(rows)) {
    const msg = isObject(rows) && typeof rows['msg'] === 'string' ? `: ${rows['msg']}` : '';
    throw new NormalizeError('UNEXPECTED_SHAPE', `aggTrades response is not an array${msg}`);
  }
  const instrument = instrumentOf(symbol, options);
  const out: BinanceAggTrade[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const d = rows[i];
    if (!isObject(d)) throw new NormalizeError('UNEXPECTED_SHAPE', `aggTrades row ${i} is not an object`);
    const time = d['T'];
    if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0)
      throw new NormalizeError('INVALID_FIELD', `row ${i}: T must be a non-negative integer`);
    const p = d['p'];
    const q = d['q'];
    const m = d['m'];
    if (typeof p !== 'string' || typeof q !== 'string')
      throw new NormalizeError('INVALID_FIELD', `row ${i}: p and q must be decimal strings`);
    if (typeof m !== 'boolean') throw new NormalizeError('INVALID_FIELD', `row ${i}: m must be a boolean`);
    out[i] = build(
      options,
      instrument,
      idField(d, 'a'),
      decimal(p, 0, p.length, instrument.priceScale, 'p'),
      decimal(q, 0, q.length, instrument.quantityScale, 'q'),
      m,
      time,
      idField(d, 'f'),
      idField(d, 'l'),
      receiveTimeMs,
    );
  }
  return out;
}

/**
 * Instruments from `GET /api/v3/exchangeInfo` or `/fapi/v1/exchangeInfo`: the PRICE_FILTER
 * tickSize and LOT_SIZE stepSize of each requested symbol ("0.01000000" -> 2 decimals).
 */
export function parseBinanceExchangeInfo(
  jsonText: string,
  exchange: string,
  symbols: readonly string[],
): Map<string, Instrument> {
  let info: unknown;
  try {
    info = JSON.parse(jsonText);
  } catch (e) {
    throw new NormalizeError('MALFORMED_JSON', `exchangeInfo is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!isObject(info) || !Array.isArray(info['symbols']))
    throw new NormalizeError('UNEXPECTED_SHAPE', 'exchangeInfo has no symbols array');
  const wanted = new Set(symbols);
  const out = new Map<string, Instrument>();
  for (const s of info['symbols'] as unknown[]) {
    if (!isObject(s) || typeof s['symbol'] !== 'string' || !wanted.has(s['symbol'])) continue;
    const filters = Array.isArray(s['filters']) ? (s['filters'] as unknown[]).filter(isObject) : [];
    const tick = filters.find((f) => f['filterType'] === 'PRICE_FILTER')?.['tickSize'];
    const step = filters.find((f) => f['filterType'] === 'LOT_SIZE')?.['stepSize'];
    if (typeof tick !== 'string' || typeof step !== 'string') {
      throw new NormalizeError(
        'INVALID_FIELD',
        `exchangeInfo for ${s['symbol']} lacks PRICE_FILTER tickSize or LOT_SIZE stepSize`,
      );
    }
    out.set(s['symbol'], instrumentFromSteps(exchange, s['symbol'], trimDecimal(tick), trimDecimal(step)));
  }
  const missing = symbols.filter((s) => !out.has(s));
  if (missing.length > 0) throw new NormalizeError('UNKNOWN_SYMBOL', `${exchange} does not list ${missing.join(', ')}`);
  return out;
}

/** "0.01000000" -> "0.01", "1.00000000" -> "1". */
export function trimDecimal(text: string): string {
  if (!text.includes('.')) return text;
  let end = text.length;
  while (text.charCodeAt(end - 1) === 48) end--;
  if (text.charCodeAt(end - 1) === 46) end--;
  return text.slice(0, end);
}
