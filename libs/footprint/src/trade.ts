import { TradeError } from './errors.js';

/**
 * The aggressor side: who crossed the spread. `buy` = an aggressive buyer lifted the offer.
 * Binance's `m = true` means the BUYER was the maker, so the aggressor was the SELLER:
 * side = m ? 'sell' : 'buy'.
 */
export type Side = 'buy' | 'sell';

/**
 * One public trade, normalised. Meaning is defined here once:
 * - `price` and `quantity` are integer units of the instrument's price and quantity scales
 *   (see Instrument), parsed once from the exchange's decimal strings;
 * - `exchangeTimeUs` is the exchange's trade time in microseconds since the Unix epoch
 *   (milliseconds * 1000 where the exchange gives only milliseconds);
 * - `receiveTimeMs` is when our collector received it, in milliseconds (local clock).
 */
export interface Trade {
  readonly exchange: string;
  readonly symbol: string;
  /** The exchange's trade id as a string (Binance aggregate id `a`, Bybit UUID, OKX tradeId). */
  readonly id: string;
  readonly price: number;
  readonly quantity: number;
  readonly side: Side;
  readonly exchangeTimeUs: number;
  readonly receiveTimeMs: number;
}

/** 2009-01-03 (first Bitcoin block) and 2100-01-01: any exchange time outside is a bad timestamp. */
export const MIN_TIME_US = 1_230_940_800_000_000;
export const MAX_TIME_US = 4_102_444_800_000_000;

/**
 * Why a trade is unusable, or null when it is fine. Cheap enough to run on every trade.
 * Checks the fields the engine relies on; identity fields only for presence.
 */
export function tradeRejectReason(t: Trade): string | null {
  if (t === null || typeof t !== 'object') return 'not an object';
  if (typeof t.exchange !== 'string' || t.exchange.length === 0) return 'exchange missing';
  if (typeof t.symbol !== 'string' || t.symbol.length === 0) return 'symbol missing';
  if (typeof t.id !== 'string' || t.id.length === 0) return 'trade id missing';
  return priceQtySideTimeRejectReason(t.price, t.quantity, t.side, t.exchangeTimeUs);
}

/** The numeric part of tradeRejectReason, shared with the engine's hot path. */
export function priceQtySideTimeRejectReason(
  price: number,
  quantity: number,
  side: unknown,
  timeUs: number,
): string | null {
  if (!Number.isSafeInteger(price) || price <= 0)
    return `price must be a positive integer of units, got ${String(price)}`;
  if (!Number.isSafeInteger(quantity) || quantity <= 0) {
    return `quantity must be a positive integer of units, got ${String(quantity)}`;
  }
  if (side !== 'buy' && side !== 'sell') return `side must be "buy" or "sell", got ${JSON.stringify(side)}`;
  if (!Number.isSafeInteger(timeUs) || timeUs < MIN_TIME_US || timeUs >= MAX_TIME_US) {
    return `exchange time must be integer microseconds between 2009 and 2100, got ${String(timeUs)}`;
  }
  return null;
}

/** Throws a TradeError naming the reason, or returns the trade. */
export function assertValidTrade(t: Trade): Trade {
  const reason = tradeRejectReason(t);
  if (reason !== null) throw new TradeError(reason);
  return t;
}
