import { type CandleData, type FootprintCandle, type PriceLevel, regroup } from './candle.js';
import { FootprintError, OverflowError, invalidArgument } from './errors.js';
import { type GroupingMode, groupPrice } from './grouping.js';

export type CandleLike = FootprintCandle | CandleData;

export interface ProfileLevel {
  price: number;
  buyVolume: number;
  sellVolume: number;
  volume: number;
  trades: number;
}

/**
 * Traded volume by price over a candle or a range of candles (session, fixed range, composite).
 * `levels` is dense: every level from `low` to `high` in `step` increments, untraded ones with 0,
 * because the value area grows one level at a time through them.
 */
export interface VolumeProfile {
  step: number;
  mode: GroupingMode;
  low: number | null;
  high: number | null;
  buyVolume: number;
  sellVolume: number;
  volume: number;
  levels: ProfileLevel[];
}

export interface ProfileOptions {
  /** Group to this step (price units) instead of the candles' own; see regroup() for exactness. */
  step?: number;
  mode?: GroupingMode;
}

/** Dense profiles wider than this are refused with a clear error instead of eating memory. */
export const MAX_PROFILE_LEVELS = 2_000_000;

export function buildProfile(candles: Iterable<CandleLike>, options: ProfileOptions = {}): VolumeProfile {
  const sparse = new Map<number, ProfileLevel>();
  let step = options.step;
  let mode = options.mode;
  for (const c0 of candles) {
    step ??= c0.step;
    mode ??= c0.mode;
    const c = c0.step === step && c0.mode === mode ? c0 : regroup(c0, step, mode);
    const levels: Iterable<PriceLevel> = c.levels instanceof Map ? c.levels.values() : c.levels;
    for (const l of levels) {
      const p = sparse.get(l.price);
      if (p === undefined) {
        sparse.set(l.price, {
          price: l.price,
          buyVolume: l.buyVolume,
          sellVolume: l.sellVolume,
          volume: l.buyVolume + l.sellVolume,
          trades: l.buyTrades + l.sellTrades,
        });
      } else {
        p.buyVolume += l.buyVolume;
        p.sellVolume += l.sellVolume;
        p.volume += l.buyVolume + l.sellVolume;
        p.trades += l.buyTrades + l.sellTrades;
        if (p.volume > Number.MAX_SAFE_INTEGER) throw new OverflowError(`profile volume at ${p.price}`);
      }
    }
  }
  return densify(sparse, step ?? 1, mode ?? 'nearest');
}

function densify(sparse: Map<number, ProfileLevel>, step: number, mode: GroupingMode): VolumeProfile {
  const profile: VolumeProfile = {
    step,
    mode,
    low: null,
    high: null,
    buyVolume: 0,
    sellVolume: 0,
    volume: 0,
    levels: [],
  };
  if (sparse.size === 0) return profile;
  let low = Infinity;
  let high = -Infinity;
  for (const p of sparse.keys()) {
    if (p < low) low = p;
    if (p > high) high = p;
  }
  const count = (high - low) / step + 1;
  if (count > MAX_PROFILE_LEVELS) {
    throw new FootprintError(
      'INVALID_ARGUMENT',
      `profile would have ${count} levels (over ${MAX_PROFILE_LEVELS}): group by more ticks`,
    );
  }
  const levels: ProfileLevel[] = new Array(count);
  let buy = 0;
  let sell = 0;
  for (let i = 0; i < count; i++) {
    const price = low + i * step;
    const l = sparse.get(price) ?? { price, buyVolume: 0, sellVolume: 0, volume: 0, trades: 0 };
    buy += l.buyVolume;
    sell += l.sellVolume;
    levels[i] = l;
  }
  if (buy + sell > Number.MAX_SAFE_INTEGER) throw new OverflowError('profile volume');
  return { step, mode, low, high, buyVolume: buy, sellVolume: sell, volume: buy + sell, levels };
}

export interface ProfileMetricOptions {
  /** Value area share of total volume, in percent (default 70). */
  valueAreaPercent?: number;
  /**
   * 'single': grow from the POC one level at a time towards the larger neighbour, ties going up.
   * 'cme': the CME/CBOT method, comparing the next two levels above with the next two below.
   */
  valueAreaMethod?: 'single' | 'cme';
  /** Levels at or above this percentile of level volume are high-volume nodes (default 70). */
  hvnPercentile?: number;
  /** Levels at or below this percentile are low-volume nodes (default 30). */
  lvnPercentile?: number;
}

export interface PriceRange {
  low: number;
  high: number;
}

export interface ProfileMetrics {
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
  hvnZones: PriceRange[];
  lvnZones: PriceRange[];
}

