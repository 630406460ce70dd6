import { FootprintError, invalidArgument } from './errors.js';
import { type GroupingMode, assertMode, assertStep, groupPrice } from './grouping.js';
import { type SessionSpec, sessionStart } from './orderflow.js';
import { MAX_PROFILE_LEVELS, type CandleLike, type PriceRange } from './profile.js';
import { TIMEFRAME_MS } from './timeframe.js';

/** Period letters: A-Z then a-z, as in classic market profile charts (48 half hours fit a day). */
export const TPO_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export interface TpoOptions {
  /** Grouping step in price units (default: the candles' step). */
  step?: number;
  mode?: GroupingMode;
  /** Period length (default 30 minutes). Candles must not be longer and must divide it. */
  periodMs?: number;
  /** Periods that make the initial balance (default 2: the first hour). */
  initialBalancePeriods?: number;
  session?: SessionSpec;
}

export interface TpoPeriod {
  letter: string;
  start: number;
  low: number;
  high: number;
}

export interface TpoLevel {
  price: number;
  letters: string;
}

export interface TpoProfile {
  sessionStart: number;
  step: number;
  periods: TpoPeriod[];
  /** Ascending by price, every level from the session low to high. */
  levels: TpoLevel[];
  initialBalance: PriceRange | null;
  /** Runs of levels printed by exactly one period (tails included). */
  singlePrints: PriceRange[];
  /** The level with the most letters (ties: nearest the middle, then the higher). */
  poc: number | null;
}

/**
 * Market profile (TPO) per session: each period (30 min by default) prints its letter at every
 * level from its low to its high. Candles in time order; one profile per session they cover.
 */
export function tpoProfiles(candles: readonly CandleLike[], options: TpoOptions = {}): TpoProfile[] {
  const periodMs = options.periodMs ?? TIMEFRAME_MS['30m'];
  if (!Number.isSafeInteger(periodMs) || periodMs <= 0)
    throw invalidArgument(`periodMs must be a positive integer, got ${periodMs}`);
  const ibPeriods = options.initialBalancePeriods ?? 2;
  if (!Number.isSafeInteger(ibPeriods) || ibPeriods < 1)
    throw invalidArgument(`initialBalancePeriods must be >= 1, got ${ibPeriods}`);
  const out: TpoProfile[] = [];
  let current: { start: number; periods: Map<number, TpoPeriod> } | null = null;
  let step = options.step;
  let mode = options.mode;
  const finish = () => {
    if (current) out.push(build(current.start, [...current.periods.values()], step!, ibPeriods, periodMs));
  };
  for (const c of candles) {
    const len = TIMEFRAME_MS[c.timeframe];
    if (len > periodMs || periodMs % len !== 0)
      throw invalidArgument(`${c.timeframe} candles do not fit ${periodMs} ms TPO periods`);
    if (c.buyTrades + c.sellTrades === 0) continue;
    step = assertStep(step ?? c.step);
    mode = assertMode(mode ?? c.mode);
    const s = sessionStart(c.openTime, options.session);
    if (!current || current.start !== s) {
      finish();
      current = { start: s, periods: new Map() };
    }
    const index = Math.floor((c.openTime - s) / periodMs);
    if (index >= TPO_LETTERS.length)
      throw invalidArgument(`a session has more than ${TPO_LETTERS.length} TPO periods: use longer periods`);
    const low = groupPrice(c.low, step, mode);
    const high = groupPrice(c.high, step, mode);
    const p = current.periods.get(index);
    if (!p) current.periods.set(index, { letter: TPO_LETTERS[index]!, start: s + index * periodMs, low, high });
    else {
      if (low < p.low) p.low = low;
      if (high > p.high) p.high = high;
    }
  }
  finish();
  return out;
}

function build(start: number, periods: TpoPeriod[], step: number, ibPeriods: number, periodMs: number): TpoProfile {
  periods.sort((a, b) => a.start - b.start);
  let low = Infinity;
  let high = -Infinity;
  for (const p of periods) {
    if (p.low < low) low = p.low;
    if (p.high > high) high = p.high;
  }
  const count = (high - low) / step + 1;
  if (count > MAX_PROFILE_LEVELS)
    throw new FootprintError('INVALID_ARGUMENT', `TPO profile would have ${count} levels: group by more ticks`);
  const letters: string[] = new Array(count).fill('');
  for (const p of periods) {
    for (let price = p.low; price <= p.high; price += step) letters[(price - low) / step] += p.letter;
  }
  const levels = letters.map((l, i) => ({ price: low + i * step, letters: l }));
  // The initial balance is the range of the session's first periods (the first hour by default).
  const ib = periods.filter((p) => p.start - start < ibPeriods * periodMs);
  const singlePrints: PriceRange[] = [];
  for (const l of levels) {
    if (l.letters.length !== 1) continue;
    const last = singlePrints[singlePrints.length - 1];
    if (last && last.high + step === l.price) last.high = l.price;
    else singlePrints.push({ low: l.price, high: l.price });
  }
  let poc: number | null = null;
  let best = 0;
  const mid2 = levels.length - 1;
  levels.forEach((l, i) => {
    const n = l.letters.length;
    const better =
      n > best || (n === best && poc !== null && Math.abs(2 * i - mid2) <= Math.abs(2 * ((poc - low) / step) - mid2));
    if (better && n > 0) {
      best = n;
      poc = l.price;
    }
  });
  return {
    sessionStart: start,
    step,
    periods,
    levels,
    initialBalance: ib.length
      ? { low: Math.min(...ib.map((p) => p.low)), high: Math.max(...ib.map((p) => p.high)) }
      : null,
    singlePrints,
    poc,
  };
}
