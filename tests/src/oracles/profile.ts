/**
 * Volume profile oracle: POC, value area (both methods), HVN/LVN, the developing POC/VA and naked
 * POCs, from README "The footprint engine" and the doc comments of libs/footprint/src/profile.ts:
 *
 * - The profile of candles is every level from the lowest to the highest traded level, `step`
 *   apart, untraded levels with volume 0 ("levels is dense ... because the value area grows one
 *   level at a time through them").
 * - POC: the level of greatest volume; among equals the one nearest the middle of the profile's
 *   range; of two equally near, the higher.
 * - Value area: the smallest volume that is at least `percent` % of the total (exact), grown from
 *   the POC. 'single': one level at a time towards the larger neighbour, ties going up; at an end
 *   of the range the other side is taken. 'cme' (CME/CBOT): the next two levels above against the
 *   next two below (fewer where the range ends), the larger pair added whole, ties going up.
 * - HVN/LVN: the nearest-rank percentile (the value at rank ceil(P/100 x n) of the n level
 *   volumes in ascending order, untraded levels as 0) gives two thresholds; a level is an HVN when
 *   its volume reaches the HVN threshold and exceeds the LVN one, an LVN when at or below the LVN
 *   threshold and below the HVN one. So a flat profile (one threshold) has neither.
 * - Nothing traded: no POC, no value area, thresholds 0, no nodes.
 * - Developing POC/VA: after each candle, the POC and value area of the candles so far.
 * - Naked POC: a candle's POC that no later candle's range [low, high], grouped like the POC,
 *   includes. A candle without trades has no POC and no range.
 */
import type { RefCandle, RefLevel } from './candles.js';
import { fraction, groupTo, toSafe } from './units.js';

export interface RefProfileLevel {
  price: bigint;
  buy: bigint;
  sell: bigint;
  volume: bigint;
  trades: number;
}

export interface RefProfile {
  step: bigint;
  /** Dense, ascending; empty when nothing traded. */
  levels: RefProfileLevel[];
  volume: bigint;
}

export function profileOf(candles: readonly RefCandle[]): RefProfile {
  const step = candles[0]?.step ?? 1n;
  for (const c of candles) {
    if (c.step !== step) throw new Error('a profile needs candles of one grouping');
  }
  return profileOfLevels(
    step,
    candles.flatMap((c) => c.levels),
  );
}

/** The profile of levels (grouped to `step`; a price may come several times, summed). */
export function profileOfLevels(step: bigint, traded: readonly RefLevel[]): RefProfile {
  const sums = new Map<bigint, RefProfileLevel>();
  for (const l of traded) {
    const s = sums.get(l.price) ?? {
      price: l.price,
      buy: 0n,
      sell: 0n,
      volume: 0n,
      trades: 0,
    };
    s.buy += l.buy;
    s.sell += l.sell;
    s.volume += l.buy + l.sell;
    s.trades += l.buyTrades + l.sellTrades;
    sums.set(l.price, s);
  }
  if (sums.size === 0) return { step, levels: [], volume: 0n };
  const prices = [...sums.keys()];
  let low = prices[0]!;
  let high = prices[0]!;
  for (const p of prices) {
    if (p < low) low = p;
    if (p > high) high = p;
  }
  const levels: RefProfileLevel[] = [];
  let volume = 0n;
  for (let p = low; p <= high; p += step) {
    const l = sums.get(p) ?? {
      price: p,
      buy: 0n,
      sell: 0n,
      volume: 0n,
      trades: 0,
    };
    levels.push(l);
    volume += l.volume;
  }
  return { step, levels, volume };
}

/** Index of the POC in dense volumes, or null when they sum to 0. */
export function pocIndex(volumes: readonly bigint[]): number | null {
  let max = 0n;
  for (const v of volumes) if (v > max) max = v;
  if (max === 0n) return null;
  const n = volumes.length;
  let best = -1;
  for (let i = 0; i < n; i++) {
    if (volumes[i] !== max) continue;
    // distance to the middle, doubled so that it stays an integer
    const d = Math.abs(2 * i - (n - 1));
    const bestD = best < 0 ? Infinity : Math.abs(2 * best - (n - 1));
    if (d < bestD || (d === bestD && i > best)) best = i;
  }
  return best;
}

export type ValueAreaMethod = 'single' | 'cme';

/** [low index, high index, volume inside] of the value area; null when nothing traded. */
export function valueAreaIndices(
  volumes: readonly bigint[],
  percent = '70',
  method: ValueAreaMethod = 'single',
): { poc: number; low: number; high: number; volume: bigint } | null {
  const poc = pocIndex(volumes);
  if (poc === null) return null;
  const total = volumes.reduce((a, b) => a + b, 0n);
  const { num, den } = fraction(percent);
  // ceil(total * percent / 100)
  const goal = (total * num + 100n * den - 1n) / (100n * den);
  const width = method === 'cme' ? 2 : 1;
  let low = poc;
  let high = poc;
  let inside = volumes[poc]!;
  while (inside < goal && (low > 0 || high < volumes.length - 1)) {
    const above = volumes.slice(high + 1, high + 1 + width);
    const below = volumes.slice(Math.max(0, low - width), low);
    const sumAbove = above.reduce((a, b) => a + b, 0n);
    const sumBelow = below.reduce((a, b) => a + b, 0n);
    if (below.length === 0 || (above.length > 0 && sumAbove >= sumBelow)) {
      high += above.length;
      inside += sumAbove;
    } else {
      low -= below.length;
      inside += sumBelow;
    }
  }
  return { poc, low, high, volume: inside };
}

