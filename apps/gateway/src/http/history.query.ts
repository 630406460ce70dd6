import { type GroupingMode, TIMEFRAME_MS, type Timeframe } from '@orderflow/footprint';
import { badRequest } from '../request.error.js';
import {
  MAX_TICKS,
  checkQueryKeys,
  parseExchange,
  parseMode,
  parseSymbol,
  parseTimeframe,
  queryEnum,
  queryInt,
  queryTime,
  queryValue,
} from '../validation/params.js';

/** The parameters most history endpoints share, validated (see validation/params.ts). */
export interface RangeQuery {
  exchange: string;
  symbol: string;
  timeframe: Timeframe;
  /** First bucket (ms, aligned) and the end (exclusive, aligned). */
  from: number;
  to: number;
  /** Buckets in [from, to). */
  count: number;
}

export interface GroupingQuery {
  ticks: number;
  mode: GroupingMode;
}

export const FORMATS = ['json', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

export function instrumentOf(q: Record<string, unknown>): { exchange: string; symbol: string } {
  const ex = queryValue(q, 'exchange');
  if (ex === undefined) throw badRequest('exchange is required');
  const exchange = parseExchange(ex);
  const sym = queryValue(q, 'symbol');
  if (sym === undefined) throw badRequest('symbol is required');
  return { exchange, symbol: parseSymbol(sym, exchange) };
}

/**
 * exchange, symbol, timeframe, from (required) and to (default: now): `from` is taken down to its
 * bucket, `to` up to a bucket end; at most `maxCandles` buckets.
 */
export function rangeOf(q: Record<string, unknown>, maxCandles: number, timeframe?: Timeframe): RangeQuery {
  const { exchange, symbol } = instrumentOf(q);
  let tf: Timeframe;
  if (timeframe !== undefined) tf = timeframe;
  else {
    const text = queryValue(q, 'timeframe');
    if (text === undefined) throw badRequest('timeframe is required');
    tf = parseTimeframe(text);
  }
  const fromMs = queryTime(q, 'from');
  if (fromMs === undefined) throw badRequest('from is required: milliseconds since the epoch or an ISO-8601 time');
  const toMs = queryTime(q, 'to') ?? Date.now();
  if (toMs <= fromMs)
    throw badRequest(`to (${new Date(toMs).toISOString()}) must be after from (${new Date(fromMs).toISOString()})`);
  const len = TIMEFRAME_MS[tf];
  const from = fromMs - (fromMs % len);
  const to = toMs % len === 0 ? toMs : toMs - (toMs % len) + len;
  const count = (to - from) / len;
  if (count > maxCandles) {
    throw badRequest(
      `from..to covers ${count} ${tf} candles, at most ${maxCandles} in one request: narrow the range or use a larger timeframe`,
    );
  }
  return { exchange, symbol, timeframe: tf, from, to, count };
}

export function groupingOf(q: Record<string, unknown>): GroupingQuery {
  return { ticks: queryInt(q, 'ticks', 1, MAX_TICKS, 1), mode: parseMode(queryValue(q, 'mode')) };
}

export function formatOf(q: Record<string, unknown>): Format {
  return queryEnum(q, 'format', FORMATS, 'json');
}

export { checkQueryKeys };
