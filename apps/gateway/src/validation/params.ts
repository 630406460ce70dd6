import { EXCHANGES } from '@orderflow/contracts';
import {
  type GroupingMode,
  MAX_TIME_US,
  MIN_TIME_US,
  TIMEFRAMES,
  type Timeframe,
  isTimeframe,
} from '@orderflow/footprint';
import {
  MERGED_MARKETS,
  MERGED_SYMBOL,
  isKnownExchange,
  mergedMarket,
  pairOf,
} from '../instruments/instrument.view.js';
import { RequestError, badRequest } from '../request.error.js';

/**
 * Validation shared by the Socket.IO events and the HTTP parameters: every value is checked for
 * type, pattern and range before it reaches SQL text, a NATS subject or the engine, and every
 * refusal names the field, what it got and what is allowed. Socket.IO payloads are JSON values
 * (numbers must be numbers); HTTP query values are strings (integers must be plain digits).
 */

/** Exchange ids and symbols are NATS subject tokens (see @orderflow/contracts assertToken). */
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
export const MIN_TIME_MS = MIN_TIME_US / 1000;
export const MAX_TIME_MS = MAX_TIME_US / 1000;
export const MAX_TICKS = 10_000;
const ALL_EXCHANGES = () => [...EXCHANGES.map((e) => e.id), ...MERGED_MARKETS.map((m) => m.id)].join(', ');

export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** A plain object with no keys outside `allowed` (a typo is an error, not a silent default). */
export function requireObject(v: unknown, what: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw badRequest(`${what} must be an object, got ${show(v)}`);
  const unknown = Object.keys(v).filter((k) => !allowed.includes(k));
  if (unknown.length > 0)
    throw badRequest(
      `${what}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown
        .slice(0, 5)
        .map((k) => show(k))
        .join(', ')} (allowed: ${allowed.join(', ')})`,
    );
  return v as Record<string, unknown>;
}

export function parseExchange(v: unknown, field = 'exchange'): string {
  if (typeof v !== 'string') throw badRequest(`${field} must be a string, got ${show(v)}`);
  if (!TOKEN.test(v) || !isKnownExchange(v))
    throw new RequestError(
      'unknown-exchange',
      `${field} ${show(v)} is not a known exchange id: expected one of ${ALL_EXCHANGES()}`,
    );
  return v;
}

export function parseSymbol(v: unknown, exchange: string, field = 'symbol'): string {
  if (typeof v !== 'string') throw badRequest(`${field} must be a string, got ${show(v)}`);
  if (mergedMarket(exchange)) {
    const m = MERGED_SYMBOL.exec(v);
    if (!m)
      throw badRequest(
        `${field} of ${exchange} must be BASE-QUOTE in capitals and digits (e.g. BTC-USDT), got ${show(v)}`,
      );
    // the members are BASE+QUOTE (Binance, Bybit) and BASE-QUOTE (OKX): B-TCUSDT would serve BTCUSDT under a false name
    const read = pairOf(m[1]! + m[2]!);
    if (read !== null && (read.base !== m[1] || read.quote !== m[2])) {
      throw badRequest(
        `${field} ${show(v)} of ${exchange} splits the pair wrongly: ${m[1]}${m[2]} is ${read.base}-${read.quote}`,
      );
    }
  } else if (!TOKEN.test(v)) {
    throw badRequest(`${field} must be 1-64 characters of A-Z a-z 0-9 _ -, got ${show(v)}`);
  }
  return v;
}

export function parseTimeframe(v: unknown, field = 'timeframe'): Timeframe {
  if (!isTimeframe(v)) throw badRequest(`${field} must be one of ${TIMEFRAMES.join(', ')}, got ${show(v)}`);
  return v;
}

export function parseMode(v: unknown, field = 'mode'): GroupingMode {
  if (v === undefined) return 'nearest';
  if (v !== 'nearest' && v !== 'down') throw badRequest(`${field} must be "nearest" or "down", got ${show(v)}`);
  return v;
}

/** A JSON integer (Socket.IO) in [min, max]. */
export function parseIntField(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw badRequest(`${field} must be an integer from ${min} to ${max}, got ${show(v)}`);
  if (v < min || v > max) throw badRequest(`${field} must be an integer from ${min} to ${max}, got ${v}`);
  return v;
}

