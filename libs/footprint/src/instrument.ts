import { decimalsOf, parseFixed, pow10 } from './decimal.js';
import { invalidArgument } from './errors.js';

/**
 * What the engine needs to know about an instrument to keep its numbers exact.
 * Prices are integer units of 10^-priceScale, quantities of 10^-quantityScale; `tick` is the
 * exchange's price increment in price units (1 when priceScale equals the tick's decimals,
 * 5 for a tick of 0.5 at priceScale 1). Grouping by N ticks uses a step of N * tick units.
 */
export interface Instrument {
  readonly exchange: string;
  readonly symbol: string;
  readonly priceScale: number;
  readonly quantityScale: number;
  readonly tick: number;
}

/** Builds an Instrument from the exchange's tick size and quantity step strings ("0.01", "0.00001"). */
export function instrumentFromSteps(
  exchange: string,
  symbol: string,
  tickSize: string,
  quantityStep: string,
): Instrument {
  const priceScale = decimalsOf(tickSize);
  const quantityScale = decimalsOf(quantityStep);
  const tick = parseFixed(tickSize, priceScale);
  const qstep = parseFixed(quantityStep, quantityScale);
  if (tick <= 0) throw invalidArgument(`${exchange} ${symbol}: tick size must be positive, got "${tickSize}"`);
  if (qstep <= 0) throw invalidArgument(`${exchange} ${symbol}: quantity step must be positive, got "${quantityStep}"`);
  pow10(priceScale);
  pow10(quantityScale);
  return { exchange, symbol, priceScale, quantityScale, tick };
}

/** Price units of a grouping of `ticks` native ticks. */
export function stepOf(instrument: Instrument, ticks: number): number {
  if (!Number.isSafeInteger(ticks) || ticks < 1)
    throw invalidArgument(`tick grouping must be a positive integer, got ${ticks}`);
  const step = instrument.tick * ticks;
  if (!Number.isSafeInteger(step)) throw invalidArgument(`tick grouping ${ticks} is too large`);
  return step;
}
