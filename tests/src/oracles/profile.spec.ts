/**
 * The profile oracle (profile.ts) on hand-worked examples, then the engine against it: POC, value
 * area (both methods, any percentage), HVN/LVN (any percentiles), developing POC/VA and naked
 * POCs, on trades with ties, flat profiles, a single level, gaps, no trade and large values.
 */
import { buildProfile, developingProfile, nakedPocs, profileMetrics } from '@orderflow/footprint';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RefCandle, type RefTrade, candlesOf } from './candles.js';
import { developing, metricsOf, nakedPocs as refNakedPocs, pocIndex, profileOf, valueAreaIndices } from './profile.js';
import { SEED, flatTrades, grouping, percent, trades } from './spec-support/arbitraries.js';
import { engineMinutes } from './spec-support/engine.js';

const big = (xs: number[]) => xs.map(BigInt);

/** One candle of the given [price, buy, sell] levels at step 1. */
function candle(levels: [number, number, number][], openTime = 0): RefCandle {
  return candlesOf(
    levels.flatMap(([p, b, s], i) => [
      ...(b > 0
        ? [
            {
              price: BigInt(p),
              quantity: BigInt(b),
              side: 'buy' as const,
              timeUs: BigInt(openTime + i) * 1000n,
            },
          ]
        : []),
      ...(s > 0
        ? [
            {
              price: BigInt(p),
              quantity: BigInt(s),
              side: 'sell' as const,
              timeUs: BigInt(openTime + i) * 1000n,
            },
          ]
        : []),
    ]),
    60_000,
    1n,
    'nearest',
  )[0]!;
}

describe('profile oracle, hand-worked', () => {
  it('POC ties: nearest the middle, then the higher', () => {
    expect(pocIndex(big([5, 1, 5]))).toBe(2); // both ends equally far from the middle: the higher
    expect(pocIndex(big([5, 5, 1, 1]))).toBe(1); // index 1 is nearer the middle (1.5) than 0
    expect(pocIndex(big([1, 5, 5, 1]))).toBe(2); // 1 and 2 equally near: the higher
    expect(pocIndex(big([2, 2, 2, 2, 2]))).toBe(2); // flat: the middle
    expect(pocIndex(big([0, 0]))).toBeNull();
    expect(pocIndex([])).toBeNull();
  });

  it('value area, single and CME, on 1 3 5 3 1', () => {
    const v = big([1, 3, 5, 3, 1]); // total 13, 70 % -> at least 9.1 -> 10
    // single: 5; 3 up vs 3 down ties up (8); 1 up vs 3 down -> down (11)
    expect(valueAreaIndices(v)).toEqual({
      poc: 2,
      low: 1,
      high: 3,
      volume: 11n,
    });
    // CME: 5; pairs 3+1 up vs 3+1 down tie up (9); nothing above, the pair below (13)
    expect(valueAreaIndices(v, '70', 'cme')).toEqual({
      poc: 2,
      low: 0,
      high: 4,
      volume: 13n,
    });
    // 38.47 % of 13 = 5.0011 -> 6: one more level than the POC
    expect(valueAreaIndices(v, '38.47')).toEqual({
      poc: 2,
      low: 2,
      high: 3,
      volume: 8n,
    });
    expect(valueAreaIndices(v, '38.46')).toEqual({
      poc: 2,
      low: 2,
      high: 2,
      volume: 5n,
    }); // 4.9998 -> 5
  });

  it('HVN/LVN: nearest-rank 70th and 30th percentiles; a flat profile has neither', () => {
    // 100:1 101:3 102:5 103:3 104:1; sorted 1 1 3 3 5: rank ceil(3.5) = 4 -> 3, rank ceil(1.5) = 2 -> 1
    const m = metricsOf(
      profileOf([
        candle([
          [100, 1, 0],
          [101, 2, 1],
          [102, 0, 5],
          [103, 3, 0],
          [104, 0, 1],
        ]),
      ]),
    );
    expect(m).toEqual({
      poc: 102,
      pocVolume: 5,
      valueAreaHigh: 103,
      valueAreaLow: 101,
      valueAreaVolume: 11,
      volume: 13,
      hvnThreshold: 3,
      lvnThreshold: 1,
      hvn: [101, 102, 103],
      lvn: [100, 104],
      hvnZones: [{ low: 101, high: 103 }],
      lvnZones: [
        { low: 100, high: 100 },
        { low: 104, high: 104 },
      ],
    });
    const flat = metricsOf(
      profileOf([
        candle([
          [7, 2, 0],
          [8, 1, 1],
          [9, 0, 2],
        ]),
      ]),
    );
    expect([flat.hvn, flat.lvn, flat.poc]).toEqual([[], [], 8]);
  });

  it('a gap counts as untraded levels of volume 0', () => {
    // 10:4, 11 and 12 untraded, 13:4 -> dense 4 0 0 4: POC 13 (equal ends, equally near the middle: the higher)
    const p = profileOf([
      candle([
        [10, 4, 0],
        [13, 0, 4],
      ]),
    ]);
    expect(p.levels.map((l) => [Number(l.price), Number(l.volume)])).toEqual([
      [10, 4],
      [11, 0],
      [12, 0],
      [13, 4],
    ]);
    // value area: 70 % of 8 -> 6; from 13 nothing above, so down: 12 (4), 11 (4), 10 (8).
    // HVN/LVN: sorted 0 0 4 4, rank ceil(2.8) = 3 -> 4, rank ceil(1.2) = 2 -> 0
    expect(metricsOf(p)).toMatchObject({
      poc: 13,
      valueAreaLow: 10,
      valueAreaHigh: 13,
      hvn: [10, 13],
      lvn: [11, 12],
    });
  });

  it('developing POC/VA and naked POCs', () => {
    const a = candle(
      [
        [100, 5, 0],
        [101, 1, 0],
      ],
      0,
    );
    const b = candle(
      [
        [103, 0, 2],
        [104, 3, 0],
      ],
      60_000,
    );
    const c = candle(
      [
        [101, 0, 1],
        [102, 1, 0],
      ],
      120_000,
    );
    // after a: POC 100 (VA 100-100: 5 of 6 >= 4.2); after b: 100 .. 104 = 5 1 0 2 3, POC 100, VA
    // 70 % of 11 -> 8: 5, up 1 (6), up 0 (6), up 2 (8); after c: 5 2 1 2 3, POC 100, 13 -> 10: 5+2+1+2
    expect(developing([a, b, c])).toEqual([
      { openTime: 0, poc: 100, valueAreaHigh: 100, valueAreaLow: 100 },
      { openTime: 60_000, poc: 100, valueAreaHigh: 103, valueAreaLow: 100 },
      { openTime: 120_000, poc: 100, valueAreaHigh: 103, valueAreaLow: 100 },
    ]);
    // a's POC 100: b (103-104) and c (101-102) do not reach it -> naked; b's POC 104: c does not
    // reach it -> naked; c's POC (1 and 1: the higher of the two, 102) is the last -> naked
    expect(refNakedPocs([a, b, c])).toEqual([
      { openTime: 0, poc: 100 },
      { openTime: 60_000, poc: 104 },
      { openTime: 120_000, poc: 102 },
    ]);
    // d (99-101) reaches a's POC: a is no longer naked; d's own POC (1 and 1 at 99 and 101, equally near the middle) is
    // 101
    const d = candle(
      [
        [99, 1, 0],
        [101, 1, 0],
      ],
      180_000,
    );
    expect(refNakedPocs([a, b, c, d])).toEqual([
      { openTime: 60_000, poc: 104 },
      { openTime: 120_000, poc: 102 },
      { openTime: 180_000, poc: 101 },
    ]);
  });

  it('nothing traded: no POC, no value area, no nodes', () => {
    expect(metricsOf(profileOf([]))).toEqual({
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
    });
    expect(developing([])).toEqual([]);
    expect(refNakedPocs([])).toEqual([]);
  });
});

