/**
 * The TPO oracle (tpo.ts) on a hand-worked session, then the engine's tpoProfiles (from 1m
 * candles) against it: letters, periods, initial balance, single prints and the TPO POC, for
 * 30-minute and 1-hour periods, one- and two-period initial balances, sessions with an offset,
 * native ticks and grouped, with gaps between periods, a single level and no trade.
 */
import { tpoProfiles } from '@orderflow/footprint';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RefTrade } from './candles.js';
import { DAY0, SEED, grouping, trades } from './spec-support/arbitraries.js';
import { engineMinutes } from './spec-support/engine.js';
import { tpoSessions } from './tpo.js';

const at = (minute: number, price: number): RefTrade => ({
  price: BigInt(price),
  quantity: 1n,
  side: 'buy',
  timeUs: BigInt(DAY0 + minute * 60_000) * 1000n,
});

describe('TPO oracle, hand-worked', () => {
  it('letters per period, initial balance, single prints and POC', () => {
    // A (00:00-00:30): 100-102; B (00:30-01:00): 102-104; C (01:00-01:30): 110; E (02:00): 103
    const ts = [at(0, 101), at(5, 100), at(29, 102), at(30, 104), at(59, 102), at(60, 110), at(125, 103)];
    expect(tpoSessions(ts, { step: 1n })).toEqual([
      {
        sessionStart: DAY0,
        step: 1,
        periods: [
          { letter: 'A', start: DAY0, low: 100, high: 102 },
          { letter: 'B', start: DAY0 + 1_800_000, low: 102, high: 104 },
          { letter: 'C', start: DAY0 + 3_600_000, low: 110, high: 110 },
          { letter: 'E', start: DAY0 + 7_200_000, low: 103, high: 103 },
        ],
        levels: [
          { price: 100, letters: 'A' },
          { price: 101, letters: 'A' },
          { price: 102, letters: 'AB' },
          { price: 103, letters: 'BE' },
          { price: 104, letters: 'B' },
          ...[105, 106, 107, 108, 109].map((price) => ({ price, letters: '' })),
          { price: 110, letters: 'C' },
        ],
        // the first hour: A and B
        initialBalance: { low: 100, high: 104 },
        singlePrints: [
          { low: 100, high: 101 },
          { low: 104, high: 104 },
          { low: 110, high: 110 },
        ],
        // 102 and 103 have two letters; the middle of 100..110 is 105: 103 is nearer
        poc: 103,
      },
    ]);
  });

  it('a session without its first hour has no initial balance; letters a-z follow Z; no trade, no session', () => {
    // 13:01 is period 26, the first after Z
    const late = tpoSessions([at(13 * 60 + 1, 50), at(13 * 60 + 2, 52)], {
      step: 2n,
    });
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({
      sessionStart: DAY0,
      initialBalance: null,
      periods: [{ letter: 'a', low: 50, high: 52 }],
      poc: 52,
    });
    expect(tpoSessions([], { step: 1n })).toEqual([]);
  });
});

describe('the engine against the TPO oracle (fast-check, seed ' + SEED + ')', () => {
  it('sessions, periods, letters, initial balance, single prints and POC', () => {
    const options = fc.record({
      periodMs: fc.constantFrom(1_800_000, 3_600_000),
      initialBalancePeriods: fc.integer({ min: 1, max: 3 }),
      session: fc.constantFrom(undefined, {
        offsetMs: 13 * 3_600_000 + 1_800_000,
      }),
    });
    fc.assert(
      fc.property(trades, grouping, options, (ts, g, o) => {
        // the engine's TPO reads 1m candles at native ticks and groups their ranges itself
        const got = tpoProfiles(engineMinutes(ts), {
          step: g.step,
          mode: g.mode,
          periodMs: o.periodMs,
          initialBalancePeriods: o.initialBalancePeriods,
          session: o.session,
        });
        const want = tpoSessions(ts, {
          step: BigInt(g.step),
          mode: g.mode,
          periodMs: o.periodMs,
          initialBalancePeriods: o.initialBalancePeriods,
          session: o.session,
        });
        expect(JSON.parse(JSON.stringify(got))).toEqual(want);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
