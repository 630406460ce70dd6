import type { Trade } from '@orderflow/footprint';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXCHANGES, requireExchange } from './exchanges.js';
import { parseTradeSubject, tradeSubject } from './subjects.js';
import { TradeBatchError, batchMsgId, decodeTradeBatch, encodeTradeBatch } from './trade-batch.js';

describe('trade batches', () => {
  const trade = (id: string, side: 'buy' | 'sell'): Trade => ({
    exchange: 'binance',
    symbol: 'BTCUSDT',
    id,
    price: 9_351_234,
    quantity: 1234,
    side,
    exchangeTimeUs: 1_735_689_600_099_000,
    receiveTimeMs: 1_735_689_600_123,
  });

  it('encodes the documented form and decodes it back', () => {
    const batch = {
      exchange: 'binance',
      symbol: 'BTCUSDT',
      priceScale: 2,
      quantityScale: 5,
      trades: [trade('3358000001', 'buy'), trade('3358000002', 'sell')],
    };
    const text = encodeTradeBatch(batch);
    expect(text).toBe(
      '{"v":1,"exchange":"binance","symbol":"BTCUSDT","priceScale":2,"quantityScale":5,"trades":[["3358000001",9351234,1234,"b",1735689600099000,1735689600123],["3358000002",9351234,1234,"s",1735689600099000,1735689600123]]}',
    );
    expect(decodeTradeBatch(text)).toEqual(batch);
    expect(batchMsgId(batch)).toBe('binance:BTCUSDT:3358000001:3358000002:2');
    const withTick = { ...batch, tick: 5 };
    expect(encodeTradeBatch(withTick)).toContain('"quantityScale":5,"tick":5,"trades":');
    expect(decodeTradeBatch(encodeTradeBatch(withTick))).toEqual(withTick);
  });

  it('round-trips any batch', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            id: fc.string({ minLength: 1, maxLength: 40 }),
            price: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
            quantity: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
            side: fc.constantFrom('buy' as const, 'sell' as const),
            exchangeTimeUs: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
            receiveTimeMs: fc.integer({ min: 0, max: 2 ** 45 }),
          }),
          { maxLength: 50 },
        ),
        (rows) => {
          const batch = {
            exchange: 'okx',
            symbol: 'BTC-USDT-SWAP',
            priceScale: 1,
            quantityScale: 2,
            trades: rows.map((r) => ({ ...r, exchange: 'okx', symbol: 'BTC-USDT-SWAP' })),
          };
          expect(decodeTradeBatch(encodeTradeBatch(batch))).toEqual(batch);
        },
      ),
    );
  });

  it.each([
    ['not json', /not JSON/],
    ['{"v":2}', /unsupported trade batch version 2/],
    [
      '{"v":1,"exchange":"x","symbol":"Y","priceScale":2,"quantityScale":2,"trades":[["1",0,1,"b",1,1]]}',
      /trade 0: price and quantity/,
    ],
    [
      '{"v":1,"exchange":"x","symbol":"Y","priceScale":2,"quantityScale":2,"tick":0,"trades":[]}',
      /tick must be a positive integer/,
    ],
    [
      '{"v":1,"exchange":"x","symbol":"Y","priceScale":2,"quantityScale":2,"tick":"5","trades":[]}',
      /tick must be a positive integer/,
    ],
    [
      '{"v":1,"exchange":"x","symbol":"Y","priceScale":2,"quantityScale":2,"trades":[["1",1,1,"buy",1,1]]}',
      /side must be "b" or "s"/,
    ],
    ['{"v":1,"exchange":"x","symbol":"Y","priceScale":20,"quantityScale":2,"trades":[]}', /priceScale/],
  ])('rejects %s', (text, reason) => {
    expect(() => decodeTradeBatch(text)).toThrow(TradeBatchError);
    expect(() => decodeTradeBatch(text)).toThrow(reason);
  });
});

describe('subjects and exchange ids', () => {
  it('builds and parses trade subjects, refusing tokens that would break them', () => {
    expect(tradeSubject('binance-futures', 'BTCUSDT')).toBe('trades.binance-futures.BTCUSDT');
    expect(parseTradeSubject('trades.okx.BTC-USDT-SWAP')).toEqual({ exchange: 'okx', symbol: 'BTC-USDT-SWAP' });
    expect(parseTradeSubject('trades.okx')).toBeNull();
    expect(() => tradeSubject('binance', 'BTC.USDT')).toThrow(/symbol "BTC.USDT" must be/);
    expect(() => tradeSubject('binance', '>')).toThrow(/must be/);
  });

  it('labels simulated feeds with ids of their own', () => {
    expect(requireExchange('sim-binance')).toMatchObject({ protocol: 'binance-spot', simulated: true });
    expect(EXCHANGES.filter((e) => !e.simulated).map((e) => e.id)).toEqual([
      'binance',
      'binance-futures',
      'bybit',
      'bybit-linear',
      'okx',
    ]);
    expect(() => requireExchange('ftx')).toThrow(/unknown exchange "ftx"/);
  });
});
