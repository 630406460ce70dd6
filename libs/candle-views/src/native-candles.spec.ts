import type { LiveUpdate } from '@orderflow/contracts';
import { FootprintCandle } from '@orderflow/footprint';
import { describe, expect, it } from 'vitest';
import { summaryOf } from './testing/summary.js';
import { NativeCandles } from './native-candles.js';

const T0 = Date.UTC(2024, 7, 8, 23, 58);

function update(c: FootprintCandle, prices: number[]): LiveUpdate {
  return {
    v: 1,
    exchange: 'x',
    symbol: 'y',
    timeframe: '1m',
    epoch: 'e',
    seq: 1,
    scales: { priceScale: 0, quantityScale: 0, tick: 1 },
    candle: summaryOf(c),
    cells: prices.map((p) => ({ ...c.levels.get(p)! })),
    session: null as never,
    sentAtMs: 0,
  };
}

describe('NativeCandles', () => {
  it("a whole candle replaces; a partial update says each level's previous and new value", () => {
    const n = new NativeCandles('1m');
    const c = new FootprintCandle('1m', T0);
    c.add(100, 2, 'buy', T0 * 1000);
    c.add(101, 3, 'sell', T0 * 1000 + 1);
    expect(n.apply(update(c, [100, 101]))).toMatchObject({
      kind: 'replace',
      openTime: T0,
      levels: [{ price: 100 }, { price: 101 }],
    });
    c.add(101, 4, 'buy', T0 * 1000 + 2);
    expect(n.apply(update(c, [101]))).toEqual({
      kind: 'update',
      openTime: T0,
      summary: summaryOf(c),
      changes: [
        {
          price: 101,
          prev: { price: 101, buyVolume: 0, sellVolume: 3, buyTrades: 0, sellTrades: 1 },
          next: { price: 101, buyVolume: 4, sellVolume: 3, buyTrades: 1, sellTrades: 1 },
        },
      ],
    });
  });

  it('refuses malformed updates and drops candles past the retention', () => {
    const n = new NativeCandles('1m', 120_000);
    const c = new FootprintCandle('1m', T0);
    c.add(100, 2, 'buy', T0 * 1000);
    const u = update(c, [100]);
    expect(n.apply({ ...u, cells: [{ ...u.cells[0]!, buyVolume: -1 }] })).toEqual({
      refused: expect.stringMatching(/malformed/),
    });
    expect(n.apply({ ...u, candle: { ...u.candle, openTime: T0 + 1 } })).toEqual({
      refused: expect.stringMatching(/not aligned/),
    });
    expect(n.apply({ ...u, candle: { ...u.candle, timeframe: '5m' } })).toEqual({
      refused: expect.stringMatching(/timeframe/),
    });
    n.apply(u);
    const later = new FootprintCandle('1m', T0 + 180_000);
    later.add(100, 1, 'sell', (T0 + 180_000) * 1000);
    n.apply(update(later, [100]));
    expect(n.evict()).toEqual([T0]);
    expect(n.openTimes()).toEqual([T0 + 180_000]);
  });
});
