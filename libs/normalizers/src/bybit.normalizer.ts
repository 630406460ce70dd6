/**
 * Bybit v5 public trades, spot and linear (USDT/USDC perpetuals and futures).
 * - WebSocket topic `publicTrade.<symbol>`: https://bybit-exchange.github.io/docs/v5/websocket/public/trade
 * - Connect, subscribe, ping/pong replies: https://bybit-exchange.github.io/docs/v5/ws/connect
 * - REST `GET /v5/market/recent-trade`: https://bybit-exchange.github.io/docs/v5/market/recent-trade
 *
 * `S` (WebSocket) and `side` (REST) are "Side of taker": the side that crossed the spread, which is
 * exactly our aggressor side. "Buy" -> 'buy', "Sell" -> 'sell'; no inversion (unlike Binance's `m`).
 *
 * One WebSocket frame carries up to 1024 trades, sorted by match time ascending; they are returned
 * in the frame's order. Fields we do not need (`L` tick direction, `BT` block trade, `RPI`, `seq`,
 * and the options-only `mP`, `iP`, `mIv`, `iv`) are ignored, so are fields Bybit adds later.
 * Trade ids (`i`, `execId`) are kept as the strings Bybit sends: a UUID on linear, a decimal
 * number string on spot; neither is a gap-checkable sequence.
 *
 * Pure: text in, trades out. Sockets, REST and reconnects live in the collector app.
 */
import { type Instrument, type Side, type Trade, parseFixed, priceQtySideTimeRejectReason } from '@orderflow/footprint';
import type { ControlFrame } from './binance.normalizer.js';
import { NormalizeError } from './normalize.error.js';
import { describeValue, isObject, parseJsonObject } from './normalize.shared.js';

export interface BybitNormalizeOptions {
  /** The exchange id stamped on trades: 'bybit', 'bybit-linear', or a simulator's 'sim-bybit'. */
  exchange: string;
  /** Instruments by Bybit symbol ("BTCUSDT"). */
  instruments: ReadonlyMap<string, Instrument>;
}

const TOPIC_PREFIX = 'publicTrade.';
/** Bybit trade ids: decimal digits (spot) or UUIDs (derivatives). */
const BYBIT_ID = /^[0-9A-Za-z-]+$/;
/** Longest trade id accepted: UUIDs are 36 characters, spot ids 19 digits. */
const MAX_ID_LENGTH = 64;

/**
 * Normalises one text frame of Bybit's v5 public WebSocket. Trade frames give their trades in the
 * frame's order (an empty `data` gives []); subscription replies, pongs and failures (`success`
 * false) come back as control frames for the collector to log. Throws NormalizeError for anything
 * malformed; one bad trade rejects the whole frame, so a frame is never half-applied.
 */
export function normalizeBybitTrades(
  text: string,
  options: BybitNormalizeOptions,
  receiveTimeMs: number,
): Trade[] | ControlFrame {
  const root = parseJsonObject(text);
  // Replies to our requests carry `op` (subscribe, ping, pong) and `success`; pushes carry `topic`.
  if ('op' in root || 'success' in root) return { control: true, payload: root };
  const topic = root['topic'];
  if (typeof topic !== 'string') throw new NormalizeError('UNEXPECTED_SHAPE', 'frame has neither "topic" nor "op"');
  if (!topic.startsWith(TOPIC_PREFIX))
    throw new NormalizeError('UNEXPECTED_SHAPE', `topic ${show(topic)} is not publicTrade.<symbol>`);
  const data = root['data'];
  if (!Array.isArray(data)) throw new NormalizeError('UNEXPECTED_SHAPE', 'publicTrade frame needs a "data" array');

  const trades: Trade[] = [];
  let lastSymbol: string | undefined;
  let instrument: Instrument | undefined;
  for (let i = 0; i < data.length; i++) {
    const d: unknown = data[i];
    if (!isObject(d)) throw new NormalizeError('UNEXPECTED_SHAPE', `data[${i}] is not an object`);
    const symbol = d['s'];
    if (typeof symbol !== 'string') throw new NormalizeError('INVALID_FIELD', `data[${i}].s (symbol) must be a string`);
    if (symbol !== lastSymbol || instrument === undefined) {
      instrument = instrumentOf(symbol, options);
      lastSymbol = symbol;
    }
    const id = d['i'];
    if (typeof id !== 'string' || id.length > MAX_ID_LENGTH || !BYBIT_ID.test(id)) {
      throw new NormalizeError(
        'INVALID_FIELD',
        `data[${i}].i (trade id) must be 1 to ${MAX_ID_LENGTH} characters of 0-9 a-z A-Z -, got ${describeValue(id)}`,
      );
    }
    const p = d['p'];
    const v = d['v'];
    if (typeof p !== 'string')
      throw new NormalizeError('INVALID_FIELD', `data[${i}].p (price) must be a decimal string`);
    if (typeof v !== 'string')
      throw new NormalizeError('INVALID_FIELD', `data[${i}].v (size) must be a decimal string`);
    const side = sideOf(d['S'], i, 'S');
    const time = d['T'];
    if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0) {
      throw new NormalizeError(
        'INVALID_FIELD',
        `data[${i}].T (trade time) must be a non-negative integer of milliseconds`,
      );
    }
    trades.push(
      build(
        options,
        instrument,
        id,
        decimal(p, instrument.priceScale, i, 'p'),
        decimal(v, instrument.quantityScale, i, 'v'),
        side,
        time,
        receiveTimeMs,
        i,
      ),
    );
  }
  return trades;
}

