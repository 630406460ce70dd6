/**
 * The VWAP oracle (vwap.ts) on hand-worked examples, then the engine's vwapBands against it:
 * VWAP, σ and every band exactly, session-anchored, anchored at a
 * time, any price scale and number of decimals, with ties, a single price (σ = 0), gaps, no trade
 * and large values. Also the CVD oracle (cvd.ts) against cumulativeDelta.
 */
import { cumulativeDelta, vwapBands } from '@orderflow/footprint';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { candlesOf, type RefTrade } from './candles.js';
import { cvdPoints } from './cvd.js';
import { SEED, DAY0, trades } from './spec-support/arbitraries.js';
import { engineMinutes } from './spec-support/engine.js';
import { roundSqrtExpression, vwapDifferences, vwapPoints } from './vwap.js';

const trade = (price: number, quantity: number, minute = 0, side: 'buy' | 'sell' = 'buy'): RefTrade => ({
  price: BigInt(price),
  quantity: BigInt(quantity),
  side,
  timeUs: BigInt(DAY0 + minute * 60_000) * 1000n,
});

describe('VWAP oracle, hand-worked', () => {
  it('rounds (a + c·√b) / s half to even, exactly', () => {
    expect(roundSqrtExpression(5n, 0n, 0n, 2n)).toBe(2n); // 2.5 -> 2
    expect(roundSqrtExpression(7n, 0n, 0n, 2n)).toBe(4n); // 3.5 -> 4
    expect(roundSqrtExpression(-5n, 0n, 0n, 2n)).toBe(-2n); // -2.5 -> -2
    expect(roundSqrtExpression(0n, 1n, 2n, 1n)).toBe(1n); // √2 = 1.414
    expect(roundSqrtExpression(0n, 1n, 3n, 1n)).toBe(2n); // √3 = 1.732
    expect(roundSqrtExpression(0n, 3n, 2n, 1n)).toBe(4n); // 3√2 = 4.243
    expect(roundSqrtExpression(1n, -3n, 2n, 1n)).toBe(-3n); // 1 - 4.243 = -3.243
    expect(roundSqrtExpression(0n, 1n, 9n, 2n)).toBe(2n); // 3 / 2 = 1.5 -> 2 (even)
    expect(roundSqrtExpression(0n, 1n, 25n, 2n)).toBe(2n); // 5 / 2 = 2.5 -> 2 (even)
  });

  it('100 x1 and 102 x1 at scale 0: VWAP 101, σ 1', () => {
    const points = vwapPoints(candlesOf([trade(100, 1), trade(102, 1)], 60_000, 1n, 'nearest'), {
      priceScale: 0,
      decimals: 2,
    });
    expect(points).toEqual([
      {
        openTime: DAY0,
        vwap: '101.00',
        stdDev: '1.00',
        upper: ['102.00', '103.00', '104.00'],
        lower: ['100.00', '99.00', '98.00'],
      },
    ]);
  });

  it('1 x2 and 2 x1 at scale 0: VWAP 4/3, σ √2/3, bands from the exact values', () => {
    // σ² = (2·1 + 1·4)/3 − 16/9 = 2/9; σ = 0.4714045; 3σ = 1.4142136
    const points = vwapPoints(candlesOf([trade(1, 2), trade(2, 1)], 60_000, 1n, 'nearest'), { priceScale: 0 });
    expect(points).toEqual([
      {
        openTime: DAY0,
        vwap: '1.3333',
        stdDev: '0.4714',
        upper: ['1.8047', '2.2761', '2.7475'],
        lower: ['0.8619', '0.3905', '-0.0809'],
      },
    ]);
  });

  it('resets at each session, skips what precedes the anchor, and prints prices at the scale', () => {
    // scale 2: 10000 units = 100.00; the second day starts again
    const ts = [trade(10_000, 1, 0), trade(10_200, 1, 1), trade(20_000, 3, 24 * 60)];
    const session = vwapPoints(candlesOf(ts, 60_000, 1n, 'nearest'), {
      priceScale: 2,
      decimals: 2,
      resetEachSession: true,
    });
    expect(session.map((p) => [p.vwap, p.stdDev])).toEqual([
      ['100.00', '0.00'],
      ['101.00', '1.00'],
      ['200.00', '0.00'],
    ]);
    const anchored = vwapPoints(candlesOf(ts, 60_000, 1n, 'nearest'), {
      priceScale: 2,
      decimals: 3,
      anchorTime: DAY0 + 60_000,
    });
    // from 102.00 x1: then 102.00 x1 and 200.00 x3: 702 / 4 = 175.5; σ² = (102² + 3·200²)/4 − 175.5² = 1800.75
    expect(anchored.map((p) => [p.openTime, p.vwap, p.stdDev])).toEqual([
      [DAY0 + 60_000, '102.000', '0.000'],
      [DAY0 + 24 * 3_600_000, '175.500', '42.435'],
    ]);
    expect(vwapPoints([], { priceScale: 2 })).toEqual([]);
  });

  it('the comparison: VWAP, σ and every band exact', () => {
    const want = vwapPoints(candlesOf([trade(1, 2), trade(2, 1)], 60_000, 1n, 'nearest'), { priceScale: 0 });
    expect(vwapDifferences(want, want)).toEqual([]);
    const off = (k: number, by: string) => [
      {
        ...want[0]!,
        upper: want[0]!.upper.map((u, i) => (i === k - 1 ? by : u)) as [string, string, string],
      },
    ];
    expect(vwapDifferences(off(1, '1.8048'), want)).toEqual([`point 0 (${DAY0}): upper 1σ 1.8048, expected 1.8047`]);
    expect(vwapDifferences(off(3, '2.7474'), want)).toHaveLength(1);
    expect(vwapDifferences([{ ...want[0]!, stdDev: '0.4715' }], want)).toHaveLength(1);
  });
});

