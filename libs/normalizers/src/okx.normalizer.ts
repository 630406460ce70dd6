/**
 * OKX v5 public trades: spot, SWAP and FUTURES instruments.
 * - WebSocket `trades` channel (/ws/v5/public):
 * https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-trades-channel
 * - WebSocket `trades-all` channel (/ws/v5/business):
 * https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-all-trades-channel
 * - Connect, ping/pong, subscribe and error events: https://www.okx.com/docs-v5/en/#overview-websocket
 * - REST `GET /api/v5/market/trades`: https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-trades
 * - REST `GET /api/v5/market/history-trades`:
 * https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-trades-history
 *
 * `side` is "Trade side of taker": the aggressor side, kept as is ('buy' / 'sell').
 *
 * `trades` aggregates the fills of one taker order at one price into a single trade whose `tradeId`
 * is the LAST id of the aggregation and `count` the number of fills (so ids may skip); `trades-all`
 * pushes every fill, one per frame. Both have the same data shape; `count`, `source` and `seqId`
 * are ignored, as are fields OKX adds later.
 *
 * Quantities: for spot `sz` is in the base currency; for SWAP / FUTURES (`BTC-USDT-SWAP`) `sz` is a
 * number of CONTRACTS, not coins. We keep the exchange's quantity unconverted: the instrument's
 * quantityScale must then be the decimals of the contract lot size (`lotSz`, e.g. "0.01" contracts)
 * and every volume of such an instrument counts contracts. Converting to coins needs the contract
 * value (`ctVal`) and is the caller's business, never done here with floats.
 *
 * Pure: text in, trades out. Sockets, REST and reconnects live in the collector app.
 */
import { type Instrument, type Side, type Trade, parseFixed, priceQtySideTimeRejectReason } from '@orderflow/footprint';
import type { ControlFrame } from './binance.normalizer.js';
import { NormalizeError } from './normalize.error.js';
import { describeValue, isObject, parseJsonObject } from './normalize.shared.js';

export interface OkxNormalizeOptions {
  /** The exchange id stamped on trades: 'okx', 'okx-swap', or a simulator's 'sim-okx'. */
  exchange: string;
  /** Instruments by OKX instId ("BTC-USDT", "BTC-USDT-SWAP"). */
  instruments: ReadonlyMap<string, Instrument>;
}

/** OKX trade ids are decimal numbers (the collector sequences them as integers). */
const OKX_ID = /^[0-9]{1,20}$/;
/** Longest trade id accepted (OKX ids are decimal numbers of up to 19 digits). */
const MAX_ID_LENGTH = 64;

/**
 * Normalises one text frame of OKX's v5 public (or business) WebSocket. Trade frames of the
 * `trades` and `trades-all` channels give their trades in the frame's order; the text `pong`
 * (the reply to our text `ping`) and `event` frames (subscribe, unsubscribe, error, notice, ...)
 * come back as control frames for the collector to log. Throws NormalizeError for anything
 * malformed; one bad trade rejects the whole frame.
 */
export function normalizeOkxTrades(
  text: string,
  options: OkxNormalizeOptions,
  receiveTimeMs: number,
): Trade[] | ControlFrame {
  if (text === 'pong') return { control: true, payload: 'pong' };
  const root = parseJsonObject(text);
  if ('event' in root) return { control: true, payload: root };
  const arg = root['arg'];
  if (!isObject(arg)) throw new NormalizeError('UNEXPECTED_SHAPE', 'frame has neither "event" nor an "arg" object');
  const channel = arg['channel'];
  if (channel !== 'trades' && channel !== 'trades-all') {
    throw new NormalizeError('UNEXPECTED_SHAPE', `channel ${show(channel)} is not trades or trades-all`);
  }
  const data = root['data'];
  if (!Array.isArray(data)) throw new NormalizeError('UNEXPECTED_SHAPE', 'trades frame needs a "data" array');
  return tradesOf(data, options, receiveTimeMs, false);
}

/**
 * Normalises the body of `GET /api/v5/market/history-trades?instId=...&type=1&after=<tradeId>` or
 * `GET /api/v5/market/trades?instId=...`. OKX lists the newest trade first; the trades come back
 * oldest first. A `code` other than "0" throws NormalizeError (UNEXPECTED_SHAPE) carrying OKX's `msg`.
 */