/**
 * Normalises the body of `GET /v5/market/recent-trade?category=spot|linear&symbol=...`. Bybit lists
 * the newest trade first; the trades come back oldest first, ready to feed in time order. A non-zero
 * `retCode` throws NormalizeError (UNEXPECTED_SHAPE) carrying Bybit's `retMsg`.
 */
export function normalizeBybitRecentTrades(
  jsonText: string,
  options: BybitNormalizeOptions,
  receiveTimeMs: number,
): Trade[] {
  const root = parseJsonObject(jsonText);
  const retCode = root['retCode'];
  if (typeof retCode !== 'number') throw new NormalizeError('UNEXPECTED_SHAPE', 'response needs a numeric "retCode"');
  if (retCode !== 0) {
    throw new NormalizeError('UNEXPECTED_SHAPE', `Bybit error retCode ${retCode}: ${show(root['retMsg'])}`);
  }
  const result = root['result'];
  if (!isObject(result)) throw new NormalizeError('UNEXPECTED_SHAPE', 'response needs a "result" object');
  const list = result['list'];
  if (!Array.isArray(list)) throw new NormalizeError('UNEXPECTED_SHAPE', 'response needs a "result.list" array');

  const trades: Trade[] = [];
  let lastSymbol: string | undefined;
  let instrument: Instrument | undefined;
  for (let i = list.length - 1; i >= 0; i--) {
    const d: unknown = list[i];
    if (!isObject(d)) throw new NormalizeError('UNEXPECTED_SHAPE', `list[${i}] is not an object`);
    const symbol = d['symbol'];
    if (typeof symbol !== 'string') throw new NormalizeError('INVALID_FIELD', `list[${i}].symbol must be a string`);
    if (symbol !== lastSymbol || instrument === undefined) {
      instrument = instrumentOf(symbol, options);
      lastSymbol = symbol;
    }
    const id = d['execId'];
    if (typeof id !== 'string' || id.length > MAX_ID_LENGTH || !BYBIT_ID.test(id)) {
      throw new NormalizeError(
        'INVALID_FIELD',
        `list[${i}].execId (trade id) must be 1 to ${MAX_ID_LENGTH} characters of 0-9 a-z A-Z -, got ${describeValue(id)}`,
      );
    }
    const price = d['price'];
    const size = d['size'];
    if (typeof price !== 'string')
      throw new NormalizeError('INVALID_FIELD', `list[${i}].price must be a decimal string`);
    if (typeof size !== 'string') throw new NormalizeError('INVALID_FIELD', `list[${i}].size must be a decimal string`);
    const side = sideOf(d['side'], i, 'side', 'list');
    const time = msDigits(d['time'], `list[${i}].time`);
    trades.push(
      build(
        options,
        instrument,
        id,
        decimal(price, instrument.priceScale, i, 'price', 'list'),
        decimal(size, instrument.quantityScale, i, 'size', 'list'),
        side,
        time,
        receiveTimeMs,
        i,
        'list',
      ),
    );
  }
  return trades;
}

// ---- helpers ------------------------------------------------------------------------------

function instrumentOf(symbol: string, o: BybitNormalizeOptions): Instrument {
  const instrument = o.instruments.get(symbol);
  if (instrument === undefined)
    throw new NormalizeError('UNKNOWN_SYMBOL', `symbol ${symbol.slice(0, 40)} is not configured for ${o.exchange}`);
  return instrument;
}

function sideOf(v: unknown, i: number, field: string, array = 'data'): Side {
  if (v === 'Buy') return 'buy';
  if (v === 'Sell') return 'sell';
  throw new NormalizeError(
    'INVALID_FIELD',
    `${array}[${i}].${field} (taker side) must be "Buy" or "Sell", got ${show(v)}`,
  );
}

/** A millisecond timestamp sent as a string of digits ("1672052955758"). */
function msDigits(v: unknown, field: string): number {
  if (typeof v !== 'string' || v.length === 0 || v.length > 15)
    throw new NormalizeError('INVALID_FIELD', `${field} must be a string of millisecond digits`);
  let ms = 0;
  for (let k = 0; k < v.length; k++) {
    const c = v.charCodeAt(k) - 48;
    if (c < 0 || c > 9)
      throw new NormalizeError('INVALID_FIELD', `${field} must be a string of millisecond digits, got ${show(v)}`);
    ms = ms * 10 + c;
  }
  return ms;
}

function decimal(text: string, scale: number, i: number, field: string, array = 'data'): number {
  try {
    return parseFixed(text, scale);
  } catch (e) {
    throw new NormalizeError('INVALID_FIELD', `${array}[${i}].${field}: ${(e as Error).message}`, { cause: e });
  }
}

function build(
  o: BybitNormalizeOptions,
  instrument: Instrument,
  id: string,
  price: number,
  quantity: number,
  side: Side,
  timeMs: number,
  receiveTimeMs: number,
  i: number,
  array = 'data',
): Trade {
  const exchangeTimeUs = timeMs * 1000;
  const reason = priceQtySideTimeRejectReason(price, quantity, side, exchangeTimeUs);
  if (reason !== null) throw new NormalizeError('INVALID_FIELD', `${array}[${i}]: ${reason}`);
  return {
    exchange: o.exchange,
    symbol: instrument.symbol,
    id,
    price,
    quantity,
    side,
    exchangeTimeUs,
    receiveTimeMs,
  };
}

/** A value for an error reason, bounded so hostile frames cannot bloat logs. */
function show(v: unknown): string {
  return describeValue(v);
}
