import { describe, expect, it } from 'vitest';
import { IdCoverage } from './id-holes.js';

/** Coverage of ids given as [id, timeUs] pairs. */
function holesOf(pairs: readonly (readonly [number, number])[]) {
  const c = new IdCoverage();
  for (const [id, t] of pairs) c.add(id, t);
  return c.holes();
}

describe('IdCoverage', () => {
  it('consecutive ids have no hole; ids before the first or after the last are not holes', () => {
    expect(
      holesOf([
        [10, 1],
        [11, 2],
        [12, 3],
      ]),
    ).toEqual([]);
    expect(holesOf([[10, 1]])).toEqual([]);
    expect(new IdCoverage().holes()).toEqual([]);
  });

  it('a hole is the missing ids with the times of the trades on either side', () => {
    // 13 and 16..18 missing
    expect(
      holesOf([
        [10, 100],
        [11, 110],
        [12, 120],
        [14, 140],
        [15, 150],
        [19, 190],
      ]),
    ).toEqual([
      { fromId: 13, toId: 13, missing: 1, fromTimeUs: 120, toTimeUs: 140 },
      { fromId: 16, toId: 18, missing: 3, fromTimeUs: 150, toTimeUs: 190 },
    ]);
  });

  it('files in any order, overlapping, or read twice give the holes of their union', () => {
    const fileA = [
      [1, 10],
      [2, 20],
      [3, 30],
      [4, 40],
    ] as const;
    const fileB = [
      [4, 40],
      [5, 50],
      [6, 60],
    ] as const; // overlaps A by one id
    const fileC = [
      [9, 90],
      [10, 100],
    ] as const; // 7 and 8 missing
    const want = [{ fromId: 7, toId: 8, missing: 2, fromTimeUs: 60, toTimeUs: 90 }];
    expect(holesOf([...fileA, ...fileB, ...fileC])).toEqual(want);
    expect(holesOf([...fileC, ...fileB, ...fileA])).toEqual(want);
    expect(holesOf([...fileB, ...fileC, ...fileA, ...fileC, ...fileB])).toEqual(want);
  });

  it('lines out of order inside a file still close their hole', () => {
    expect(
      holesOf([
        [1, 10],
        [3, 30],
        [2, 20],
        [4, 40],
        [7, 70],
      ]),
    ).toEqual([{ fromId: 5, toId: 6, missing: 2, fromTimeUs: 40, toTimeUs: 70 }]);
  });

  it('scattered ids past the merge threshold: 70,000 odd ids leave 69,999 holes of one id', () => {
    const c = new IdCoverage();
    // odd ids only, from the end backwards (no two neighbours in a run)
    for (let id = 139_999; id >= 1; id -= 2) c.add(id, id * 1000);
    const holes = c.holes();
    expect(holes.length).toBe(69_999);
    expect(holes[0]).toEqual({ fromId: 2, toId: 2, missing: 1, fromTimeUs: 1000, toTimeUs: 3000 });
    expect(holes.at(-1)).toEqual({
      fromId: 139_998,
      toId: 139_998,
      missing: 1,
      fromTimeUs: 139_997_000,
      toTimeUs: 139_999_000,
    });
    expect(holes.every((h) => h.missing === 1 && h.fromId % 2 === 0)).toBe(true);
  });

  it('refuses an id that is not a non-negative safe integer', () => {
    const c = new IdCoverage();
    expect(() => c.add(-1, 0)).toThrow(/non-negative safe integer, got -1/);
    expect(() => c.add(2 ** 53, 0)).toThrow(/non-negative safe integer/);
    expect(() => c.add(Number.NaN, 0)).toThrow(/got NaN/);
  });
});
