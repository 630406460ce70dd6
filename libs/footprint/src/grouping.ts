import { invalidArgument } from './errors.js';

/**
 * How a price maps to a level of `step` price units (step = N ticks):
 * - 'nearest': the nearest multiple of step, ties to the even multiple (banker's rounding, as
 *   Python's round() and the seed design do), computed exactly on integers;
 * - 'down': the multiple at or below, so a level covers [level, level + step).
 */
export type GroupingMode = 'nearest' | 'down';

export function groupPrice(price: number, step: number, mode: GroupingMode): number {
  if (step === 1) return price;
  const r = price % step;
  const base = price - r;
  if (mode === 'down' || r === 0) return base;
  const twice = 2 * r;
  if (twice < step) return base;
  if (twice > step) return base + step;
  // Exactly half-way: to the even multiple.
  return (base / step) % 2 === 0 ? base : base + step;
}

export function assertStep(step: number): number {
  if (!Number.isSafeInteger(step) || step < 1)
    throw invalidArgument(`grouping step must be a positive integer of price units, got ${step}`);
  return step;
}

export function assertMode(mode: unknown): GroupingMode {
  if (mode !== 'nearest' && mode !== 'down')
    throw invalidArgument(`grouping mode must be "nearest" or "down", got ${JSON.stringify(mode)}`);
  return mode;
}
