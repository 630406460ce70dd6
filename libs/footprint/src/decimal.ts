import { DecimalError } from './errors.js';

/**
 * Fixed-point decimals. Exchanges send prices and quantities as decimal strings ("64123.10",
 * "0.00150000"). We parse them once into integers of 10^-scale units and never sum floats.
 *
 * Units are JavaScript numbers holding integers: exact up to 2^53 - 1 (9.007e15). That covers a
 * day of any listed instrument at its native quantity step; sums that could exceed it are checked
 * (see OverflowError) and range-wide money figures (VWAP numerators) use bigint.
 */

export const MAX_SCALE = 15;

const POW10: readonly number[] = Array.from({ length: MAX_SCALE + 1 }, (_, i) => 10 ** i);

export function pow10(scale: number): number {
  const p = POW10[scale];
  if (p === undefined) throw new DecimalError('INVALID_DECIMAL', `scale ${scale} is outside 0..${MAX_SCALE}`);
  return p;
}

/**
 * Parses a non-negative decimal string into integer units of 10^-scale.
 * Accepts "123", "123.", "123.45", ".5", and trailing zeros beyond the scale ("0.00150000" at scale 5).
 * Rejects signs, exponents, spaces, empty strings, non-zero digits beyond the scale (that would lose
 * precision) and results above 2^53 - 1.
 *
 * Hand-rolled on char codes because it runs once per trade on the hot path (see the bench).
 */
export function parseFixed(text: string, scale: number): number {
  return parseFixedRange(text, 0, text.length, scale);
}

/** parseFixed on text[start, end) without slicing: lets parsers read fields in place. */
export function parseFixedRange(text: string, start: number, end: number, scale: number): number {
  const len = end;
  let units = 0;
  let i = start;
  let digits = 0;
  // integer part
  for (; i < len; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    units = units * 10 + c;
    digits++;
  }
  let frac = 0;
  let lost = false;
  if (i < len) {
    if (text.charCodeAt(i) !== 46 /* . */) throw badDecimal(text.slice(start, end));
    i++;
    for (; i < len; i++) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) throw badDecimal(text.slice(start, end));
      digits++;
      if (frac < scale) {
        units = units * 10 + c;
        frac++;
      } else if (c !== 0) {
        lost = true;
      }
    }
  }
  if (digits === 0) throw badDecimal(text.slice(start, end));
  if (lost)
    throw new DecimalError('PRECISION_LOSS', `"${text.slice(start, end)}" has more than ${scale} significant decimals`);
  if (frac < scale) units *= POW10[scale - frac]!;
  if (units > Number.MAX_SAFE_INTEGER) {
    throw new DecimalError('UNSAFE_INTEGER', `"${text.slice(start, end)}" at scale ${scale} exceeds 2^53 - 1 units`);
  }
  return units;
}

function badDecimal(text: string): DecimalError {
  const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  return new DecimalError('INVALID_DECIMAL', `"${shown}" is not a plain non-negative decimal`);
}

/** Prints integer units of 10^-scale as the exact decimal, trimming nothing: formatFixed(150, 5) = "0.00150". */
export function formatFixed(units: number | bigint, scale: number): string {
  if (typeof units === 'number' && !Number.isSafeInteger(units)) {
    throw new DecimalError('UNSAFE_INTEGER', `${units} is not a safe integer`);
  }
  const big = BigInt(units);
  const neg = big < 0n;
  const digits = (neg ? -big : big).toString();
  if (scale === 0) return (neg ? '-' : '') + digits;
  const padded = digits.padStart(scale + 1, '0');
  const cut = padded.length - scale;
  return `${neg ? '-' : ''}${padded.slice(0, cut)}.${padded.slice(cut)}`;
}

/** Like formatFixed, then drops trailing fractional zeros (and a bare point): "0.00150" -> "0.0015". */
export function formatFixedTrimmed(units: number | bigint, scale: number): string {
  const s = formatFixed(units, scale);
  if (scale === 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
}

/** Number of decimals a decimal string carries ("0.010" -> 3, "5" -> 0). */
export function decimalsOf(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/**
 * An exact rational num/den (den > 0) printed as a decimal with `decimals` fractional digits,
 * rounded half to even. Used for VWAP and other ratios of exact sums.
 */
export function formatRatio(num: bigint, den: bigint, decimals: number): string {
  if (den <= 0n) throw new DecimalError('INVALID_DECIMAL', 'ratio denominator must be positive');
  const scaled = num * 10n ** BigInt(decimals);
  return formatFixed(divRoundHalfEven(scaled, den), decimals);
}

/** Integer division of a/b (b > 0) rounded half to even. */
export function divRoundHalfEven(a: bigint, b: bigint): bigint {
  let q = a / b;
  let r = a % b;
  if (r < 0n) {
    q -= 1n;
    r += b;
  }
  const twice = 2n * r;
  if (twice > b || (twice === b && (q & 1n) === 1n)) q += 1n;
  return q;
}

/**
 * floor(sqrt(n)) for n >= 0, exact on bigint: Newton's method from a power of two above the root,
 * which only descends and stops at the floor (O(log bits) steps for any size). A float estimate
 * as the start is wrong beyond 2^53 (it may land below the root, from where only steps of 1 were
 * left: a request for many VWAP decimals froze the gateway) and is Infinity beyond 2^1024.
 */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new DecimalError('INVALID_DECIMAL', 'square root of a negative number');
  if (n < 2n) return n;
  let x = 1n << BigInt((n.toString(2).length >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** A ratio such as the imbalance threshold ("3", "2.5", 3) as an exact fraction num/den. */
export function parseRatio(value: number | string, what: string): { num: bigint; den: bigint } {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof value === 'number' && (!Number.isFinite(value) || value <= 0)) {
    throw new DecimalError('INVALID_DECIMAL', `${what} must be a positive number, got ${value}`);
  }
  const scale = Math.min(decimalsOf(text), 9);
  let units: number;
  try {
    units = parseFixed(text, scale);
  } catch (e) {
    throw new DecimalError(
      'INVALID_DECIMAL',
      `${what} must be a positive decimal with at most 9 decimals, got "${text}"`,
      {
        cause: e,
      },
    );
  }
  if (units <= 0) throw new DecimalError('INVALID_DECIMAL', `${what} must be positive, got "${text}"`);
  return { num: BigInt(units), den: 10n ** BigInt(scale) };
}
