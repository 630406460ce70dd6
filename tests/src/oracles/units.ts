/**
 * Shared arithmetic of the oracles: grouping a price to a level, exact decimals and ratios,
 * sessions. BigInt throughout; a figure leaves an oracle as a number only through `toSafe`, which
 * refuses what a number cannot hold exactly.
 *
 * The oracles (every file of this folder but the specs) import nothing but each other: they are
 * written from the definitions in README "The footprint engine" and the engine's doc comments,
 * never from its code, so that a test comparing the two compares two readings of one definition.
 * independence.spec.ts checks their imports.
 */

export type Mode = 'nearest' | 'down';

/**
 * The level of `price` at `step` price units: 'nearest' is the nearest multiple of step, a price
 * exactly half-way going to the even multiple (Python's round); 'down' the multiple at or below.
 */
export function groupTo(price: bigint, step: bigint, mode: Mode): bigint {
  if (step < 1n) throw new Error(`step must be a positive integer, got ${step}`);
  if (price < 0n) throw new Error(`prices are non-negative units, got ${price}`);
  const below = (price / step) * step;
  if (mode === 'down' || below === price) return below;
  const above = below + step;
  const fromBelow = price - below;
  const toAbove = above - price;
  if (fromBelow < toAbove) return below;
  if (toAbove < fromBelow) return above;
  return (below / step) % 2n === 0n ? below : above;
}

/** A bigint as a number, refusing one that a number would not hold exactly. */
export function toSafe(x: bigint): number {
  if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < -BigInt(Number.MAX_SAFE_INTEGER))
    throw new Error(`${x} is beyond 2^53 - 1`);
  return Number(x);
}

/** A non-negative decimal string ("70", "2.5", ".5") as an exact fraction num/den. */
export function fraction(text: string): { num: bigint; den: bigint } {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) throw new Error(`not a non-negative decimal: "${text}"`);
  const frac = m[2] ?? '';
  return { num: BigInt((m[1] || '0') + frac), den: 10n ** BigInt(frac.length) };
}

/** units / 10^decimals written out with every decimal ("-0.0500" for -500 at 4). */
export function decimalString(units: bigint, decimals: number): string {
  const sign = units < 0n ? '-' : '';
  const digits = (units < 0n ? -units : units).toString().padStart(decimals + 1, '0');
  if (decimals === 0) return sign + digits;
  return `${sign}${digits.slice(0, digits.length - decimals)}.${digits.slice(digits.length - decimals)}`;
}

/**
 * The integer nearest to num/den (den > 0), exactly half-way going to the even one: the rounding
 * every decimal output of the engine is defined with ("rounded half to even").
 */
export function roundHalfEven(num: bigint, den: bigint): bigint {
  if (den <= 0n) throw new Error('denominator must be positive');
  // floor division, also for a negative numerator
  let q = num / den;
  if (q * den > num) q -= 1n;
  const twiceRest = 2n * (num - q * den);
  if (twiceRest > den) return q + 1n;
  if (twiceRest < den) return q;
  return q % 2n === 0n ? q : q + 1n;
}

/** Sessions start every `lengthMs` from `offsetMs` after midnight UTC (default: the UTC day). */
export interface Session {
  offsetMs?: number;
  lengthMs?: number;
}

export const DAY_MS = 86_400_000;

export function sessionOf(timeMs: number, session: Session = {}): number {
  const len = session.lengthMs ?? DAY_MS;
  const off = session.offsetMs ?? 0;
  return Math.floor((timeMs - off) / len) * len + off;
}
