/**
 * VWAP and its σ bands, from README ("volume-weighted, with 1/2/3 σ bands, session-anchored or
 * anchored at any time; exact sums, decimals rounded half to even") and the doc comment of
 * vwapBands in libs/footprint/src/orderflow.ts:
 *
 * - VWAP = Σ(p·v) / Σv over every trade since the anchor (the session start when resetting each
 *   session, else the first candle at or after `anchorTime`, else the first candle);
 * - σ² = Σ(v·p²)/Σv − VWAP² (volume-weighted); band k = VWAP ± k·σ, k = 1, 2, 3;
 * - one point per candle once something has traded, each figure a price with `decimals`
 *   fractional digits (default priceScale + 4), rounded half to even.
 *
 * Here every figure is the exact real value rounded once: VWAP is rational, σ and the bands are
 * (A + c·√B) / S with integers A, c, B, S, rounded by exact comparisons (no floats, no square
 * root approximations in the result).
 *
 * The engine is held to the same: VWAP, σ and every band equal to the last decimal
 * (`vwapDifferences`).
 */
import type { RefCandle } from './candles.js';
import { type Session, decimalString, sessionOf } from './units.js';

export interface RefVwapPoint {
  openTime: number;
  vwap: string;
  stdDev: string;
  upper: [string, string, string];
  lower: [string, string, string];
}

export interface VwapOptions {
  priceScale: number;
  decimals?: number;
  anchorTime?: number;
  resetEachSession?: boolean;
  session?: Session;
}

/** Sign (-1, 0, 1) of a + c·√b, b >= 0, exactly. */
function signOf(a: bigint, c: bigint, b: bigint): number {
  const sign = (x: bigint) => (x > 0n ? 1 : x < 0n ? -1 : 0);
  if (c === 0n || b === 0n) return sign(a);
  if (a >= 0n && c > 0n) return 1;
  if (a <= 0n && c < 0n) return -1;
  // opposite signs: compare squares
  const sq = a * a - c * c * b;
  return a > 0n ? sign(sq) : -sign(sq);
}

/** The largest integer r with r² <= b (binary search). */
function floorSqrt(b: bigint): bigint {
  let lo = 0n;
  let hi = b + 1n;
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    if (mid * mid <= b) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** (a + c·√b) / s (s > 0) rounded to an integer, half to even, exactly. */
export function roundSqrtExpression(a: bigint, c: bigint, b: bigint, s: bigint): bigint {
  // r = floor(x): the largest r with r·s <= a + c·√b; start near it and step.
  let r = (a + c * floorSqrt(b)) / s;
  while (signOf(a - r * s, c, b) < 0) r -= 1n;
  while (signOf(a - (r + 1n) * s, c, b) >= 0) r += 1n;
  // compare the fraction x - r with 1/2: sign of 2a - (2r + 1)s + 2c·√b
  const half = signOf(2n * a - (2n * r + 1n) * s, 2n * c, b);
  if (half > 0) return r + 1n;
  if (half < 0) return r;
  return r % 2n === 0n ? r : r + 1n;
}

export function vwapPoints(candles: readonly RefCandle[], options: VwapOptions): RefVwapPoint[] {
  const decimals = options.decimals ?? options.priceScale + 4;
  const f = 10n ** BigInt(decimals - options.priceScale);
  const out: RefVwapPoint[] = [];
  let sv = 0n;
  let spv = 0n;
  let sp2v = 0n;
  let session: number | null = null;
  for (const c of candles) {
    if (options.anchorTime !== undefined && c.openTime < options.anchorTime) continue;
    if (c.step !== 1n) throw new Error('VWAP is defined on trade prices: give candles at native ticks');
    if (options.resetEachSession) {
      const s = sessionOf(c.openTime, options.session);
      if (s !== session) {
        session = s;
        sv = spv = sp2v = 0n;
      }
    }
    for (const l of c.levels) {
      const v = l.buy + l.sell;
      sv += v;
      spv += l.price * v;
      sp2v += l.price * l.price * v;
    }
    if (sv === 0n) continue;
    // In units of 10^-decimals of a price: VWAP = spv·f / sv; σ = √((sp2v·sv − spv²)·f²) / sv.
    const a = spv * f;
    const b = (sp2v * sv - spv * spv) * f * f;
    const fmt = (x: bigint) => decimalString(x, decimals);
    const band = (k: bigint) => fmt(roundSqrtExpression(a, k, b, sv));
    out.push({
      openTime: c.openTime,
      vwap: band(0n),
      stdDev: fmt(roundSqrtExpression(0n, 1n, b, sv)),
      upper: [band(1n), band(2n), band(3n)],
      lower: [band(-1n), band(-2n), band(-3n)],
    });
  }
  return out;
}

/** What differs between points and the oracle's, every figure exactly; empty when they agree. */
export function vwapDifferences(
  actual: readonly Omit<RefVwapPoint, never>[],
  expected: readonly RefVwapPoint[],
): string[] {
  const out: string[] = [];
  if (actual.length !== expected.length) return [`${actual.length} points, expected ${expected.length}`];
  expected.forEach((e, i) => {
    const a = actual[i]!;
    const at = `point ${i} (${e.openTime})`;
    if (a.openTime !== e.openTime) out.push(`${at}: openTime ${a.openTime}`);
    if (a.vwap !== e.vwap) out.push(`${at}: vwap ${a.vwap}, expected ${e.vwap}`);
    if (a.stdDev !== e.stdDev) out.push(`${at}: stdDev ${a.stdDev}, expected ${e.stdDev}`);
    for (let k = 1; k <= 3; k++) {
      for (const side of ['upper', 'lower'] as const) {
        if (a[side][k - 1] !== e[side][k - 1])
          out.push(`${at}: ${side} ${k}σ ${a[side][k - 1]}, expected ${e[side][k - 1]}`);
      }
    }
  });
  return out;
}
