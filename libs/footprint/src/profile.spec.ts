import { describe, expect, it } from 'vitest';
import { buildProfile, developingProfile, nakedPocs, profileMetrics } from './profile.js';
import { candleOf } from './testing/candles.js';

const T = 1_735_689_600_000;

describe('volume profile metrics (hand-worked)', () => {
  // volumes by price: 100:10 101:15 102:8 103:40 104:12 105:5 106:10, total 100
  const candle = candleOf(T, [
    [100, 4, 6],
    [101, 15, 0],
    [102, 0, 8],
    [103, 25, 15],
    [104, 6, 6],
    [105, 5, 0],
    [106, 1, 9],
  ]);

  it('builds a dense profile with buy/sell split', () => {
    const p = buildProfile([candle]);
    expect(p).toMatchObject({ low: 100, high: 106, volume: 100, buyVolume: 56, sellVolume: 44 });
    expect(p.levels.map((l) => l.volume)).toEqual([10, 15, 8, 40, 12, 5, 10]);
  });

  it('grows the value area one level at a time towards the larger neighbour', () => {
    // 40 at 103; up 12 vs down 8 -> up (52); up 5 vs down 8 -> down (60); up 5 vs down 15 -> down (75 >= 70)
    const m = profileMetrics(buildProfile([candle]));
    expect(m).toMatchObject({
      poc: 103,
      pocVolume: 40,
      valueAreaLow: 101,
      valueAreaHigh: 104,
      valueAreaVolume: 75,
      volume: 100,
    });
  });

  it('offers the CME two-levels-at-a-time variant', () => {
    // 40; pairs up 12+5=17 vs down 8+15=23 -> down (63); up 17 vs down 10 (one level left) -> up (80)
    const m = profileMetrics(buildProfile([candle]), { valueAreaMethod: 'cme' });
    expect(m).toMatchObject({ poc: 103, valueAreaLow: 101, valueAreaHigh: 105, valueAreaVolume: 80 });
  });

  it('takes the value area share as an option', () => {
    // 50%: 40 -> +12 up = 52 >= 50
    expect(profileMetrics(buildProfile([candle]), { valueAreaPercent: 50 })).toMatchObject({
      valueAreaLow: 103,
      valueAreaHigh: 104,
    });
    expect(() => profileMetrics(buildProfile([candle]), { valueAreaPercent: 0 })).toThrow(
      /valueAreaPercent must be in \(0, 100\]/,
    );
  });

  it('marks HVN/LVN by nearest-rank percentiles (70th = 12, 30th = 10)', () => {
    const m = profileMetrics(buildProfile([candle]));
    expect([m.hvnThreshold, m.lvnThreshold]).toEqual([12, 10]);
    expect(m.hvn).toEqual([101, 103, 104]);
    expect(m.lvn).toEqual([100, 102, 105, 106]);
    expect(m.hvnZones).toEqual([
      { low: 101, high: 101 },
      { low: 103, high: 104 },
    ]);
    expect(m.lvnZones).toEqual([
      { low: 100, high: 100 },
      { low: 102, high: 102 },
      { low: 105, high: 106 },
    ]);
  });

  it('defines the edge cases: empty, one level, equal volumes, untraded levels', () => {
    const empty = profileMetrics(buildProfile([]));
    expect(empty).toMatchObject({ poc: null, valueAreaHigh: null, valueAreaLow: null, volume: 0, hvn: [], lvn: [] });
    const one = profileMetrics(buildProfile([candleOf(T, [[50, 1, 0]])]));
    expect(one).toMatchObject({ poc: 50, valueAreaLow: 50, valueAreaHigh: 50, hvn: [], lvn: [] });
    // equal: POC nearest the middle; VA target ceil(10.5) = 11: 5, up 5 -> 10, down 5 -> 15
    const flat = profileMetrics(
      buildProfile([
        candleOf(T, [
          [100, 5, 0],
          [101, 0, 5],
          [102, 5, 0],
        ]),
      ]),
    );
    expect(flat).toMatchObject({ poc: 101, valueAreaLow: 100, valueAreaHigh: 102, hvn: [], lvn: [] });
    // two equal levels: as near the middle, the higher wins
    expect(
      profileMetrics(
        buildProfile([
          candleOf(T, [
            [100, 5, 0],
            [101, 5, 0],
          ]),
        ]),
      ).poc,
    ).toBe(101);
    // gaps are zero-volume levels inside the range
    const gap = buildProfile([
      candleOf(T, [
        [100, 3, 0],
        [103, 0, 1],
      ]),
    ]);
    expect(gap.levels.map((l) => [l.price, l.volume])).toEqual([
      [100, 3],
      [101, 0],
      [102, 0],
      [103, 1],
    ]);
    expect(profileMetrics(gap)).toMatchObject({ poc: 100, valueAreaLow: 100, valueAreaHigh: 100, lvn: [101, 102] });
  });

  it('regroups while building (composite at 2 ticks)', () => {
    // nearest with ties to even: 100->100, 101->100 (50.5 -> 50), 102->102, 103->104 (51.5 -> 52), 104, 105->104, 106
    const p = buildProfile([candle], { step: 2 });
    expect(p.levels.map((l) => [l.price, l.volume])).toEqual([
      [100, 25],
      [102, 8],
      [104, 57],
      [106, 10],
    ]);
  });

  it('develops the POC and value area candle by candle', () => {
    const c1 = candleOf(T, [[100, 10, 0]]);
    const c2 = candleOf(T + 60_000, [[101, 0, 20]]);
    // after c2: 101 has 20 of 30; target 21: down 10 -> 30
    expect(developingProfile([c1, c2])).toEqual([
      { openTime: T, poc: 100, valueAreaHigh: 100, valueAreaLow: 100 },
      { openTime: T + 60_000, poc: 101, valueAreaHigh: 101, valueAreaLow: 100 },
    ]);
  });

  it('keeps POCs naked until a later candle trades through them', () => {
    const a = candleOf(T, [
      [99, 1, 0],
      [100, 5, 0],
      [101, 1, 0],
    ]); // POC 100
    const b = candleOf(T + 60_000, [
      [104, 1, 0],
      [105, 5, 0],
      [106, 1, 0],
    ]); // POC 105
    const c = candleOf(T + 120_000, [
      [103, 9, 0],
      [107, 1, 0],
    ]); // range 103..107 touches 105, POC 103
    expect(nakedPocs([a, b, c])).toEqual([
      { openTime: T, poc: 100 },
      { openTime: T + 120_000, poc: 103 },
    ]);
  });
});
