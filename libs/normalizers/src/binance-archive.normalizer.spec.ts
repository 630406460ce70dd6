import { instrumentFromSteps } from '@orderflow/footprint';
import { describe, expect, it } from 'vitest';
import { isBinanceArchiveHeader, normalizeBinanceArchiveRow } from './binance-archive.normalizer.js';
import { NormalizeError } from './normalize.error.js';

const btc = instrumentFromSteps('binance', 'BTCUSDT', '0.01', '0.00001');

describe('Binance public-data archive rows', () => {
  it('reads a spot row with a microsecond timestamp (2025 on); isBuyerMaker True is a sell', () => {
    const t = normalizeBinanceArchiveRow(
      '3800397495,87648.21000000,0.08185000,5723703861,5723703861,1767225600039409,True,True',
      'binance',
      btc,
      1,
    );
    expect(t).toMatchObject({
      id: '3800397495',
      price: 8_764_821,
      quantity: 8185,
      side: 'sell',
      exchangeTimeUs: 1_767_225_600_039_409,
      firstTradeId: '5723703861',
    });
  });

  it('reads a 2024 spot row in milliseconds and a futures row (7 columns)', () => {
    expect(
      normalizeBinanceArchiveRow('1,60000.00,1.00000,1,2,1704067200000,False,True', 'binance', btc, 1),
    ).toMatchObject({ side: 'buy', exchangeTimeUs: 1_704_067_200_000_000 });
    const fut = instrumentFromSteps('binance-futures', 'BTCUSDT', '0.1', '0.001');
    expect(
      normalizeBinanceArchiveRow(
        '2134061880,42313.7,0.002,4389718236,4389718236,1704067200055,true',
        'binance-futures',
        fut,
        1,
      ),
    ).toMatchObject({
      exchange: 'binance-futures',
      price: 423_137,
      quantity: 2,
      side: 'sell',
    });
    expect(
      isBinanceArchiveHeader('agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker'),
    ).toBe(true);
  });

  it.each([
    ['1,2,3', /expected 7 \(futures\) or 8 \(spot\) columns, got 3/],
    ['x,87648.21,0.1,1,1,1767225600039409,True,True', /aggregate id must be a non-negative integer/],
    ['1,87648.219,0.1,1,1,1767225600039409,True,True', /price: .*more than 2 significant decimals/],
    ['1,87648.21,0.1,1,1,1767225600039409,maybe,True', /isBuyerMaker must be true or false/],
  ])('rejects %s', (line, reason) => {
    expect(() => normalizeBinanceArchiveRow(line, 'binance', btc, 1)).toThrow(NormalizeError);
    expect(() => normalizeBinanceArchiveRow(line, 'binance', btc, 1)).toThrow(reason);
  });
});