export function normalizeOkxHistoryTrades(
  jsonText: string,
  options: OkxNormalizeOptions,
  receiveTimeMs: number,
): Trade[] {
  const root = parseJsonObject(jsonText);
  const code = root['code'];
  if (typeof code !== 'string') throw new NormalizeError('UNEXPECTED_SHAPE', 'response needs a string "code"');
  if (code !== '0') throw new NormalizeError('UNEXPECTED_SHAPE', `OKX error code ${show(code)}: ${show(root['msg'])}`);
  const data = root['data'];
  if (!Array.isArray(data)) throw new NormalizeError('UNEXPECTED_SHAPE', 'response needs a "data" array');
  return tradesOf(data, options, receiveTimeMs, true);
}

// ---- helpers ------------------------------------------------------------------------------

/**
 * The trade objects of `data`, the same shape on the WebSocket and in the REST responses, in
 * time order: as listed, or reversed when the list is newest first (REST).
 */
function tradesOf(
  data: readonly unknown[],
  o: OkxNormalizeOptions,
  receiveTimeMs: number,
  newestFirst: boolean,
): Trade[] {
  const trades: Trade[] = [];
  const n = data.length;
  // A frame repeats one instId: look it up once, not once per trade.
  let lastInstId: string | undefined;
  let instrument: Instrument | undefined;
  for (let k = 0; k < n; k++) {
    const i = newestFirst ? n - 1 - k : k;
    const d: unknown = data[i];
    if (!isObject(d)) throw new NormalizeError('UNEXPECTED_SHAPE', `data[${i}] is not an object`);
    const instId = d['instId'];
    if (typeof instId !== 'string') throw new NormalizeError('INVALID_FIELD', `data[${i}].instId must be a string`);
    if (instId !== lastInstId || instrument === undefined) {
      instrument = o.instruments.get(instId);
      if (instrument === undefined)
        throw new NormalizeError('UNKNOWN_SYMBOL', `instId ${instId.slice(0, 40)} is not configured for ${o.exchange}`);
      lastInstId = instId;
    }
    const id = d['tradeId'];
    if (typeof id !== 'string' || !OKX_ID.test(id)) {
      throw new NormalizeError(
        'INVALID_FIELD',
        `data[${i}].tradeId must be a string of 1 to ${MAX_ID_LENGTH} decimal digits, got ${describeValue(id)}`,
      );
    }
    const px = d['px'];
    const sz = d['sz'];
    if (typeof px !== 'string')
      throw new NormalizeError('INVALID_FIELD', `data[${i}].px (price) must be a decimal string`);
    if (typeof sz !== 'string')
      throw new NormalizeError('INVALID_FIELD', `data[${i}].sz (size) must be a decimal string`);
    const s = d['side'];
    let side: Side;
    if (s === 'buy' || s === 'sell') side = s;
    else
      throw new NormalizeError('INVALID_FIELD', `data[${i}].side (taker side) must be "buy" or "sell", got ${show(s)}`);
    const timeMs = msDigits(d['ts'], i);
    const price = decimal(px, instrument.priceScale, i, 'px');
    const quantity = decimal(sz, instrument.quantityScale, i, 'sz');
    const exchangeTimeUs = timeMs * 1000;
    const reason = priceQtySideTimeRejectReason(price, quantity, side, exchangeTimeUs);
    if (reason !== null) throw new NormalizeError('INVALID_FIELD', `data[${i}]: ${reason}`);
    trades.push({
      exchange: o.exchange,
      symbol: instrument.symbol,
      id,
      price,
      quantity,
      side,
      exchangeTimeUs,
      receiveTimeMs,
    });
  }
  return trades;
}

/** `ts`: milliseconds sent as a string of digits ("1630048897897"). */
function msDigits(v: unknown, i: number): number {
  if (typeof v !== 'string' || v.length === 0 || v.length > 15) {
    throw new NormalizeError('INVALID_FIELD', `data[${i}].ts (trade time) must be a string of millisecond digits`);
  }
  let ms = 0;
  for (let k = 0; k < v.length; k++) {
    const c = v.charCodeAt(k) - 48;
    if (c < 0 || c > 9)
      throw new NormalizeError(
        'INVALID_FIELD',
        `data[${i}].ts (trade time) must be a string of millisecond digits, got ${show(v)}`,
      );
    ms = ms * 10 + c;
  }
  return ms;
}

function decimal(text: string, scale: number, i: number, field: string): number {
  try {
    return parseFixed(text, scale);
  } catch (e) {
    throw new NormalizeError('INVALID_FIELD', `data[${i}].${field}: ${(e as Error).message}`, { cause: e });
  }
}

/** A value for an error reason, bounded so hostile frames cannot bloat logs. */
function show(v: unknown): string {
  return describeValue(v);
}
