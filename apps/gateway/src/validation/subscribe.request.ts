import { SUBSCRIBE_FIELDS, type SubscribeRequest } from '@orderflow/contracts';
import { badRequest } from '../request.error.js';
import {
  MAX_TICKS,
  parseExchange,
  parseIntField,
  parseMode,
  parseSymbol,
  parseTimeframe,
  requireObject,
  show,
} from './params.js';

/** A `subscribe` payload, every field checked (see SubscribeRequest). */
export function parseSubscribeRequest(body: unknown, maxCandles: number): SubscribeRequest {
  const o = requireObject(body, 'subscribe request', SUBSCRIBE_FIELDS);
  for (const k of ['exchange', 'symbol', 'timeframe', 'ticks', 'candles'] as const) {
    if (o[k] === undefined)
      throw badRequest(
        `subscribe request: ${k} is required (fields: exchange, symbol, timeframe, ticks, candles, and optionally mode)`,
      );
  }
  const exchange = parseExchange(o['exchange']);
  return {
    exchange,
    symbol: parseSymbol(o['symbol'], exchange),
    timeframe: parseTimeframe(o['timeframe']),
    ticks: parseIntField(o['ticks'], 'ticks', 1, MAX_TICKS),
    candles: parseIntField(o['candles'], 'candles', 1, maxCandles),
    mode: parseMode(o['mode']),
  };
}

export function parseUnsubscribeRequest(body: unknown): string {
  const o = requireObject(body, 'unsubscribe request', ['subscriptionId']);
  const id = o['subscriptionId'];
  if (typeof id !== 'string' || id.length === 0 || id.length > 64)
    throw badRequest(`subscriptionId must be the string a subscribe acknowledged, got ${show(id)}`);
  return id;
}
