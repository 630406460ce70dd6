import { describe, expect, it } from 'vitest';
import type { InstrumentInfo, MergedViewInfo } from '@orderflow/contracts';
import {
  type InstrumentRef,
  RECENT_MAX,
  initialInstrument,
  loadRecent,
  matchesQuery,
  parseRecent,
  pickerEntries,
  rememberInstrument,
  saveRecent,
  searchInstruments,
} from './instrument.search.js';

const info = (exchange: string, symbol: string): InstrumentInfo => ({
  exchange,
  symbol,
  priceScale: 2,
  quantityScale: 5,
  tick: 1,
  tickSize: '0.01',
});
const view = (exchange: string, symbol: string, members: InstrumentRef[]): MergedViewInfo => ({
  ...info(exchange, symbol),
  members: members.map((m) => ({ ...m, priceFactor: 1, quantityFactor: 1 })),
});
// as /api/instruments lists them: instruments by exchange and symbol, then merged views
const API = {
  instruments: [
    info('binance', 'BTCUSDT'),
    info('binance', 'ETHBTC'),
    info('binance', 'ETHUSDT'),
    info('binance', 'WETHUSDT'),
    info('bybit', 'BTCUSDT'),
    info('bybit', 'ETHUSDT'),
    info('sim-binance', 'BTCUSDT'),
  ],
  merged: [
    view('merged', 'BTC-USDT', [
      { exchange: 'binance', symbol: 'BTCUSDT' },
      { exchange: 'bybit', symbol: 'BTCUSDT' },
    ]),
    view('merged', 'ETH-USDT', [
      { exchange: 'binance', symbol: 'ETHUSDT' },
      { exchange: 'bybit', symbol: 'ETHUSDT' },
    ]),
  ],
};
const entries = pickerEntries(API);
const names = (q: string, recent: InstrumentRef[] = []) =>
  searchInstruments(entries, q, recent).map((m) => `${m.entry.exchange} ${m.entry.symbol}${m.recent ? ' *' : ''}`);
const ref = (exchange: string, symbol: string): InstrumentRef => ({ exchange, symbol });

describe('picker entries', () => {
  it('lists the instruments in the API order, then the merged views with their members, each once', () => {
    expect(entries.map((e) => `${e.exchange} ${e.symbol}`)).toEqual([
      'binance BTCUSDT',
      'binance ETHBTC',
      'binance ETHUSDT',
      'binance WETHUSDT',
      'bybit BTCUSDT',
      'bybit ETHUSDT',
      'sim-binance BTCUSDT',
      'merged BTC-USDT',
      'merged ETH-USDT',
    ]);
    expect(entries[7]).toEqual({
      exchange: 'merged',
      symbol: 'BTC-USDT',
      merged: true,
      tickSize: '0.01',
      members: [ref('binance', 'BTCUSDT'), ref('bybit', 'BTCUSDT')],
    });
    expect(entries[0]).toMatchObject({ merged: false, members: [] });
    expect(pickerEntries({ instruments: [info('a', 'X'), info('a', 'X')], merged: [] })).toHaveLength(1);
  });
});

describe('search', () => {
  it('an empty or blank query lists everything', () => {
    expect(names('')).toHaveLength(entries.length);
    expect(names('  \t ')).toHaveLength(entries.length);
  });

  it('finds a term anywhere in the exchange or the symbol, whatever its case', () => {
    expect(names('eth')).toEqual([
      'binance ETHBTC',
      'binance ETHUSDT',
      'bybit ETHUSDT',
      'merged ETH-USDT',
      'binance WETHUSDT',
    ]);
    expect(names('EtH')).toEqual(names('eth'));
    expect(names('SIM')).toEqual(['sim-binance BTCUSDT']);
    expect(names('merged')).toEqual(['merged BTC-USDT', 'merged ETH-USDT']);
    expect(names('usdt')).toHaveLength(entries.length - 1);
  });

  it('needs every term, each in the exchange or the symbol', () => {
    expect(names('bybit btc')).toEqual(['bybit BTCUSDT']);
    expect(names('btc bybit')).toEqual(['bybit BTCUSDT']);
    expect(names('binance eth')).toEqual(['binance ETHBTC', 'binance ETHUSDT', 'binance WETHUSDT']);
    expect(names('bybit sol')).toEqual([]);
    // a term does not run from the exchange into the symbol
    expect(names('bybitbtc')).toEqual([]);
  });

  it('ignores separators inside symbols: merged BASE-QUOTE and exchange symbols find each other', () => {
    expect(names('btcusdt')).toEqual(['binance BTCUSDT', 'bybit BTCUSDT', 'sim-binance BTCUSDT', 'merged BTC-USDT']);
    expect(names('btc-usdt')).toEqual(names('btcusdt'));
    expect(names('btc/usdt merged')).toEqual(['merged BTC-USDT']);
    expect(names('h-u')).toEqual(['binance ETHUSDT', 'binance WETHUSDT', 'bybit ETHUSDT', 'merged ETH-USDT']);
    // separators in exchange names are matched as typed
    expect(names('sim-bin')).toEqual(['sim-binance BTCUSDT']);
    expect(names('simbin')).toEqual([]);
    expect(names('-')).toHaveLength(entries.length);
    expect(names('eth / usdt')).toEqual(names('eth usdt'));
  });

  it('puts the recently used matches first, most recent first, then symbols starting with a term', () => {
    const recent = [ref('merged', 'ETH-USDT'), ref('bybit', 'BTCUSDT'), ref('okx', 'GONE-USDT')];
    expect(names('', recent).slice(0, 3)).toEqual(['merged ETH-USDT *', 'bybit BTCUSDT *', 'binance BTCUSDT']);
    expect(names('eth', recent)).toEqual([
      'merged ETH-USDT *',
      'binance ETHBTC',
      'binance ETHUSDT',
      'bybit ETHUSDT',
      'binance WETHUSDT',
    ]);
    expect(names('btc', recent)).toEqual([
      'bybit BTCUSDT *',
      'binance BTCUSDT',
      'sim-binance BTCUSDT',
      'merged BTC-USDT',
      'binance ETHBTC',
    ]);
    // a recent entry that does not match is not listed
    expect(names('binance', recent)[0]).toBe('binance BTCUSDT');
    expect(names('gone', recent)).toEqual([]);
  });

  it('matchesQuery says the same as the search', () => {
    for (const q of ['', 'eth', 'bybit btc', 'btc-usdt', 'nope', 'merged eth']) {
      expect(entries.filter((e) => matchesQuery(e, q)).length, q).toBe(searchInstruments(entries, q, []).length);
    }
  });
});