/** The value at nearest rank ceil(percent/100 x n) of `values` (n >= 1) in ascending order. */
export function nearestRank(values: readonly bigint[], percent: string): bigint {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const n = BigInt(sorted.length);
  const { num, den } = fraction(percent);
  let rank = Number((num * n + 100n * den - 1n) / (100n * den));
  if (rank < 1) rank = 1;
  return sorted[rank - 1]!;
}

export interface Range {
  low: number;
  high: number;
}

/** Runs of prices `step` apart (prices ascending). */
export function runsOf(prices: readonly number[], step: number): Range[] {
  const out: Range[] = [];
  for (const p of prices) {
    const last = out[out.length - 1];
    if (last !== undefined && last.high + step === p) last.high = p;
    else out.push({ low: p, high: p });
  }
  return out;
}

export interface MetricOptions {
  valueAreaPercent?: string;
  valueAreaMethod?: ValueAreaMethod;
  hvnPercentile?: string;
  lvnPercentile?: string;
}

export interface RefMetrics {
  poc: number | null;
  pocVolume: number;
  valueAreaHigh: number | null;
  valueAreaLow: number | null;
  valueAreaVolume: number;
  volume: number;
  hvnThreshold: number;
  lvnThreshold: number;
  hvn: number[];
  lvn: number[];
  hvnZones: Range[];
  lvnZones: Range[];
}

export function metricsOf(profile: RefProfile, options: MetricOptions = {}): RefMetrics {
  const volumes = profile.levels.map((l) => l.volume);
  const va = valueAreaIndices(volumes, options.valueAreaPercent ?? '70', options.valueAreaMethod ?? 'single');
  if (va === null) {
    return {
      poc: null,
      pocVolume: 0,
      valueAreaHigh: null,
      valueAreaLow: null,
      valueAreaVolume: 0,
      volume: 0,
      hvnThreshold: 0,
      lvnThreshold: 0,
      hvn: [],
      lvn: [],
      hvnZones: [],
      lvnZones: [],
    };
  }
  const hvnT = nearestRank(volumes, options.hvnPercentile ?? '70');
  const lvnT = nearestRank(volumes, options.lvnPercentile ?? '30');
  const hvn = profile.levels.filter((l) => l.volume >= hvnT && l.volume > lvnT).map((l) => toSafe(l.price));
  const lvn = profile.levels.filter((l) => l.volume <= lvnT && l.volume < hvnT).map((l) => toSafe(l.price));
  const step = toSafe(profile.step);
  const at = (i: number) => toSafe(profile.levels[i]!.price);
  return {
    poc: at(va.poc),
    pocVolume: toSafe(volumes[va.poc]!),
    valueAreaHigh: at(va.high),
    valueAreaLow: at(va.low),
    valueAreaVolume: toSafe(va.volume),
    volume: toSafe(profile.volume),
    hvnThreshold: toSafe(hvnT),
    lvnThreshold: toSafe(lvnT),
    hvn,
    lvn,
    hvnZones: runsOf(hvn, step),
    lvnZones: runsOf(lvn, step),
  };
}

/** The profile's traded levels as the HTTP API lists them: [price, buy, sell, trades]. */
export function tradedLevels(profile: RefProfile): number[][] {
  return profile.levels
    .filter((l) => l.volume > 0n)
    .map((l) => [toSafe(l.price), toSafe(l.buy), toSafe(l.sell), l.trades]);
}

export interface RefDevelopingPoint {
  openTime: number;
  poc: number | null;
  valueAreaHigh: number | null;
  valueAreaLow: number | null;
}

/** After each candle, the POC and value area of the candles up to it. */
export function developing(candles: readonly RefCandle[], options: MetricOptions = {}): RefDevelopingPoint[] {
  return candles.map((c, i) => {
    const m = metricsOf(profileOf(candles.slice(0, i + 1)), options);
    return {
      openTime: c.openTime,
      poc: m.poc,
      valueAreaHigh: m.valueAreaHigh,
      valueAreaLow: m.valueAreaLow,
    };
  });
}

/** POCs of candles (in time order) that no later candle's grouped range includes. */
export function nakedPocs(candles: readonly RefCandle[]): { openTime: number; poc: number }[] {
  const out: { openTime: number; poc: number }[] = [];
  for (let i = 0; i < candles.length; i++) {
    const poc = metricsOf(profileOf([candles[i]!])).poc;
    if (poc === null) continue;
    const touched = candles.slice(i + 1).some((later) => {
      if (later.trades === 0) return false;
      const low = groupTo(later.low, later.step, later.mode);
      const high = groupTo(later.high, later.step, later.mode);
      return low <= BigInt(poc) && BigInt(poc) <= high;
    });
    if (!touched) out.push({ openTime: candles[i]!.openTime, poc });
  }
  return out;
}
