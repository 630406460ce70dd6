import { type PriceLevel } from './candle.js';
import { divRoundHalfEven, formatFixed, isqrt, parseRatio } from './decimal.js';
import { invalidArgument } from './errors.js';
import type { CandleLike, PriceRange } from './profile.js';
import { TIMEFRAME_MS } from './timeframe.js';

function levelsOf(c: CandleLike): Iterable<PriceLevel> {
  return c.levels instanceof Map ? c.levels.values() : c.levels;
}

/**
 * Sessions. A session starts every `lengthMs` milliseconds from `offsetMs` after midnight UTC
 * (default: the UTC day). CVD and VWAP reset at session starts when asked to.
 */
export interface SessionSpec {
  offsetMs?: number;
  lengthMs?: number;
}

export function sessionStart(timeMs: number, session: SessionSpec = {}): number {
  const len = session.lengthMs ?? TIMEFRAME_MS['1d'];
  const off = session.offsetMs ?? 0;
  if (!Number.isSafeInteger(len) || len <= 0)
    throw invalidArgument(`session length must be a positive integer of ms, got ${len}`);
  if (!Number.isSafeInteger(off)) throw invalidArgument(`session offset must be an integer of ms, got ${off}`);
  const t = timeMs - off;
  const r = ((t % len) + len) % len;
  return t - r + off;
}

export interface CvdPoint {
  openTime: number;
  delta: number;
  /** Cumulative delta up to and including this candle (since the session start when resetting). */
  cvd: number;
  /** CVD's own OHLC within the candle: open = cvd before, high/low from the candle's max/min delta. */
  cvdOpen: number;
  cvdHigh: number;
  cvdLow: number;
}

/** Cumulative volume delta across candles (in time order), optionally reset at each session start. */
export function cumulativeDelta(
  candles: readonly CandleLike[],
  options: { resetEachSession?: boolean; session?: SessionSpec } = {},
): CvdPoint[] {
  const out: CvdPoint[] = [];
  let cvd = 0;
  let session: number | null = null;
  for (const c of candles) {
    if (options.resetEachSession) {
      const s = sessionStart(c.openTime, options.session);
      if (s !== session) {
        session = s;
        cvd = 0;
      }
    }
    const delta = c.buyVolume - c.sellVolume;
    const before = cvd;
    cvd += delta;
    const empty = c.buyTrades + c.sellTrades === 0;
    out.push({
      openTime: c.openTime,
      delta,
      cvd,
      cvdOpen: before,
      cvdHigh: empty ? before : before + c.maxDelta,
      cvdLow: empty ? before : before + c.minDelta,
    });
  }
  return out;
}

export interface VwapPoint {
  openTime: number;
  /** Exact decimals (rounded half to even at `decimals` places), prices in the instrument's scale. */
  vwap: string;
  stdDev: string;
  upper: [string, string, string];
  lower: [string, string, string];
  /** The same as numbers, for charts. */
  values: { vwap: number; stdDev: number };
}

export interface VwapOptions {
  /** The instrument's price scale: output decimals are prices, not units. */
  priceScale: number;
  /** Fractional digits of the output (default priceScale + 4). */
  decimals?: number;
  /** Start accumulating at this time (ms, inclusive); earlier candles are skipped. */
  anchorTime?: number;
  /** Restart at each session start (session-anchored VWAP). */
  resetEachSession?: boolean;
  session?: SessionSpec;
}

/**
 * VWAP with 1, 2 and 3 standard deviation bands, volume-weighted: sigma^2 = sum(v p^2)/sum(v) - vwap^2.
 * The sums are exact bigints over the levels, so candles must carry exact trade prices (native
 * ticks, `onGrid`); compute VWAP before grouping to coarser ticks.
 */
export function vwapBands(candles: readonly CandleLike[], options: VwapOptions): VwapPoint[] {
  const scale = options.priceScale;
  if (!Number.isInteger(scale) || scale < 0 || scale > 15)
    throw invalidArgument(`priceScale must be an integer in 0..15, got ${scale}`);
  const decimals = options.decimals ?? scale + 4;
  if (!Number.isInteger(decimals) || decimals < scale || decimals > 30) {
    throw invalidArgument(`decimals must be an integer between priceScale and 30, got ${decimals}`);
  }
  const extra = BigInt(decimals - scale);
  const out: VwapPoint[] = [];
  let sv = 0n;
  let spv = 0n;
  let sp2v = 0n;
  let session: number | null = null;
  for (const c of candles) {
    if (options.anchorTime !== undefined && c.openTime < options.anchorTime) continue;
    if (!c.onGrid) {
      throw invalidArgument(
        'VWAP needs candles whose levels are exact trade prices (native ticks): compute it before grouping',
      );
    }
    if (options.resetEachSession) {
      const s = sessionStart(c.openTime, options.session);
      if (s !== session) {
        session = s;
        sv = spv = sp2v = 0n;
      }
    }
    for (const l of levelsOf(c)) {
      const v = BigInt(l.buyVolume + l.sellVolume);
      const p = BigInt(l.price);
      sv += v;
      spv += p * v;
      sp2v += p * p * v;
    }
    if (sv === 0n) continue;
    // Everything in units of 10^-(decimals) of a price: multiply by 10^extra before dividing.
    const f = 10n ** extra;
    const vwapScaled = divRoundHalfEven(spv * f, sv);
    // variance * sv^2 = sp2v*sv - spv^2 (exact, >= 0); sd = sqrt(that) / sv
    const varNum = sp2v * sv - spv * spv;
    const sdScaled = sqrtRatioHalfEven(varNum * f * f, sv);
    const fmt = (x: bigint) => formatFixed(x, decimals);
    // band k = (spv·f + k·√(varNum·f²)) / sv, itself rounded once (not rounded VWAP + k·rounded σ)
    const band = (k: bigint) => fmt(bandHalfEven(spv * f, k, varNum * f * f, sv));
    out.push({
      openTime: c.openTime,
      vwap: fmt(vwapScaled),
      stdDev: fmt(sdScaled),
      upper: [band(1n), band(2n), band(3n)],
      lower: [band(-1n), band(-2n), band(-3n)],
      values: { vwap: Number(vwapScaled) / 10 ** decimals, stdDev: Number(sdScaled) / 10 ** decimals },
    });
  }
  return out;
}

