import { describe, expect, it } from 'vitest';
import { candleJson, candleMetrics, cellCount, encodeCandle, footprintCandleFromJson, wireCandle } from '@orderflow/candle-views';
import type { WireCell } from '@orderflow/contracts';

/** A footprint candle made from its cells' JSON, as the history reads make them (from CellTranscoder's text, or a stored wire form's bytes). */
describe('footprintCandleFromJson', () => {
  it('is the candle JSON.stringify gives, with cells parsed only when read', () => {
    const cells: WireCell[] = [
      [100, 5, 0, 1, 0],
      [101, 10, 10, 1, 1],
    ];
    const part = { open: 100, high: 101, low: 100, close: 101, buyVolume: 15, sellVolume: 10, buyTrades: 2, sellTrades: 1, maxDelta: 5, minDelta: 0, firstTimeUs: null, lastTimeUs: null };
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
    const fromBytes = footprintCandleFromJson(head(), Buffer.from(`\t${JSON.stringify(cells)}\n`).subarray(1, -1));
    const parts = candleJson(fromBytes);
    expect(typeof parts).not.toBe('string');
    expect(Buffer.concat(parts as Uint8Array[]).toString('utf8')).toBe(JSON.stringify(plain));
    expect(cellCount(fromBytes)).toBe(2);
    expect(fromBytes.cells).toEqual(cells);
    expect(encodeCandle(fromBytes)).toBe(JSON.stringify(plain));
    expect({ ...fromBytes }).toEqual(plain);
  });
});
