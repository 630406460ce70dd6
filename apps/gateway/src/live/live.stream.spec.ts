import { describe, expect, it } from 'vitest';
import { overlayStored } from './live.stream.js';

describe('overlayStored', () => {
  it('an owner snapshot candle (only the levels ClickHouse may lack) over the stored levels is the whole candle', () => {
    const snap = { timeframe: '1m', openTime: 0, step: 1, mode: 'nearest', open: 10, high: 12, low: 10, close: 12, buyVolume: 9, sellVolume: 1, buyTrades: 4, sellTrades: 1, delta: 8, maxDelta: 8, minDelta: 0, firstTimeUs: 1, lastTimeUs: 2, onGrid: true, levels: [{ price: 12, buyVolume: 5, sellVolume: 0, buyTrades: 2, sellTrades: 0 }] } as const;
    const stored = [
      { price: 10, buyVolume: 3, sellVolume: 1, buyTrades: 1, sellTrades: 1 },
      { price: 11, buyVolume: 1, sellVolume: 0, buyTrades: 1, sellTrades: 0 },
      { price: 12, buyVolume: 2, sellVolume: 0, buyTrades: 1, sellTrades: 0 },
    ];
    const c = overlayStored({ ...snap, levels: [...snap.levels] }, stored);
    expect(c.levels).toEqual([stored[0], stored[1], snap.levels[0]]);
    expect(c.levels.reduce((n, l) => n + l.buyVolume, 0)).toBe(c.buyVolume);
    expect(overlayStored({ ...snap, levels: [...snap.levels] }, undefined).levels).toEqual([snap.levels[0]]);
  });
});