function percentOption(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 100)
    throw invalidArgument(`${what} must be in (0, 100], got ${v}`);
  return v;
}

/**
 * POC, value area and HVN/LVN of a profile.
 *
 * POC: the level of greatest volume; among equals, the one nearest the middle of the profile's
 * range, and of two equally near, the higher (the same "ties go up" rule as the value area).
 * Value area: at least `valueAreaPercent` of the volume (exact integer comparison).
 * HVN/LVN: nearest-rank percentiles of the volumes of all levels in the range (untraded levels
 * count as 0). A level is an HVN when its volume reaches the HVN threshold and exceeds the LVN
 * one, an LVN when at or below the LVN threshold and below the HVN one: a flat profile has none.
 */
export function profileMetrics(profile: VolumeProfile, options: ProfileMetricOptions = {}): ProfileMetrics {
  const hvnP = percentOption(options.hvnPercentile, 70, 'hvnPercentile');
  const lvnP = percentOption(options.lvnPercentile, 30, 'lvnPercentile');
  const va = pocAndValueArea(profile, options);
  const levels = profile.levels;
  const empty: ProfileMetrics = {
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
  if (va === null) return empty;

  const sorted = levels.map((l) => l.volume).sort((a, b) => a - b);
  const hvnThreshold = nearestRank(sorted, hvnP);
  const lvnThreshold = nearestRank(sorted, lvnP);
  const hvn: number[] = [];
  const lvn: number[] = [];
  for (const l of levels) {
    if (l.volume >= hvnThreshold && l.volume > lvnThreshold) hvn.push(l.price);
    else if (l.volume <= lvnThreshold && l.volume < hvnThreshold) lvn.push(l.price);
  }
  return {
    ...va,
    volume: profile.volume,
    hvnThreshold,
    lvnThreshold,
    hvn,
    lvn,
    hvnZones: zones(hvn, profile.step),
    lvnZones: zones(lvn, profile.step),
  };
}

/**
 * POC and value area of a profile (what profileMetrics gives, without the HVN/LVN ranking); null when it has no volume.
 */
export function pocAndValueArea(
  profile: VolumeProfile,
  options: Pick<ProfileMetricOptions, 'valueAreaPercent' | 'valueAreaMethod'> = {},
): Pick<ProfileMetrics, 'poc' | 'pocVolume' | 'valueAreaHigh' | 'valueAreaLow' | 'valueAreaVolume'> | null {
  const levels = profile.levels;
  const volumes = new Array<number>(levels.length);
  for (let i = 0; i < levels.length; i++) volumes[i] = levels[i]!.volume;
  const va = valueAreaIndices(volumes, levels.length, profile.volume, options);
  if (va === null) return null;
  return {
    poc: levels[va.poc]!.price,
    pocVolume: levels[va.poc]!.volume,
    valueAreaHigh: levels[va.high]!.price,
    valueAreaLow: levels[va.low]!.price,
    valueAreaVolume: va.volume,
  };
}

/** Where the POC and the value area lie in a dense run of level volumes (indices into it). */
export interface ValueAreaIndices {
  poc: number;
  low: number;
  high: number;
  /** Volume inside [low, high]. */
  volume: number;
}

/**
 * POC and value area (pocAndValueArea's rules) of `n` dense level volumes, ascending by price, one
 * per grouping step with untraded levels as 0, whose sum is `total`: the columnar form, for a
 * reader that holds a candle's volumes in a typed array instead of ProfileLevel objects. Null when
 * there is no volume.
 */
export function valueAreaIndices(
  volumes: ArrayLike<number>,
  n: number,
  total: number,
  options: Pick<ProfileMetricOptions, 'valueAreaPercent' | 'valueAreaMethod'> = {},
): ValueAreaIndices | null {
  const vaPercent = percentOption(options.valueAreaPercent, 70, 'valueAreaPercent');
  const method = options.valueAreaMethod ?? 'single';
  if (method !== 'single' && method !== 'cme')
    throw invalidArgument(`valueAreaMethod must be "single" or "cme", got ${String(method)}`);
  if (n === 0 || total === 0) return null;
  const poc = pocIndexOf(volumes, n);
  const [low, high, volume] = valueArea(volumes, n, poc, target(total, vaPercent), method);
  return { poc, low, high, volume };
}

/** Smallest volume that is at least percent% of total, computed exactly. */
function target(total: number, percent: number): number {
  // percent with up to 6 decimals as an exact fraction
  const ppm = BigInt(Math.round(percent * 1e6));
  const t = BigInt(total) * ppm;
  const den = 100_000_000n;
  return Number((t + den - 1n) / den);
}

function nearestRank(sortedAsc: number[], percentile: number): number {
  const rank = Math.ceil((percentile / 100) * sortedAsc.length);
  return sortedAsc[Math.min(Math.max(rank, 1), sortedAsc.length) - 1]!;
}

function pocIndexOf(volumes: ArrayLike<number>, n: number): number {
  let best = 0;
  let bestVol = -1;
  // Twice the distance to the middle, in index units, keeps it integer.
  const mid2 = n - 1;
  for (let i = 0; i < n; i++) {
    const v = volumes[i]!;
    if (v > bestVol) {
      best = i;
      bestVol = v;
    } else if (v === bestVol) {
      const dBest = Math.abs(2 * best - mid2);
      const d = Math.abs(2 * i - mid2);
      if (d <= dBest) best = i; // nearer, or as near and higher
    }
  }
  return best;
}

function valueArea(
  volumes: ArrayLike<number>,
  n: number,
  poc: number,
  goal: number,
  method: 'single' | 'cme',
): [number, number, number] {
  let lo = poc;
  let hi = poc;
  let vol = volumes[poc]!;
  const width = method === 'cme' ? 2 : 1;
  while (vol < goal && (hi < n - 1 || lo > 0)) {
    let up = -1;
    let upEnd = hi;
    for (let k = 1; k <= width && hi + k < n; k++) {
      up = (up < 0 ? 0 : up) + volumes[hi + k]!;
      upEnd = hi + k;
    }
    let down = -1;
    let downEnd = lo;
    for (let k = 1; k <= width && lo - k >= 0; k++) {
      down = (down < 0 ? 0 : down) + volumes[lo - k]!;
      downEnd = lo - k;
    }
    if (up >= down) {
      hi = upEnd;
      vol += up;
    } else {
      lo = downEnd;
      vol += down;
    }
  }
  return [lo, hi, vol];
}

function zones(prices: number[], step: number): PriceRange[] {
  const out: PriceRange[] = [];
  for (const p of prices) {
    const last = out[out.length - 1];
    if (last && p === last.high + step) last.high = p;
    else out.push({ low: p, high: p });
  }
  return out;
}

export interface DevelopingPoint {
  openTime: number;
  poc: number | null;
  valueAreaHigh: number | null;
  valueAreaLow: number | null;
}

/** POC and value area of the range so far, after each candle (the developing POC/VA line). */
export function developingProfile(
  candles: readonly CandleLike[],
  options: ProfileOptions & ProfileMetricOptions = {},
): DevelopingPoint[] {
  const out: DevelopingPoint[] = [];
  const sparse = new Map<number, ProfileLevel>();
  let step = options.step;
  let mode = options.mode;
  for (const c0 of candles) {
    step ??= c0.step;
    mode ??= c0.mode;
    const one = buildProfile([c0], { step, mode });
    for (const l of one.levels) {
      if (l.volume === 0) continue;
      const p = sparse.get(l.price);
      if (p === undefined) sparse.set(l.price, { ...l });
      else {
        p.buyVolume += l.buyVolume;
        p.sellVolume += l.sellVolume;
        p.volume += l.volume;
        p.trades += l.trades;
      }
    }
    const m = profileMetrics(densify(sparse, step, mode), options);
    out.push({ openTime: c0.openTime, poc: m.poc, valueAreaHigh: m.valueAreaHigh, valueAreaLow: m.valueAreaLow });
  }
  return out;
}

export interface NakedPoc {
  openTime: number;
  poc: number;
}

/**
 * POCs of candles (or session candles) that no later candle has traded through: a later candle
 * whose range [low, high], grouped like the POC, includes the POC level. Candles in time order.
 */
export function nakedPocs(candles: readonly CandleLike[], options: ProfileOptions = {}): NakedPoc[] {
  const ranges: { openTime: number; poc: number | null; low: number; high: number }[] = [];
  for (const c of candles) {
    const profile = buildProfile([c], options);
    const m = profileMetrics(profile);
    if (m.poc === null) continue;
    ranges.push({
      openTime: c.openTime,
      poc: m.poc,
      low: groupPrice(c.low, profile.step, profile.mode),
      high: groupPrice(c.high, profile.step, profile.mode),
    });
  }
  const out: NakedPoc[] = [];
  for (let i = 0; i < ranges.length; i++) {
    const poc = ranges[i]!.poc!;
    let touched = false;
    for (let j = i + 1; j < ranges.length && !touched; j++) touched = ranges[j]!.low <= poc && poc <= ranges[j]!.high;
    if (!touched) out.push({ openTime: ranges[i]!.openTime, poc });
  }
  return out;
}