/** An HTTP query value: a single string, or undefined when absent. */
export function queryValue(q: Record<string, unknown>, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest(`${name} must be given once, as a plain value`);
  return v;
}

/** An HTTP integer parameter: plain decimal digits (optional minus when min < 0), within [min, max]. */
export function queryInt(
  q: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
  fallback?: number,
): number {
  const v = queryValue(q, name);
  if (v === undefined) {
    if (fallback === undefined) throw badRequest(`${name} is required: an integer from ${min} to ${max}`);
    return fallback;
  }
  if (!/^-?\d{1,16}$/.test(v) || !Number.isSafeInteger(Number(v)))
    throw badRequest(`${name} must be an integer from ${min} to ${max}, got ${show(v)}`);
  const n = Number(v);
  if (n < min || n > max) throw badRequest(`${name} must be an integer from ${min} to ${max}, got ${n}`);
  return n;
}

export function queryBool(q: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const v = queryValue(q, name);
  if (v === undefined) return fallback;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw badRequest(`${name} must be true or false, got ${show(v)}`);
}

export function queryEnum<T extends string>(
  q: Record<string, unknown>,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const v = queryValue(q, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v))
    throw badRequest(`${name} must be one of ${allowed.join(', ')}, got ${show(v)}`);
  return v as T;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * A time: integer milliseconds since the epoch, or an ISO-8601 date / date-time (UTC unless an
 * offset is given; `2024-08-09` is its midnight UTC). Between 2009 and 2100 like trade times.
 */
export function parseTime(v: string, name: string): number {
  let ms: number;
  if (/^\d{1,16}$/.test(v)) ms = Number(v);
  else {
    const m = ISO.exec(v);
    if (!m)
      throw badRequest(
        `${name} must be milliseconds since the epoch or an ISO-8601 time (2024-08-09T00:00:00Z), got ${show(v)}`,
      );
    const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '0', zone = 'Z'] = m;
    const base = Date.UTC(
      Number(y),
      Number(mo) - 1,
      Number(d),
      Number(h),
      Number(mi),
      Number(s),
      Number(frac.padEnd(3, '0')),
    );
    const check = new Date(base);
    if (
      check.getUTCMonth() !== Number(mo) - 1 ||
      check.getUTCDate() !== Number(d) ||
      Number(h) > 23 ||
      Number(mi) > 59 ||
      Number(s) > 59
    ) {
      throw badRequest(`${name} ${show(v)} is not a valid date-time`);
    }
    let offset = 0;
    if (zone !== 'Z') {
      const [oh, om] = [Number(zone.slice(1, 3)), Number(zone.slice(4, 6))];
      // an offset is at most 23:59 either way (+24:00 or +99:99 would silently move the time by days)
      if (oh > 23 || om > 59) throw badRequest(`${name} ${show(v)} has an invalid UTC offset: at most ±23:59`);
      offset = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
    }
    ms = base - offset;
  }
  if (!Number.isSafeInteger(ms) || ms < MIN_TIME_MS || ms >= MAX_TIME_MS)
    throw badRequest(`${name} must lie between 2009-01-03 and 2100-01-01, got ${show(v)}`);
  return ms;
}

export function queryTime(q: Record<string, unknown>, name: string): number | undefined {
  const v = queryValue(q, name);
  return v === undefined ? undefined : parseTime(v, name);
}

/** A positive decimal ("3", "2.5"), at most 9 decimals and 1e9: imbalance ratios, percentages. */
export function queryDecimal(
  q: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const v = queryValue(q, name);
  if (v === undefined) return fallback;
  if (!/^\d{1,9}(\.\d{1,9})?$/.test(v))
    throw badRequest(`${name} must be a decimal number from ${min} to ${max}, got ${show(v)}`);
  const n = Number(v);
  if (!(n >= min && n <= max)) throw badRequest(`${name} must be a decimal number from ${min} to ${max}, got ${v}`);
  return n;
}

/** Refuses query parameters that the endpoint does not know (a typo is an error, not a silent default). */
export function checkQueryKeys(q: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(q).filter((k) => !allowed.includes(k));
  if (unknown.length > 0)
    throw badRequest(
      `unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown
        .slice(0, 5)
        .map((k) => show(k))
        .join(', ')} (allowed: ${allowed.join(', ')})`,
    );
}
