import { describe, expect, it } from 'vitest';
import { isKnownExchange, mergedMarket, pairOf } from './instrument.view.js';

describe('instrument views', () => {
  it('names the members of the merged markets and tells base from quote', () => {
    expect(mergedMarket('merged')!.members('ETH', 'USDT')).toEqual([
      { exchange: 'binance', symbol: 'ETHUSDT' },
      { exchange: 'bybit', symbol: 'ETHUSDT' },
      { exchange: 'okx', symbol: 'ETH-USDT' },
    ]);
    expect(
      mergedMarket('merged-perp')!
        .members('BTC', 'USDT')
        .map((m) => m.symbol),
    ).toEqual(['BTCUSDT', 'BTCUSDT', 'BTC-USDT-SWAP']);
    expect(pairOf('BTCUSDT')).toEqual({ base: 'BTC', quote: 'USDT' });
    expect(pairOf('ETHFDUSD')).toEqual({ base: 'ETH', quote: 'FDUSD' });
    expect(pairOf('BTC-USDT-SWAP')).toEqual({ base: 'BTC', quote: 'USDT' });
    expect(pairOf('WHATEVER')).toBeNull();
    expect(isKnownExchange('merged-perp') && isKnownExchange('sim-binance') && !isKnownExchange('nyse')).toBe(true);
  });
});
