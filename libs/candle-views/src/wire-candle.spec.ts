import { describe, expect, it } from 'vitest';
import type { WireCell } from '@orderflow/contracts';
import {
  type SummaryPart,
  candleJson,
  candleMetrics,
  cellCount,
  encodeCandle,
  footprintCandleFromJson,
  isWireCells,
  mergeSummaries,
  wireCandle,
} from './wire-candle.js';

const part = (o: Partial<SummaryPart>): SummaryPart => ({
  open: 10,
  high: 12,
  low: 9,
  close: 11,
  buyVolume: 5,
  sellVolume: 3,
  buyTrades: 2,
  sellTrades: 1,
  maxDelta: 4,
  minDelta: -1,
  firstTimeUs: 100,
  lastTimeUs: 200,
  ...o,
});

describe('wire candles', () => {
  it('one traded member: its summary exactly; several: sums, earliest open, latest close, no delta extremes', () => {
    expect(mergeSummaries([undefined, part({})])).toEqual(part({}));
    const m = mergeSummaries([
      part({}),
      part({ open: 20, high: 30, low: 8, close: 21, firstTimeUs: 50, lastTimeUs: 250, buyVolume: 1 }),
    ])!;
    expect(m).toEqual({
      open: 20,
      high: 30,
      low: 8,
      close: 21,
      buyVolume: 6,
      sellVolume: 6,
      buyTrades: 4,
      sellTrades: 2,
      maxDelta: null,
      minDelta: null,
      firstTimeUs: 50,
      lastTimeUs: 250,
    });
    // ties go to the earlier member
    expect(mergeSummaries([part({}), part({ open: 99, close: 98 })])!).toMatchObject({ open: 10, close: 11 });
    expect(mergeSummaries([undefined, undefined])).toBeNull();
  });

  it('candle metrics are the engine profile metrics of its cells', () => {
    expect(candleMetrics([], 1, 'nearest')).toEqual({ poc: null, vah: null, val: null });
    expect(
      candleMetrics(
        [
          [100, 5, 0, 1, 0],
          [101, 5, 5, 1, 1],
          [102, 1, 0, 1, 0],
        ],
        1,
        'nearest',
      ),
    ).toEqual({ poc: 101, vah: 101, val: 100 });
    expect(
      candleMetrics(
        [
          [100, 5, 0, 1, 0],
          [101, 10, 10, 1, 1],
          [102, 1, 0, 1, 0],
        ],
        1,
        'nearest',
      ),
    ).toEqual({ poc: 101, vah: 101, val: 101 });
  });

  it('a stored wire form passes only when it is what JSON.stringify prints for cells', () => {
    const ok = [
      [[100, 5, 0, 1, 0]],
      [
        [-3, 0, 0, 0, 0],
        [100, 5, 0, 1, 0],
        [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 999_999_999_999_999, 1_000_000_000_000_000, 0],
      ],
    ];
    const bytes = (t: string) => Buffer.from(t, 'utf8');
    for (const cells of ok) expect(isWireCells(bytes(JSON.stringify(cells)))).toBe(true);
    const bad = [
      '',
      '[]',
      '[[]]',
      '[[1,2,3,4]]',
      '[[1,2,3,4,5,6]]',
      '[[1,2,3,4,5],]',
      '[[1,2,3,4,5]',
      '[[1,2,3,4,5]] ',
      '[ [1,2,3,4,5]]',
      '[[01,2,3,4,5]]',
      '[[-0,2,3,4,5]]',
      '[[1,-2,3,4,5]]',
      '[[1.5,2,3,4,5]]',
      '[[1e3,2,3,4,5]]',
      '[[9007199254740992,2,3,4,5]]',
      '[[1,2,3,4,12345678901234567]]',
      '[["1",2,3,4,5]]',
      '[[1,2,3,4,5]][[1,2,3,4,5]]',
      '[[1,2,3,4,5],[1,2,3,4,5]\\t]',
      '[[1,2,3,4,5١]]',
      '[[1,2,3,4,5]]\u0000',
    ];
    for (const b of bad) expect(isWireCells(bytes(b)), b).toBe(false);
    // a span of a larger buffer (a row of ClickHouse's response): only [from, to) counts
    const row = bytes(`60\t3\t[[1,2,3,4,5],[2,0,1,0,1]]\n`);
    expect(isWireCells(row, 5, row.length - 1)).toBe(true);
    expect(isWireCells(row, 5, row.length)).toBe(false);
    expect(isWireCells(row, 4, row.length - 1)).toBe(false);
    // every one-byte change of a good text, as JSON.parse and JSON.stringify judge it
    const good = JSON.stringify([
      [-12, 0, 5, 0, 1],
      [7, 90071992547409, 3, 2, 0],
    ]);
    const alphabet = '0123456789-,[]. e"';
    for (let i = 0; i < good.length; i++) {
      for (const ch of alphabet) {
        for (const t of [
          good.slice(0, i) + ch + good.slice(i + 1),
          good.slice(0, i) + ch + good.slice(i),
          good.slice(0, i) + good.slice(i + 1),
        ]) {
          let expected: boolean;
          try {
            const v = JSON.parse(t) as unknown;
            expected =
              JSON.stringify(v) === t &&
              Array.isArray(v) &&
              v.length > 0 &&
              v.every(
                (c) =>
                  Array.isArray(c) &&
                  c.length === 5 &&
                  c.every((x, k) => Number.isSafeInteger(x) && (k === 0 || x >= 0)),
              );
          } catch {
            expected = false;
          }
          expect(isWireCells(bytes(t)), t).toBe(expected);
        }
      }
    }
  });
});

