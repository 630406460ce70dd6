import { describe, expect, it } from 'vitest';
import { mergedView, scaleUnits, singleView } from './instrument-view.js';

describe('instrument views', () => {
  it('a merged view takes the finest scales and a tick every member tick divides', () => {
    const v = mergedView('merged', 'BTC-USDT', [
      { exchange: 'binance', symbol: 'BTCUSDT', priceScale: 2, quantityScale: 5, tick: 1 },
      { exchange: 'bybit', symbol: 'BTCUSDT', priceScale: 1, quantityScale: 6, tick: 1 },
      { exchange: 'okx', symbol: 'BTC-USDT', priceScale: 1, quantityScale: 8, tick: 5 },
    ]);
    expect(v.scales).toEqual({ priceScale: 2, quantityScale: 8, tick: 50 });
    expect(v.members.map((m) => [m.exchange, m.priceFactor, m.quantityFactor])).toEqual([
      ['binance', 1, 1000],
      ['bybit', 10, 100],
      ['okx', 10, 1],
    ]);
    for (const m of v.members) expect(v.scales.tick % (m.scales.tick * m.priceFactor)).toBe(0);
  });

  it('a single instrument is a view of itself with factors 1', () => {
    const v = singleView({ exchange: 'okx', symbol: 'BTC-USDT-SWAP', priceScale: 1, quantityScale: 2, tick: 1 });
    expect(v).toMatchObject({
      merged: false,
      scales: { priceScale: 1, quantityScale: 2, tick: 1 },
      members: [{ priceFactor: 1, quantityFactor: 1 }],
    });
  });

  it('refuses a conversion that would leave the safe integers', () => {
    expect(scaleUnits(5, 100, 'volume')).toBe(500);
    expect(() => scaleUnits(Number.MAX_SAFE_INTEGER, 10, 'volume')).toThrow(/exceeds 2\^53 - 1/);
  });
});
