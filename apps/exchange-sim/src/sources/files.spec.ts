import { describe, expect, it } from 'vitest';
import { dataFile, needsData } from '../testing/helpers.js';
import { detectFormat, loadTradeFile, parseTradeText, symbolFromFileName, TradeFileError } from './files.js';

describe('recorded trade files', () => {
  it('parses the three formats from text, keeping the exact strings', () => {
    const csv = parseTradeText(
      'timestamp,price,quantity,side,tradeId\n1750507467356,83.29,0.107,buy,293517768\n1750507470500,83.30,1.390,sell,293517770\n',
      'aggtrade-csv',
    );
    expect(csv.trades).toEqual([
      {
        id: 293517768,
        price: '83.29',
        quantity: '0.107',
        time: 1750507467356,
        side: 'buy',
        firstId: 293517768,
        lastId: 293517768,
      },
      {
        id: 293517770,
        price: '83.30',
        quantity: '1.390',
        time: 1750507470500,
        side: 'sell',
        firstId: 293517770,
        lastId: 293517770,
      },
    ]);
    const jsonl = parseTradeText(
      '{"e":"trade","E":1723161256322,"T":1723161256321,"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":true}\n',
      'binance-ws-jsonl',
    );
    expect(jsonl.symbol).toBe('BTCUSDT');
    expect(jsonl.trades[0]).toEqual({
      id: 5266583935,
      firstId: 5266583935,
      lastId: 5266583935,
      price: '61800.30',
      quantity: '0.006',
      time: 1723161256321,
      side: 'sell',
      eventTime: 1723161256322,
    });
    const archive = parseTradeText(
      '3800397495,87648.21000000,0.08185000,5723703861,5723703862,1767225600039409,True,True\n',
      'binance-archive-csv',
    );
    expect(archive.trades[0]).toEqual({
      id: 3800397495,
      price: '87648.21000000',
      quantity: '0.08185000',
      firstId: 5723703861,
      lastId: 5723703862,
      time: 1767225600039,
      side: 'sell',
      bestMatch: true,
    });
  });

  it('detects formats and symbols, and rejects what it cannot read', () => {
    expect(detectFormat('timestamp,price,quantity,side,tradeId\n')).toBe('aggtrade-csv');
    expect(detectFormat('{"e":"trade"}\n')).toBe('binance-ws-jsonl');
    expect(detectFormat('1,2.0,3.0,4,5,1767225600039409,True,True\n')).toBe('binance-archive-csv');
    expect(() => detectFormat('hello')).toThrow(TradeFileError);
    expect(symbolFromFileName('/x/binance-spot_LTCUSDT_aggtrade-ws_2025-06-21T12_2025-06-22T19.csv')).toBe('LTCUSDT');
    expect(symbolFromFileName('BTCUSDT-aggTrades-2026-01-01_first5000.csv')).toBe('BTCUSDT');
    expect(() => parseTradeText('timestamp,price,quantity,side,tradeId\n1,1e5,1,buy,1\n', 'aggtrade-csv')).toThrow(
      /price "1e5"/,
    );
  });

  it('reads the shared recordings: LTCUSDT with its real gaps, @trade JSONL, the µs archive', needsData(), async () => {
    const ltc = await loadTradeFile(dataFile('binance-spot_LTCUSDT_aggtrade-ws_2025-06-21T12_2025-06-22T19.csv'));
    expect(ltc.symbol).toBe('LTCUSDT');
    expect(ltc.trades).toHaveLength(149_944);
    let missing = 0;
    let places = 0;
    let largest = 0;
    for (let i = 1; i < ltc.trades.length; i++) {
      const d = ltc.trades[i]!.id - ltc.trades[i - 1]!.id - 1;
      if (d > 0) {
        missing += d;
        places++;
        largest = Math.max(largest, d);
      }
    }
    expect({ missing, places, largest }).toEqual({
      missing: 950,
      places: 25,
      largest: 629,
    });

    const fut = await loadTradeFile(dataFile('binance-futures_BTCUSDT_trade-ws_2024-08-08T2354.jsonl'));
    expect(fut.symbol).toBe('BTCUSDT');
    expect(fut.trades).toHaveLength(21_313);
    expect(fut.trades.every((t, i) => i === 0 || t.id === fut.trades[i - 1]!.id + 1)).toBe(true);

    const archive = await loadTradeFile(dataFile('BTCUSDT-aggTrades-2026-01-01_first5000.csv'));
    expect(archive.format).toBe('binance-archive-csv');
    expect(archive.trades).toHaveLength(5000);
    expect(archive.trades[0]).toMatchObject({
      id: 3800397495,
      price: '87648.21000000',
      time: 1767225600039,
      side: 'sell',
    });
  });
});