/**
 * A footprint candle made from its cells' JSON, as the history reads make them (from CellTranscoder's text, or a stored
 * wire form's bytes).
 */
describe('footprintCandleFromJson', () => {
  it('is the candle JSON.stringify gives, with cells parsed only when read', () => {
    const cells: WireCell[] = [
      [100, 5, 0, 1, 0],
      [101, 10, 10, 1, 1],
    ];
    const part = {
      open: 100,
      high: 101,
      low: 100,
      close: 101,
      buyVolume: 15,
      sellVolume: 10,
      buyTrades: 2,
      sellTrades: 1,
      maxDelta: 5,
      minDelta: 0,
      firstTimeUs: null,
      lastTimeUs: null,
    };
    const head = () => wireCandle(60_000, part, candleMetrics(cells, 1, 'nearest'));
    const plain = { ...head(), cells };
    const lazy = footprintCandleFromJson(head(), JSON.stringify(cells), cells.length);
    expect(encodeCandle(lazy)).toBe(JSON.stringify(plain));
    expect(JSON.stringify(lazy)).toBe(JSON.stringify(plain));
    expect({ ...lazy }).toEqual(plain);
    expect(lazy.cells).toEqual(cells);
    expect(lazy.cells).toBe(lazy.cells); // parsed once
    expect(candleJson(lazy)).toBe(JSON.stringify(plain));

    // from bytes (a stored wire form as ClickHouse sent it): its JSON is bytes, the same as text
    const fromBytes = footprintCandleFromJson(
      head(),
      new TextEncoder().encode(`\t${JSON.stringify(cells)}\n`).subarray(1, -1),
    );
    const parts = candleJson(fromBytes);
    expect(typeof parts).not.toBe('string');
    expect((parts as Uint8Array[]).map((p) => new TextDecoder().decode(p)).join('')).toBe(JSON.stringify(plain));
    expect(cellCount(fromBytes)).toBe(2);
    expect(fromBytes.cells).toEqual(cells);
    expect(encodeCandle(fromBytes)).toBe(JSON.stringify(plain));
    expect({ ...fromBytes }).toEqual(plain);
  });
});
