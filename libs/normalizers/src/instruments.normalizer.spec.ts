import { describe, expect, it } from 'vitest';
import { parseBybitInstruments, parseOkxInstruments } from './instruments.normalizer.js';

describe('instrument listings', () => {
  it('reads Bybit linear and spot filters', () => {
    const linear =
      '{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[{"symbol":"BTCUSDT","priceFilter":{"minPrice":"0.10","maxPrice":"199999.80","tickSize":"0.10"},"lotSizeFilter":{"maxOrderQty":"1190.000","minOrderQty":"0.001","qtyStep":"0.001"}}]}}';
    expect(parseBybitInstruments(linear, 'bybit-linear', 'BTCUSDT')).toEqual({
      exchange: 'bybit-linear',
      symbol: 'BTCUSDT',
      priceScale: 1,
      quantityScale: 3,
      tick: 1,
    });
    const spot =
      '{"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[{"symbol":"BTCUSDT","priceFilter":{"tickSize":"0.01"},"lotSizeFilter":{"basePrecision":"0.000001"}}]}}';
    expect(parseBybitInstruments(spot, 'bybit', 'BTCUSDT')).toMatchObject({ priceScale: 2, quantityScale: 6 });
    expect(() => parseBybitInstruments(spot, 'bybit', 'ETHUSDT')).toThrow(/Bybit does not list ETHUSDT/);
  });

  it('reads OKX tickSz and lotSz', () => {
    const body =
      '{"code":"0","msg":"","data":[{"instId":"BTC-USDT-SWAP","instType":"SWAP","tickSz":"0.1","lotSz":"0.01","ctVal":"0.01"}]}';
    expect(parseOkxInstruments(body, 'okx', 'BTC-USDT-SWAP')).toEqual({
      exchange: 'okx',
      symbol: 'BTC-USDT-SWAP',
      priceScale: 1,
      quantityScale: 2,
      tick: 1,
    });
    expect(() => parseOkxInstruments('{"code":"51001","msg":"Instrument ID does not exist"}', 'okx', 'X')).toThrow(
      /Instrument ID does not exist/,
    );
  });
});
