/**
 * Market profile (TPO) per session, from README ("letters A–Z, a–z per 30-minute period from each
 * period's low to high; initial balance (first hour); single prints; TPO POC") and the doc
 * comments of libs/footprint/src/tpo.ts:
 *
 * - a session (the UTC day by default) is cut into periods of `periodMs` (30 min) from its start;
 *   period i has letter i of A–Z then a–z;
 * - a period that traded prints its letter at every level from its lowest to its highest grouped
 *   trade price; letters at a level in period order;
 * - the session's levels run from its lowest to its highest printed level, `step` apart (a level
 *   between two periods' ranges has no letter);
 * - initial balance: the range of the periods that start within the first `initialBalancePeriods`
 *   (2: the first hour) periods of the session; none if none of them traded;
 * - single prints: maximal runs of levels that exactly one period printed;
 * - POC: the level with the most letters; ties nearest the middle of the levels, then the higher.
 */
import type { RefTrade } from './candles.js';
import { pocIndex, runsOf, type Range } from './profile.js';
import { type Mode, type Session, groupTo, sessionOf, toSafe } from './units.js';

export const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export interface TpoOptions {
  step: bigint;
  mode?: Mode;
  periodMs?: number;
  initialBalancePeriods?: number;
  session?: Session;
}

export interface RefTpoSession {
  sessionStart: number;
  step: number;
  periods: { letter: string; start: number; low: number; high: number }[];
  levels: { price: number; letters: string }[];
  initialBalance: Range | null;
  singlePrints: Range[];
  poc: number | null;
}

/** One profile per session that traded, ascending by session start. */
export function tpoSessions(trades: readonly RefTrade[], options: TpoOptions): RefTpoSession[] {
  const periodMs = options.periodMs ?? 1_800_000;
  const ibPeriods = options.initialBalancePeriods ?? 2;
  const mode = options.mode ?? 'nearest';
  // session start -> period index -> grouped [low, high]
  const sessions = new Map<number, Map<number, { low: bigint; high: bigint }>>();
  for (const t of trades) {
    const ms = Number(t.timeUs / 1000n);
    const start = sessionOf(ms, options.session);
    const index = Math.floor((ms - start) / periodMs);
    if (index >= LETTERS.length) throw new Error(`period ${index} has no letter`);
    const p = groupTo(t.price, options.step, mode);
    const periods = sessions.get(start) ?? new Map<number, { low: bigint; high: bigint }>();
    const r = periods.get(index);
    if (r === undefined) periods.set(index, { low: p, high: p });
    else {
      if (p < r.low) r.low = p;
      if (p > r.high) r.high = p;
    }
    sessions.set(start, periods);
  }
  const out: RefTpoSession[] = [];
  for (const start of [...sessions.keys()].sort((a, b) => a - b)) {
    const byIndex = sessions.get(start)!;
    const indices = [...byIndex.keys()].sort((a, b) => a - b);
    const periods = indices.map((i) => ({
      letter: LETTERS[i]!,
      start: start + i * periodMs,
      low: toSafe(byIndex.get(i)!.low),
      high: toSafe(byIndex.get(i)!.high),
    }));
    const step = toSafe(options.step);
    const low = Math.min(...periods.map((p) => p.low));
    const high = Math.max(...periods.map((p) => p.high));
    const levels: { price: number; letters: string }[] = [];
    for (let price = low; price <= high; price += step) {
      levels.push({
        price,
        letters: periods
          .filter((p) => p.low <= price && price <= p.high)
          .map((p) => p.letter)
          .join(''),
      });
    }
    const ib = indices.filter((i) => i < ibPeriods).map((i) => byIndex.get(i)!);
    const singles = levels.filter((l) => l.letters.length === 1).map((l) => l.price);
    const poc = pocIndex(levels.map((l) => BigInt(l.letters.length)));
    out.push({
      sessionStart: start,
      step,
      periods,
      levels,
      initialBalance:
        ib.length === 0
          ? null
          : {
              low: toSafe(ib.map((r) => r.low).reduce((a, b) => (b < a ? b : a))),
              high: toSafe(ib.map((r) => r.high).reduce((a, b) => (b > a ? b : a))),
            },
      singlePrints: runsOf(singles, step),
      poc: poc === null ? null : levels[poc]!.price,
    });
  }
  return out;
}