/**
 * round((a + k·√w) / d) half to even, exactly (d > 0, w >= 0). With t = k·√w = ±√(4k²w)/2:
 * n = floor(2a + 2t) from the integer square root of 4k²w (exact when it is a perfect square);
 * round(x) = floor(x + 1/2) = floor((n + d) / 2d), since the fraction of 2a + 2t cannot carry past
 * a multiple of 2d; a tie (x + 1/2 an integer) needs 2t exact, and then goes to the even neighbour.
 */
function bandHalfEven(a: bigint, k: bigint, w: bigint, d: bigint): bigint {
  const square = 4n * k * k * w;
  const root = isqrt(square);
  const exact = root * root === square;
  const n = 2n * a + (k >= 0n ? root : -root - (exact ? 0n : 1n));
  const twoD = 2n * d;
  const num = n + d;
  let q = num / twoD;
  if (num % twoD !== 0n && num < 0n) q -= 1n; // floor, not truncation
  if (exact && num % twoD === 0n && (q & 1n) === 1n) q -= 1n;
  return q;
}

/** round(sqrt(n) / d) half to even, exactly: q = isqrt(floor(n / d^2)), up when 4n >= (2q + 1)^2 d^2. */
function sqrtRatioHalfEven(n: bigint, d: bigint): bigint {
  const q = isqrt(n / (d * d));
  const lhs = 4n * n;
  const rhs = (2n * q + 1n) ** 2n * d * d;
  if (lhs > rhs || (lhs === rhs && (q & 1n) === 1n)) return q + 1n;
  return q;
}

export interface ImbalanceOptions {
  /** Buy at p against sell at p - 1 level (and the mirror) must be at least this ratio (default 3). */
  ratio?: number | string;
  /** The dominant side's volume must be at least this (quantity units, default 1: any). */
  minVolume?: number;
  /** Consecutive imbalanced levels that make a stacked imbalance (default 3). */
  stackCount?: number;
}

export interface Imbalance {
  price: number;
  side: 'buy' | 'sell';
  /** The dominant volume and the diagonal volume it is compared with. */
  volume: number;
  against: number;
}

export interface StackedImbalance extends PriceRange {
  side: 'buy' | 'sell';
  count: number;
}

/**
 * Diagonal imbalances of one candle at its grouping. Footprints are read diagonally because the
 * ask at p is lifted by buyers while the bid one level below is hit by sellers:
 * - buy imbalance at p when buy(p) >= ratio * sell(p - step);
 * - sell imbalance at p when sell(p) >= ratio * buy(p + step).
 * An empty opposite cell (0) counts as an imbalance when the dominant side reaches minVolume.
 * Comparisons are exact (bigint cross-multiplication of the decimal ratio).
 */
export function imbalances(
  candle: CandleLike,
  options: ImbalanceOptions = {},
): { imbalances: Imbalance[]; stacked: StackedImbalance[] } {
  const { num, den } = parseRatio(options.ratio ?? 3, 'imbalance ratio');
  const minVolume = options.minVolume ?? 1;
  if (!Number.isSafeInteger(minVolume) || minVolume < 1)
    throw invalidArgument(`minVolume must be a positive integer of units, got ${minVolume}`);
  const stackCount = options.stackCount ?? 3;
  if (!Number.isSafeInteger(stackCount) || stackCount < 2)
    throw invalidArgument(`stackCount must be an integer >= 2, got ${stackCount}`);
  const step = candle.step;
  const byPrice = new Map<number, PriceLevel>();
  for (const l of levelsOf(candle)) byPrice.set(l.price, l);
  const prices = [...byPrice.keys()].sort((a, b) => a - b);
  const dominates = (v: number, against: number) => v >= minVolume && BigInt(v) * den >= BigInt(against) * num;
  const found: Imbalance[] = [];
  for (const p of prices) {
    const l = byPrice.get(p)!;
    const below = byPrice.get(p - step)?.sellVolume ?? 0;
    if (dominates(l.buyVolume, below)) found.push({ price: p, side: 'buy', volume: l.buyVolume, against: below });
    const above = byPrice.get(p + step)?.buyVolume ?? 0;
    if (dominates(l.sellVolume, above)) found.push({ price: p, side: 'sell', volume: l.sellVolume, against: above });
  }
  const stacked: StackedImbalance[] = [];
  for (const side of ['buy', 'sell'] as const) {
    let run: StackedImbalance | null = null;
    for (const im of found) {
      if (im.side !== side) continue;
      if (run && im.price === run.high + step) {
        run.high = im.price;
        run.count++;
      } else {
        if (run && run.count >= stackCount) stacked.push(run);
        run = { side, low: im.price, high: im.price, count: 1 };
      }
    }
    if (run && run.count >= stackCount) stacked.push(run);
  }
  return { imbalances: found, stacked };
}
