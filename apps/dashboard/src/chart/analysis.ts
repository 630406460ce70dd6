import {
  type GroupingMode,
  type ProfileMetrics,
  type StackedImbalance,
  type Timeframe,
  type TpoProfile,
  TIMEFRAME_MS,
  buildProfile,
  groupPrice,
  imbalances,
  profileMetrics,
  tpoProfiles,
  type VolumeProfile,
} from '@orderflow/footprint';
import type { WireCell } from '@orderflow/contracts';
import { type StoreCandle, asCandleLike } from '../store/footprint.store.js';

/**
 * What the chart derives from the candles, with the engine's own functions (libs/footprint).
 * Candles are immutable per version (the store replaces a changed candle), so per-candle results
 * are cached by object identity and cost nothing until the candle changes.
 */

const candleLikeCache = new WeakMap<StoreCandle, ReturnType<typeof asCandleLike>>();

export function candleLike(c: StoreCandle, step: number, mode: GroupingMode, timeframe: Timeframe = '1m') {
  let x = candleLikeCache.get(c);
  if (x === undefined || x.step !== step || x.timeframe !== timeframe) {
    x = { ...asCandleLike(c.cells, step, mode, c), timeframe };
    candleLikeCache.set(c, x);
  }
  return x;
}

export interface CandleImbalances {
  /** Prices of cells whose buy side dominates the sell side one level below (and the mirror). */
  buy: Set<number>;
  sell: Set<number>;
  stacked: StackedImbalance[];
}

const imbalanceCache = new WeakMap<StoreCandle, { key: string; value: CandleImbalances }>();

/** Diagonal and stacked imbalances of a candle at its grouping (ratio as a decimal, e.g. "3" = 300 %). */
export function candleImbalances(c: StoreCandle, step: number, mode: GroupingMode, ratio: string): CandleImbalances {
  const key = `${step}:${mode}:${ratio}`;
  const hit = imbalanceCache.get(c);
  if (hit && hit.key === key) return hit.value;
  const r = imbalances(candleLike(c, step, mode), { ratio });
  const value: CandleImbalances = { buy: new Set(), sell: new Set(), stacked: r.stacked };
  for (const i of r.imbalances) (i.side === 'buy' ? value.buy : value.sell).add(i.price);
  imbalanceCache.set(c, { key, value });
  return value;
}

/**
 * Big trades. The gateway's protocol carries cells, not individual trades, so a "big trade" is a
 * cell whose volume reaches the threshold within one candle (it may be several trades).
 */
export function bigCells(cells: readonly WireCell[], thresholdUnits: number): WireCell[] {
  if (!(thresholdUnits > 0)) return [];
  return cells.filter((c) => c[1] + c[2] >= thresholdUnits);
}

export interface ProfileResult {
  profile: VolumeProfile;
  metrics: ProfileMetrics;
}

/** Volume profile (buy/sell split) of candles, with POC, value area and HVN/LVN. */
export function rangeProfile(candles: readonly StoreCandle[], step: number, mode: GroupingMode): ProfileResult | null {
  if (candles.length === 0) return null;
  const profile = buildProfile(
    candles.map((c) => candleLike(c, step, mode)),
    { step, mode },
  );
  if (profile.volume === 0) return null;
  return { profile, metrics: profileMetrics(profile) };
}

/** Index range of the candles of the UTC session holding the newest candle. */
export function sessionRange(candles: readonly StoreCandle[]): [number, number] {
  const n = candles.length;
  if (n === 0) return [0, -1];
  const day = TIMEFRAME_MS['1d'];
  const start = candles[n - 1]!.openTime - (candles[n - 1]!.openTime % day);
  let i = n - 1;
  while (i > 0 && candles[i - 1]!.openTime >= start) i--;
  return [i, n - 1];
}

export interface DevelopingPoint {
  index: number;
  poc: number | null;
}

/**
 * The developing POC: the POC of the session so far after each candle (resetting at each UTC day).
 * Incremental: the points of unchanged candles are kept, so a live update of the newest candle
 * recomputes one point.
 */
export class DevelopingPoc {
  private candles: readonly StoreCandle[] = [];
  private points: DevelopingPoint[] = [];
  /** Sums of the levels of candles [sessionStart, stable) of the stable prefix's last session. */
  private sums = new Map<number, [number, number]>();
  private stable = 0;
  private sessionStartMs = -1;
  private step = 0;

  compute(candles: readonly StoreCandle[], step: number): DevelopingPoint[] {
    const n = candles.length;
    // the prefix that has not changed (by identity), up to the last candle
    let same = 0;
    if (step === this.step) {
      const lim = Math.min(this.stable, n - 1);
      while (same < lim && candles[same] === this.candles[same]) same++;
    }
    if (same < this.stable || step !== this.step) {
      this.points = [];
      this.sums = new Map();
      this.stable = 0;
      this.sessionStartMs = -1;
      this.step = step;
    }
    // fold the closed candles in
    for (let i = this.stable; i < n - 1; i++) {
      this.fold(candles[i]!);
      this.points[i] = { index: i, poc: pocOf(this.sums, step) };
    }
    this.stable = Math.max(this.stable, n - 1);
    this.points.length = this.stable;
    this.candles = candles;
    if (n === 0) return [];
    // the newest candle on a copy of the sums
    const last = candles[n - 1]!;
    const day = TIMEFRAME_MS['1d'];
    const lastSession = last.openTime - (last.openTime % day);
    const sums = lastSession === this.sessionStartMs ? new Map(this.sums) : new Map<number, [number, number]>();
    for (const c of last.cells) add(sums, c);
    return [...this.points, { index: n - 1, poc: pocOf(sums, step) }];
  }

