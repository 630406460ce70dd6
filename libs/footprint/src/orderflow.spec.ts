import { describe, expect, it } from 'vitest';
import { regroup } from './candle.js';
import { cumulativeDelta, imbalances, sessionStart, vwapBands } from './orderflow.js';
import { candleOf } from './testing/candles.js';

const T = 1_735_689_600_000; // 2025-01-01T00:00Z
const DAY = 86_400_000;

describe('cumulative volume delta', () => {
  const candles = [
    candleOf(T + DAY - 120_000, [[10, 5, 0]]), // +5
    candleOf(T + DAY - 60_000, [[10, 1, 4]]), // -3
    candleOf(T + DAY, [[10, 2, 0]]), // +2, next UTC day
  ];
  it('accumulates across candles', () => {
    expect(cumulativeDelta(candles).map((p) => [p.delta, p.cvd])).toEqual([
      [5, 5],
      [-3, 2],
      [2, 4],
    ]);
  });
  it('resets per session and carries intra-candle extremes', () => {
    const pts = cumulativeDelta(candles, { resetEachSession: true });
    expect(pts.map((p) => p.cvd)).toEqual([5, 2, 2]);
    // second candle: buy 1 then sell 4 -> running +1, -3 from 5: high 6, low 2
    expect(pts[1]).toMatchObject({ cvdOpen: 5, cvdHigh: 6, cvdLow: 2 });
  });
  it('supports sessions that start at another hour', () => {
    // a session starting 22:00 UTC: 2025-01-01T23:00 belongs to the session from 22:00 that day
    expect(sessionStart(T + 23 * 3_600_000, { offsetMs: 22 * 3_600_000 })).toBe(T + 22 * 3_600_000);
    expect(sessionStart(T + 3_600_000, { offsetMs: 22 * 3_600_000 })).toBe(T - 2 * 3_600_000);
  });
});

describe('VWAP with standard deviation bands (hand-worked)', () => {
  // prices 1.00 (vol 1) and 1.02 (vol 3) at price scale 2: vwap = (100 + 306) / 4 = 101.5 units = 1.015
  // E[p^2] = (10000 + 3 * 10404) / 4 = 10303; variance = 10303 - 101.5^2 = 0.75 units^2; sd = 0.8660254 units
  const c1 = candleOf(T, [
    [100, 1, 0],
    [102, 0, 3],
  ]);
  // + 1.04 (vol 4): vwap = 822 / 8 = 102.75; E[p^2] = 84476 / 8 = 10559.5; var = 1.9375; sd = 1.3919411
  const c2 = candleOf(T + 60_000, [[104, 2, 2]]);

  it('gives exact VWAP and rounded bands', () => {
    const [a, b] = vwapBands([c1, c2], { priceScale: 2, decimals: 6 });
    expect(a).toMatchObject({
      vwap: '1.015000',
      stdDev: '0.008660',
      // each band rounded once from its exact value: 1.015 ± k × 0.0086602540 (k = 1, 2, 3) =
      // 1.0236602540, 1.0323205081, 1.0409807621 and 1.0063397460, 0.9976794919, 0.9890192379
      upper: ['1.023660', '1.032321', '1.040981'],
      lower: ['1.006340', '0.997679', '0.989019'],
    });
    expect(b).toMatchObject({ vwap: '1.027500', stdDev: '0.013919' });
    expect(b!.values.vwap).toBeCloseTo(1.0275, 10);
  });

  it('anchors at a time and resets per session', () => {
    expect(vwapBands([c1, c2], { priceScale: 2, anchorTime: T + 60_000 }).map((p) => [p.vwap, p.stdDev])).toEqual([
      ['1.040000', '0.000000'],
    ]);
    const nextDay = candleOf(T + DAY, [[200, 1, 0]]);
    expect(vwapBands([c1, nextDay], { priceScale: 2, resetEachSession: true }).map((p) => p.vwap)).toEqual([
      '1.015000',
      '2.000000',
    ]);
  });

  it('refuses grouped candles (the exact prices are gone)', () => {
    expect(() => vwapBands([regroup(c1, 4)], { priceScale: 2 })).toThrow(/native ticks/);
  });
});

describe('diagonal and stacked imbalances (hand-worked)', () => {
  // price: buy, sell
  const c = candleOf(T, [
    [100, 1, 10],
    [101, 30, 2],
    [102, 6, 0],
    [103, 9, 1],
    [104, 2, 2],
  ]);

  it('compares buy at p with sell at p - 1 and sell at p with buy at p + 1', () => {
    // buy: 100 (1 vs 0), 101 (30 >= 3*10), 102 (6 >= 3*2), 103 (9 vs 0); 104: 2 < 3*1
    // sell: 104 (2 vs 0); 100: 10 < 90, 101: 2 < 18, 103: 1 < 6
    const r = imbalances(c);
    expect(r.imbalances.map((i) => [i.side, i.price, i.volume, i.against])).toEqual([
      ['buy', 100, 1, 0],
      ['buy', 101, 30, 10],
      ['buy', 102, 6, 2],
      ['buy', 103, 9, 0],
      ['sell', 104, 2, 0],
    ]);
    expect(r.stacked).toEqual([{ side: 'buy', low: 100, high: 103, count: 4 }]);
  });

  it('applies the minimum volume, the ratio and the stack length', () => {
    expect(imbalances(c, { minVolume: 5 }).stacked).toEqual([{ side: 'buy', low: 101, high: 103, count: 3 }]);
    expect(imbalances(c, { minVolume: 5, stackCount: 4 }).stacked).toEqual([]);
    // ratio 3.5: 101 (30 < 35) and 102 (6 < 7) drop out
    expect(
      imbalances(c, { ratio: '3.5' })
        .imbalances.filter((i) => i.side === 'buy')
        .map((i) => i.price),
    ).toEqual([100, 103]);
    expect(() => imbalances(c, { ratio: -1 })).toThrow(/imbalance ratio must be a positive number/);
  });
});