describe('the engine against the VWAP and CVD oracles (fast-check, seed ' + SEED + ')', () => {
  const options = fc.record({
    priceScale: fc.integer({ min: 0, max: 8 }),
    extra: fc.integer({ min: 0, max: 6 }),
    resetEachSession: fc.boolean(),
    anchorMinute: fc.option(fc.integer({ min: 0, max: 3 * 24 * 60 }), {
      nil: undefined,
    }),
    session: fc.constantFrom(undefined, { offsetMs: 13 * 3_600_000 + 1_800_000 }, { lengthMs: 8 * 3_600_000 }),
  });

  it('VWAP, σ and every band exact, per candle', () => {
    fc.assert(
      fc.property(trades, options, (ts, o) => {
        const opts = {
          priceScale: o.priceScale,
          decimals: o.priceScale + o.extra,
          resetEachSession: o.resetEachSession,
          anchorTime: o.anchorMinute === undefined ? undefined : DAY0 + o.anchorMinute * 60_000,
          session: o.session,
        };
        const got = vwapBands(engineMinutes(ts), opts);
        const want = vwapPoints(candlesOf(ts, 60_000, 1n, 'nearest'), opts);
        expect(vwapDifferences(got, want)).toEqual([]);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('exact halves round to even: two prices d apart, equal volumes, no extra decimals (VWAP and σ end in .5 when d is odd)', () => {
    const halves = fc.record({
      price: fc.integer({ min: 0, max: 2 ** 40 }),
      d: fc.integer({ min: 1, max: 40 }),
      quantity: fc.integer({ min: 1, max: 2 ** 30 }),
      priceScale: fc.integer({ min: 0, max: 4 }),
    });
    fc.assert(
      fc.property(halves, ({ price, d, quantity, priceScale }) => {
        const ts: RefTrade[] = [
          {
            price: BigInt(price),
            quantity: BigInt(quantity),
            side: 'buy',
            timeUs: BigInt(DAY0) * 1000n,
          },
          {
            price: BigInt(price + d),
            quantity: BigInt(quantity),
            side: 'sell',
            timeUs: BigInt(DAY0 + 1) * 1000n,
          },
        ];
        const opts = { priceScale, decimals: priceScale };
        const got = vwapBands(engineMinutes(ts), opts);
        const want = vwapPoints(candlesOf(ts, 60_000, 1n, 'nearest'), opts);
        expect(vwapDifferences(got, want)).toEqual([]);
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('CVD with its intra-candle high and low, optionally reset each session', () => {
    fc.assert(
      fc.property(
        trades,
        fc.boolean(),
        fc.constantFrom(undefined, { offsetMs: 3_600_000 }, { lengthMs: 4 * 3_600_000 }),
        (ts, reset, session) => {
          const opts = { resetEachSession: reset, session };
          expect(cumulativeDelta(engineMinutes(ts), opts)).toEqual(
            cvdPoints(candlesOf(ts, 60_000, 1n, 'nearest'), opts),
          );
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });
});
