import { describe, expect, it } from 'vitest';
import { HistoryError } from './stored-candle.js';
import { latestWireRows } from './wire-rows.js';

describe('latestWireRows', () => {
  const body = (rows: string[][]) => Buffer.from(rows.map((r) => `${r.join('\t')}\n`).join(''), 'utf8');

  it('keeps the highest version of each minute, whatever the order of the rows, its cells the bytes sent', () => {
    const rows = [
      ['120', '7', '1', '1', '1', '[[1,7,0,1,0]]'],
      ['60', '3', '1', '1', '1', '[[1,3,0,1,0]]'],
      ['120', '9', '2', '3', '1', '[[2,9,0,1,0]]'],
      ['60', '2', '1', '1', '1', '[[1,2,0,1,0]]'],
      ['120', '8', '1', '1', '1', '[[1,8,0,1,0]]'],
    ];
    const m = latestWireRows([body(rows)]);
    expect([...m.keys()].sort((a, b) => a - b)).toEqual([60_000, 120_000]);
    const plain = (t: number) => {
      const r = m.get(t)!;
      return { ...r, cells: r.cells.toString('utf8') };
    };
    expect(plain(60_000)).toEqual({ version: 3, poc: 1, vah: 1, val: 1, cells: '[[1,3,0,1,0]]' });
    expect(plain(120_000)).toEqual({ version: 9, poc: 2, vah: 3, val: 1, cells: '[[2,9,0,1,0]]' });
    expect(latestWireRows([])).toEqual(new Map());
    expect(latestWireRows([Buffer.alloc(0)])).toEqual(new Map());
    // without the last line break, and with an escaped tab left in the cells (which isWireCells refuses)
    const last = latestWireRows([Buffer.from('60\t1\t1\t1\t1\t[[1,\\t2]]')]);
    expect(last.get(60_000)!.cells.toString()).toBe('[[1,\\t2]]');
  });

  it('reads the same rows however the response is cut into network chunks', () => {
    const rows = Array.from({ length: 7 }, (_, i) => [
      String(60 * (i % 4)),
      String(i),
      String(i),
      '1',
      '2',
      JSON.stringify(Array.from({ length: i + 1 }, (_, k) => [k, i, 0, 1, 0])),
    ]);
    const whole = body(rows);
    const plain = (m: Map<number, { version: number; cells: Buffer }>) =>
      [...m].map(([t, r]) => `${t} ${r.version} ${r.cells.toString()}`).sort();
    const expected = plain(latestWireRows([whole]));
    expect(expected).toHaveLength(4);
    for (let a = 0; a <= whole.length; a++) {
      expect(plain(latestWireRows([whole.subarray(0, a), whole.subarray(a)])), `cut at ${a}`).toEqual(expected);
      for (let b = a; b <= whole.length; b += 7)
        expect(
          plain(latestWireRows([whole.subarray(0, a), whole.subarray(a, b), whole.subarray(b)])),
          `cut at ${a}, ${b}`,
        ).toEqual(expected);
    }
  });

  it('refuses a row whose fields are not integers, and says what ClickHouse said', () => {
    expect(() => latestWireRows([body([['x', '1', '1', '1', '1', '[]']])])).toThrow(HistoryError);
    expect(() => latestWireRows([body([['60', '1.5', '1', '1', '1', '[]']])])).toThrow(/version: expected an integer/);
    expect(() => latestWireRows([body([['60', '1', '1', '1']])])).toThrow(/val: expected an integer/);
    expect(() =>
      latestWireRows([Buffer.from('Code: 241, e.displayText() = DB::Exception: Memory limit (for query) exceeded\n')]),
    ).toThrow(/^ClickHouse: Code: 241/);
  });
});