describe('recently used', () => {
  it('puts the used instrument first, once, and keeps at most RECENT_MAX', () => {
    let r: InstrumentRef[] = [];
    r = rememberInstrument(r, ref('binance', 'BTCUSDT'));
    r = rememberInstrument(r, ref('merged', 'BTC-USDT'));
    r = rememberInstrument(r, ref('binance', 'BTCUSDT'));
    expect(r).toEqual([ref('binance', 'BTCUSDT'), ref('merged', 'BTC-USDT')]);
    for (let i = 0; i < 20; i++) r = rememberInstrument(r, ref('x', `S${i}`));
    expect(r).toHaveLength(RECENT_MAX);
    expect(r[0]).toEqual(ref('x', 'S19'));
    expect(rememberInstrument([ref('a', '1'), ref('b', '2'), ref('c', '3')], ref('d', '4'), 3)).toEqual([
      ref('d', '4'),
      ref('a', '1'),
      ref('b', '2'),
    ]);
  });

  it('reads back what it stored, and nothing from a missing, broken or foreign value', () => {
    const map = new Map<string, string>();
    const storage = {
      getItem: (k: string) => map.get(k) ?? null,
      setItem: (k: string, v: string) => void map.set(k, v),
    };
    const list = [ref('merged', 'BTC-USDT'), ref('binance', 'BTCUSDT')];
    saveRecent(storage, 'k', list);
    expect(loadRecent(storage, 'k')).toEqual(list);
    expect(loadRecent(storage, 'other')).toEqual([]);
    expect(parseRecent(null)).toEqual([]);
    expect(parseRecent('{not json')).toEqual([]);
    expect(parseRecent('{"exchange":"a","symbol":"b"}')).toEqual([]);
    expect(
      parseRecent(
        '[{"exchange":"a","symbol":"b"},{"exchange":"a","symbol":"b"},{"exchange":1,"symbol":"c"},null,{"exchange":"","symbol":"d"},{"exchange":"e","symbol":"f","extra":1}]',
      ),
    ).toEqual([ref('a', 'b'), ref('e', 'f')]);
    // storage that throws (a private window, a full quota) is as good as none
    const refusing = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
    };
    expect(loadRecent(refusing, 'k')).toEqual([]);
    expect(() => saveRecent(refusing, 'k', list)).not.toThrow();
    expect(loadRecent(null, 'k')).toEqual([]);
  });
});

describe('the instrument to open', () => {
  const none = { exchange: '', symbol: '' };
  it("is the URL's when it names one, listed or not", () => {
    expect(
      initialInstrument({ exchange: 'sim-binance', symbol: 'ETHUSDT' }, [ref('binance', 'BTCUSDT')], entries),
    ).toEqual(ref('sim-binance', 'ETHUSDT'));
    expect(initialInstrument({ exchange: 'binance', symbol: 'NOPEUSDT' }, [], entries)).toEqual(
      ref('binance', 'NOPEUSDT'),
    );
    expect(initialInstrument({ exchange: ' binance ', symbol: 'BTCUSDT ' }, [], [])).toEqual(ref('binance', 'BTCUSDT'));
  });

  it('else the most recently used one that is still listed, else the first listed', () => {
    expect(initialInstrument(none, [], entries)).toEqual(ref('binance', 'BTCUSDT'));
    expect(
      initialInstrument(none, [ref('okx', 'GONE-USDT'), ref('merged', 'ETH-USDT'), ref('bybit', 'BTCUSDT')], entries),
    ).toEqual(ref('merged', 'ETH-USDT'));
    expect(initialInstrument(none, [ref('okx', 'GONE-USDT')], entries)).toEqual(ref('binance', 'BTCUSDT'));
    expect(initialInstrument(none, [ref('binance', 'BTCUSDT')], [])).toBeNull();
  });

  it('keeps to the exchange or symbol the URL does name, where one is listed', () => {
    expect(initialInstrument({ exchange: 'bybit', symbol: '' }, [ref('binance', 'ETHUSDT')], entries)).toEqual(
      ref('bybit', 'BTCUSDT'),
    );
    expect(
      initialInstrument(
        { exchange: 'bybit', symbol: '' },
        [ref('binance', 'ETHUSDT'), ref('bybit', 'ETHUSDT')],
        entries,
      ),
    ).toEqual(ref('bybit', 'ETHUSDT'));
    expect(initialInstrument({ exchange: '', symbol: 'ETH-USDT' }, [], entries)).toEqual(ref('merged', 'ETH-USDT'));
    expect(initialInstrument({ exchange: 'nyse', symbol: '' }, [], entries)).toEqual(ref('binance', 'BTCUSDT'));
  });
});
