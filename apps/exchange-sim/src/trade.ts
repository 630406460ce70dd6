/**
 * A trade inside the simulator. Prices and quantities stay the exact decimal strings that the
 * recording (or the generator) produced: the simulators put them on the wire untouched.
 */
export type AggressorSide = 'buy' | 'sell';

export interface SimTrade {
  /** Trade id (Binance aggregate id `a`, Bybit/OKX trade id). Ascending within a market. */
  readonly id: number;
  /** Exact decimal string, e.g. "61837.63000000". */
  readonly price: string;
  /** Exact decimal string, e.g. "0.02000000" (OKX SWAP: contracts). */
  readonly quantity: string;
  /** Trade time, ms since the epoch. */
  readonly time: number;
  /** Side of the taker (aggressor). Binance `m` = buyer is maker = side "sell". */
  readonly side: AggressorSide;
  /** Binance aggregate range `f`..`l`; equal to `id` for single trades. */
  readonly firstId: number;
  readonly lastId: number;
  /** Original event time `E` of a recorded message (replay); live trades use the send time. */
  readonly eventTime?: number;
  /** Binance `M` (was the trade the best price match); true unless a recording says otherwise. */
  readonly bestMatch?: boolean;
}

const DECIMAL = /^\d+(\.\d+)?$/;

/** True for a plain non-negative decimal string ("0.001", "42"), the only form the wire formats allow. */
export function isPlainDecimal(text: string): boolean {
  return DECIMAL.test(text);
}
