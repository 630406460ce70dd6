import { describe, expect, it } from 'vitest';
import { tpoProfiles } from './tpo.js';
import { candleOf } from './testing/candles.js';

const T = 1_735_689_600_000;
const H = 1_800_000;

describe('TPO market profile (hand-worked)', () => {
  const candles = [
    candleOf(
      T,
      [
        [100, 1, 0],
        [103, 0, 1],
      ],
      '30m',
    ), // A: 100..103
    candleOf(
      T + H,
      [
        [102, 1, 0],
        [105, 1, 0],
      ],
      '30m',
    ), // B: 102..105
    candleOf(T + 2 * H, [[104, 1, 0]], '30m'), // C: 104
  ];

  it('prints each period letter from its low to its high', () => {
    const [p] = tpoProfiles(candles);
    expect(p!.levels.map((l) => [l.price, l.letters])).toEqual([
      [100, 'A'],
      [101, 'A'],
      [102, 'AB'],
      [103, 'AB'],
      [104, 'BC'],
      [105, 'B'],
    ]);
    expect(p!.initialBalance).toEqual({ low: 100, high: 105 });
    expect(p!.singlePrints).toEqual([
      { low: 100, high: 101 },
      { low: 105, high: 105 },
    ]);
    expect(p!.poc).toBe(103); // 102, 103, 104 have two letters; 102 and 103 are as near the middle: the higher
    expect(p!.periods.map((x) => x.letter)).toEqual(['A', 'B', 'C']);
  });

  it('builds from 1m candles and splits sessions', () => {
    const ones = [
      candleOf(T + 29 * 60_000, [[10, 1, 0]]),
      candleOf(T + 30 * 60_000, [[11, 1, 0]]),
      candleOf(T + 86_400_000, [[12, 1, 0]]),
    ];
    const ps = tpoProfiles(ones);
    expect(ps.map((p) => p.levels.map((l) => `${l.price}${l.letters}`))).toEqual([['10A', '11B'], ['12A']]);
  });

  it('is empty for no candles and refuses candles longer than a period', () => {
    expect(tpoProfiles([])).toEqual([]);
    expect(() => tpoProfiles([candleOf(T, [[1, 1, 0]], '1h')])).toThrow(/do not fit/);
  });
});