  private fold(c: StoreCandle): void {
    const day = TIMEFRAME_MS['1d'];
    const s = c.openTime - (c.openTime % day);
    if (s !== this.sessionStartMs) {
      this.sessionStartMs = s;
      this.sums = new Map();
    }
    for (const x of c.cells) add(this.sums, x);
  }
}

function add(sums: Map<number, [number, number]>, c: WireCell): void {
  const s = sums.get(c[0]);
  if (s) {
    s[0] += c[1];
    s[1] += c[2];
  } else sums.set(c[0], [c[1], c[2]]);
}

/** POC of summed levels with the engine's rule (greatest volume; ties nearest the middle, then higher). */
function pocOf(sums: Map<number, [number, number]>, step: number): number | null {
  if (sums.size === 0) return null;
  let low = Infinity;
  let high = -Infinity;
  for (const p of sums.keys()) {
    if (p < low) low = p;
    if (p > high) high = p;
  }
  const mid2 = (high - low) / step; // twice the middle index = count - 1
  let best = -1;
  let bestVol = -1;
  for (const [p, [b, s]] of sums) {
    const v = b + s;
    const i = (p - low) / step;
    if (
      v > bestVol ||
      (v === bestVol &&
        (Math.abs(2 * i - mid2) < Math.abs(2 * ((best - low) / step) - mid2) ||
          (Math.abs(2 * i - mid2) === Math.abs(2 * ((best - low) / step) - mid2) && p > best)))
    ) {
      best = p;
      bestVol = v;
    }
  }
  return best;
}

export interface NakedPocLine {
  index: number;
  poc: number;
}

/** Candle POCs that no later candle's range (grouped like the POC) has traded through. */
export function nakedPocLines(candles: readonly StoreCandle[], step: number, mode: GroupingMode): NakedPocLine[] {
  const out: NakedPocLine[] = [];
  const n = candles.length;
  // sweep from the newest: the running min/max of later candles' grouped ranges is not enough
  // (a gap between them leaves a POC untouched), so check each candle against later ones, newest first
  for (let i = 0; i < n - 1; i++) {
    const poc = candles[i]!.poc;
    if (poc === null) continue;
    let touched = false;
    for (let j = i + 1; j < n && !touched; j++) {
      const c = candles[j]!;
      touched = groupPrice(c.low, step, mode) <= poc && poc <= groupPrice(c.high, step, mode);
    }
    if (!touched) out.push({ index: i, poc });
  }
  return out;
}

export interface ZoneLine {
  index: number;
  /** The last candle index the zone extends to (it ends where a later candle trades through it). */
  until: number;
  zone: StackedImbalance;
}

/** Stacked imbalance zones, each extended right until a later candle trades through the whole zone. */
export function stackedZones(
  candles: readonly StoreCandle[],
  step: number,
  mode: GroupingMode,
  ratio: string,
  from: number,
  to: number,
): ZoneLine[] {
  const out: ZoneLine[] = [];
  const n = candles.length;
  for (let i = Math.max(0, from); i <= Math.min(to, n - 1); i++) {
    for (const zone of candleImbalances(candles[i]!, step, mode, ratio).stacked) {
      let until = n - 1;
      for (let j = i + 1; j < n; j++) {
        const c = candles[j]!;
        if (c.low <= zone.low && c.high >= zone.high) {
          until = j;
          break;
        }
      }
      out.push({ index: i, until, zone });
    }
  }
  return out;
}

export interface CvdPoint {
  delta: number;
  cvd: number;
}

/** Delta per candle and its running sum from the first candle shown. */
export function cvdSeries(candles: readonly StoreCandle[]): CvdPoint[] {
  let cvd = 0;
  return candles.map((c) => {
    cvd += c.buyVolume - c.sellVolume;
    return { delta: c.buyVolume - c.sellVolume, cvd };
  });
}

/** TPO profiles of the candles' sessions (needs candles of 30 minutes or less). */
export function tpoOf(
  candles: readonly StoreCandle[],
  timeframe: Timeframe,
  step: number,
  mode: GroupingMode,
): TpoProfile[] | string {
  if (TIMEFRAME_MS[timeframe] > TIMEFRAME_MS['30m'])
    return `TPO letters are 30-minute periods: choose a timeframe of 30m or less (now ${timeframe})`;
  return tpoProfiles(
    candles.map((c) => candleLike(c, step, mode, timeframe)),
    { step, mode },
  );
}
