/**
 * The imbalance oracle (imbalances.ts) on a hand-worked candle, then the engine's imbalances()
 * against it on every candle of generated trades: any ratio (exact decimals), minimum volume and
 * stack length, at native ticks and grouped, with empty opposite cells, gaps and large volumes.
 */
import { imbalances } from '@orderflow/footprint';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { candlesOf, type RefTrade } from './candles.js';
import { imbalancesOf } from './imbalances.js';
import { DAY0, SEED, grouping, trades } from './spec-support/arbitraries.js';
import { engineMinutes } from './spec-support/engine.js';

describe('imbalance oracle, hand-worked', () => {
  // price: buy x sell    100: 0 x 1   101: 3 x 0   102: 9 x 1   103: 30 x 0   105: 0 x 4
  const ts: RefTrade[] = [
    [100, 1, 'sell'],
    [101, 3, 'buy'],
    [102, 9, 'buy'],
    [102, 1, 'sell'],
    [103, 30, 'buy'],
    [105, 4, 'sell'],
  ].map(([p, q, side], i) => ({
    price: BigInt(p as number),
    quantity: BigInt(q as number),
    side: side as 'buy' | 'sell',
    timeUs: BigInt(DAY0 + i) * 1000n,
  }));
  const candle = candlesOf(ts, 60_000, 1n, 'nearest')[0]!;

  it('ratio 3: buy 101 (3 >= 3 x 1, equal counts), 102 (9 vs an empty 101 sell), 103 (30 >= 3 x 1), a stack of 3; sell 105 against an untraded 106', () => {
    // sell 100: 1 vs 3 x 3 no; sell 102: 1 vs 3 x 30 no; buy 100: 0 is below the minimum volume
    expect(imbalancesOf(candle)).toEqual({
      imbalances: [
        { price: 101, side: 'buy', volume: 3, against: 1 },
        { price: 102, side: 'buy', volume: 9, against: 0 },
        { price: 103, side: 'buy', volume: 30, against: 1 },
        { price: 105, side: 'sell', volume: 4, against: 0 },
      ],
      stacked: [{ side: 'buy', low: 101, high: 103, count: 3 }],
    });
  });

  it('ratio 3.01 drops 101 (3 < 3.01) and the stack; minVolume 5 keeps 102 and 103 only', () => {
    expect(imbalancesOf(candle, { ratio: '3.01' }).imbalances.map((x) => x.price)).toEqual([102, 103, 105]);
    expect(imbalancesOf(candle, { ratio: '3.01' }).stacked).toEqual([]);
    expect(imbalancesOf(candle, { minVolume: 5n, stackCount: 2 })).toEqual({
      imbalances: [
        { price: 102, side: 'buy', volume: 9, against: 0 },
        { price: 103, side: 'buy', volume: 30, against: 1 },
      ],
      stacked: [{ side: 'buy', low: 102, high: 103, count: 2 }],
    });
  });
});

describe('the engine against the imbalance oracle (fast-check, seed ' + SEED + ')', () => {
  it('diagonal and stacked imbalances of every candle', () => {
    const ratio = fc.oneof(
      fc.constantFrom('3', '2.5', '1', '1.5', '0.5', '3.333333333'),
      fc.integer({ min: 1, max: 60 }).map((t) => `${Math.floor(t / 10)}.${t % 10}`),
    );
    const options = fc.record({
      ratio,
      minVolume: fc.integer({ min: 1, max: 4 }),
      stackCount: fc.integer({ min: 2, max: 4 }),
    });
    fc.assert(
      fc.property(trades, grouping, options, (ts, g, o) => {
        const engine = engineMinutes(ts, g.step, g.mode);
        const ref = candlesOf(ts, 60_000, BigInt(g.step), g.mode);
        const got = engine.map((c) =>
          imbalances(c, {
            ratio: o.ratio,
            minVolume: o.minVolume,
            stackCount: o.stackCount,
          }),
        );
        const want = ref.map((c) =>
          imbalancesOf(c, {
            ratio: o.ratio,
            minVolume: BigInt(o.minVolume),
            stackCount: o.stackCount,
          }),
        );
        expect(got).toEqual(want);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
});
