import { describe, expect, it } from 'vitest';
import {
  type CandleData,
  type GroupingMode,
  type PriceLevel,
  buildProfile,
  pocAndValueArea,
} from '@orderflow/footprint';
import { CellOrderError, CellTranscoder, type TranscodedCandle } from './cell-transcoder.js';
import { IntTsvError } from './int-tsv.parser.js';

/** A seeded generator (mulberry32): the same cases on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A footprint cell as the rows carry it: [price, buyVolume, sellVolume, buyTrades, sellTrades]. */
type WireCell = [number, number, number, number, number];

/** The reference POC and value area of one candle's cells: the engine's own buildProfile and pocAndValueArea. */
function candleMetrics(
  cells: readonly WireCell[],
  step: number,
  mode: GroupingMode,
): { poc: number | null; vah: number | null; val: number | null } {
  if (cells.length === 0) return { poc: null, vah: null, val: null };
  const levels: PriceLevel[] = cells.map((c) => ({
    price: c[0],
    buyVolume: c[1],
    sellVolume: c[2],
    buyTrades: c[3],
    sellTrades: c[4],
  }));
  const m = pocAndValueArea(buildProfile([{ step, mode, levels } as unknown as CandleData]));
  return m === null ? { poc: null, vah: null, val: null } : { poc: m.poc, vah: m.valueAreaHigh, val: m.valueAreaLow };
}

interface Case {
  bucket: number;
  cells: WireCell[];
}

/**
 * Candles of cells on the `step` grid, ascending, with gaps, zero sides and volumes near 2^47 (a candle of 40 stays
 * within 2^53 - 1).
 */
function cases(seed: number, step: number, candles: number): Case[] {
  const r = rng(seed);
  const out: Case[] = [];
  let bucket = 1_767_225_600;
  for (let k = 0; k < candles; k++) {
    bucket += 60 * (1 + Math.floor(r() * 3));
    const cells: WireCell[] = [];
    let price = step * (1 + Math.floor(r() * 1_000_000));
    const n = 1 + Math.floor(r() * 40);
    for (let i = 0; i < n; i++) {
      price += step * (1 + Math.floor(r() * (r() < 0.8 ? 1 : 5)));
      const big = r() < 0.02;
      const buy =
        r() < 0.3 ? 0 : big ? Math.floor(Number.MAX_SAFE_INTEGER / 64) - Math.floor(r() * 1000) : Math.floor(r() * 1e9);
      const sell = r() < 0.3 ? 0 : Math.floor(r() * 1e9);
      cells.push([price, buy, sell, buy > 0 ? 1 + Math.floor(r() * 50) : 0, sell > 0 ? 1 + Math.floor(r() * 50) : 0]);
    }
    out.push({ bucket, cells });
  }
  return out;
}

const tsv = (cs: readonly Case[]): string =>
  cs.map((c) => c.cells.map((x) => `${c.bucket}\t${x.join('\t')}\n`).join('')).join('');

function transcode(text: string | Buffer, step = 1, chunk = 1 << 16): TranscodedCandle[] {
  const out: TranscodedCandle[] = [];
  const t = new CellTranscoder(step, (c) => out.push(c));
  const buf = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  for (let i = 0; i < buf.length; i += chunk) t.push(buf.subarray(i, i + chunk));
  t.end();
  return out;
}

describe('CellTranscoder', () => {
  it('gives each candle the exact JSON.stringify text of its cells, its totals and the engine POC and value area', () => {
    for (const step of [1, 10, 25]) {
      const want = cases(step, step, 300);
      const got = transcode(tsv(want), step);
      expect(got).toHaveLength(want.length);
      for (let k = 0; k < want.length; k++) {
        const w = want[k]!;
        const g = got[k]!;
        expect(g.bucket).toBe(w.bucket);
        expect(g.cellsJson).toBe(JSON.stringify(w.cells));
        expect(g.cells).toBe(w.cells.length);
        const sum = (i: number) => w.cells.reduce((s, x) => s + x[i]!, 0);
        expect([g.buyVolume, g.sellVolume, g.buyTrades, g.sellTrades]).toEqual([sum(1), sum(2), sum(3), sum(4)]);
        expect({ poc: g.poc, vah: g.vah, val: g.val }).toEqual(candleMetrics(w.cells, step, 'nearest'));
      }
    }
  });

  it('reads the same whatever the chunk boundaries (every split of a small response)', () => {
    const text = tsv(cases(7, 1, 3));
    const whole = transcode(text);
    for (const chunk of [1, 2, 3, 5, 7, 11, 13, 64]) expect(transcode(text, 1, chunk)).toEqual(whole);
  });

  it('a candle without volume has no POC or value area', () => {
    const [c] = transcode('60\t100\t0\t0\t0\t0\n60\t101\t0\t0\t0\t0\n');
    expect(c).toMatchObject({ cellsJson: '[[100,0,0,0,0],[101,0,0,0,0]]', poc: null, vah: null, val: null });
  });

  it('refuses rows out of order with CellOrderError (the reader then asks for ORDER BY)', () => {
    expect(() => transcode('120\t5\t1\t0\t1\t0\n60\t5\t1\t0\t1\t0\n')).toThrow(CellOrderError);
    expect(() => transcode('60\t6\t1\t0\t1\t0\n60\t5\t1\t0\t1\t0\n')).toThrow(/not ordered by price/);
    expect(() => transcode('60\t5\t1\t0\t1\t0\n60\t5\t1\t0\t1\t0\n')).toThrow(/not ordered by price/);
  });

  it('refuses what JSON.stringify would print otherwise, and what is not a row, with clear errors', () => {
    const bad = (text: string, re: RegExp) => {
      let e: unknown = null;
      try {
        transcode(text);
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(IntTsvError);
      expect(e).not.toBeInstanceOf(CellOrderError);
      expect((e as Error).message).toMatch(re);
    };
    bad('60\t05\t1\t0\t1\t0\n', /column 2: expected an integer without leading zeros/);
    bad('60\t-0\t1\t0\t1\t0\n', /without leading zeros/);
    bad('60\t5\t-1\t0\t1\t0\n', /column 3: expected a count or volume \(unsigned\)/);
    bad('60\t5\t9007199254740992\t0\t1\t0\n', /9007199254740992 is beyond 2\^53 - 1 units/);
    bad('60\t5\t1\t0\t1\n', /expected a tab after it/);
    bad('60\t5\t1\t0\t1\t0\t7\n', /6 columns/);
    bad('60\t5\t1.5\t0\t1\t0\n', /column 3: expected a tab after it/);
    bad('60\t5\t1\t0\t1\t0', /ends inside a row/);
    bad('Code: 241, e.displayText() = DB::Exception: Memory limit exceeded\n', /^ClickHouse: Code: 241/);
    bad('60\t5\t1\t0\t1\t0\nCode: 159, e.displayText() = DB::Exception: Timeout exceeded\n', /^ClickHouse: Code: 159/);
    bad(`60\t1\t${Number.MAX_SAFE_INTEGER}\t0\t1\t0\n60\t2\t1\t0\t1\t0\n`, /volume beyond 2\^53 - 1 units/);
  });

  it('refuses cells off the grouping step', () => {
    expect(() => transcode('60\t10\t1\t0\t1\t0\n60\t15\t1\t0\t1\t0\n', 10)).toThrow(
      /not multiples of the grouping step 10 apart/,
    );
    expect(() => transcode('60\t10\t1\t0\t1\t0\n60\t15\t1\t0\t1\t0\n60\t30\t1\t0\t1\t0\n', 10)).toThrow(
      /price 15 is off the grouping step 10/,
    );
  });
});