/** The engine's candles and the oracle's of the same trades at one grouping. */
function both(ts: RefTrade[], step: number, mode: 'nearest' | 'down') {
  return {
    engine: engineMinutes(ts, step, mode),
    ref: candlesOf(ts, 60_000, BigInt(step), mode),
  };
}

describe('the engine against the profile oracle (fast-check, seed ' + SEED + ')', () => {
  it('POC, value area (both methods, any percentage) and HVN/LVN of a range of candles', () => {
    const options = fc.record({
      va: percent,
      method: fc.constantFrom('single' as const, 'cme' as const),
      hvn: fc.integer({ min: 1, max: 100 }),
      lvn: fc.integer({ min: 1, max: 100 }),
    });
    fc.assert(
      fc.property(fc.oneof(trades, flatTrades), grouping, options, (ts, g, o) => {
        const { engine, ref } = both(ts, g.step, g.mode);
        const got = profileMetrics(buildProfile(engine), {
          valueAreaPercent: o.va.number,
          valueAreaMethod: o.method,
          hvnPercentile: o.hvn,
          lvnPercentile: o.lvn,
        });
        const want = metricsOf(profileOf(ref), {
          valueAreaPercent: o.va.text,
          valueAreaMethod: o.method,
          hvnPercentile: String(o.hvn),
          lvnPercentile: String(o.lvn),
        });
        expect(got).toEqual(want);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('a flat profile has a POC in its middle and no HVN or LVN', () => {
    fc.assert(
      fc.property(flatTrades, (ts) => {
        const m = profileMetrics(buildProfile(engineMinutes(ts)));
        expect(m).toEqual(metricsOf(profileOf(candlesOf(ts, 60_000, 1n, 'nearest'))));
        expect([m.hvn, m.lvn]).toEqual([[], []]);
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('developing POC/VA after each candle', () => {
    fc.assert(
      fc.property(trades, grouping, fc.constantFrom('single' as const, 'cme' as const), (ts, g, method) => {
        const { engine, ref } = both(ts, g.step, g.mode);
        expect(developingProfile(engine, { valueAreaMethod: method })).toEqual(
          developing(ref, { valueAreaMethod: method }),
        );
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('naked POCs', () => {
    fc.assert(
      fc.property(trades, grouping, (ts, g) => {
        const { engine, ref } = both(ts, g.step, g.mode);
        expect(nakedPocs(engine)).toEqual(refNakedPocs(ref));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
