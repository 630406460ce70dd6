/**
 * FootprintStore's checks and encodings, without a server: everything it refuses is refused
 * before a single request is made (the client here throws on any call).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { GapEvent } from '@orderflow/contracts';
import { type CandleData, FootprintCandle } from '@orderflow/footprint';
import { describe, expect, it } from 'vitest';
import { FootprintStore, type IngestedTrade, MAX_GAP_MINUTES, gapMinutes } from './footprint.store.js';
import { parseTsv, tsvEscape, tsvInt, tsvUnescape } from './tsv.js';

const noServer = new Proxy(
  {},
  { get: () => () => Promise.reject(new Error('no request may be sent')) },
) as unknown as ClickHouseClient;
const store = new FootprintStore(noServer, 'orderflow');

const T0 = 1_750_507_440_000; // 2025-06-21 12:04:00 UTC, a minute start
const trade: IngestedTrade = {
  exchange: 'binance',
  symbol: 'LTCUSDT',
  id: '293517768',
  price: 8329,
  quantity: 107,
  side: 'buy',
  exchangeTimeUs: (T0 + 27_356) * 1000,
  receiveTimeMs: T0 + 27_400,
  ingestSeq: 65_536,
};

function minute(rows: [number, number, 'buy' | 'sell'][], openTime = T0): CandleData {
  const c = new FootprintCandle('1m', openTime);
  rows.forEach(([p, q, s], i) => c.add(p, q, s, openTime * 1000 + i));
  return c.toData();
}

describe('FootprintStore input checks (nothing is sent)', () => {
  it('refuses a database name that is not an identifier', () => {
    expect(() => new FootprintStore(noServer, 'of; DROP TABLE x')).toThrow(/database "of; DROP TABLE x" must match/);
  });

  it('refuses exchange and symbol that are not tokens, and bad trades, naming the field', async () => {
    await expect(store.insertTrades([{ ...trade, symbol: "LTC'USDT" }])).rejects.toThrow(
      /symbol "LTC'USDT" must be 1-64 characters/,
    );
    await expect(store.insertTrades([{ ...trade, exchange: 'bin ance' }])).rejects.toThrow(/exchange "bin ance"/);
    await expect(store.insertTrades([{ ...trade, price: 0 }])).rejects.toThrow(/price must be a positive integer/);
    await expect(store.insertTrades([{ ...trade, quantity: 1.5 }])).rejects.toThrow(
      /quantity must be a positive integer/,
    );
    await expect(store.insertTrades([{ ...trade, ingestSeq: 2 ** 53 }])).rejects.toThrow(
      /ingestSeq of trade 293517768 must be an integer in 0\.\.9007199254740991/,
    );
    await expect(store.insertTrades([{ ...trade, receiveTimeMs: -1 }])).rejects.toThrow(/receive time/);
    await expect(store.insertTrades([{ ...trade, id: 'x'.repeat(257) }])).rejects.toThrow(
      /trade id of binance LTCUSDT must be a string of 1-256 characters/,
    );
    await expect(store.loadTrades('binance', 'LTC USDT', 0, 1)).rejects.toThrow(/symbol "LTC USDT"/);
    await expect(store.loadTrades('binance', 'LTCUSDT', 0.5, 1)).rejects.toThrow(/fromUs must be an integer/);
    await expect(store.loadMinutes('binance', 'LTCUSDT', 0, Number.MAX_SAFE_INTEGER + 2)).rejects.toThrow(
      /toMs must be an integer/,
    );
  });

  it('answers an empty range or an empty batch without a request', async () => {
    await expect(store.loadTrades('binance', 'LTCUSDT', 5, 5)).resolves.toEqual([]);
    await expect(store.loadMinutes('binance', 'LTCUSDT', T0, T0)).resolves.toEqual([]);
    await expect(store.insertTrades([])).resolves.toBeUndefined();
    await expect(store.insertMinutes('binance', 'LTCUSDT', [])).resolves.toBeUndefined();
    await expect(store.insertGaps([])).resolves.toBeUndefined();
    await expect(store.upsertInstruments([])).resolves.toBeUndefined();
  });

  it('takes only complete 1m candles at native ticks, consistent with their levels', async () => {
    const ok = minute([
      [8329, 107, 'buy'],
      [8328, 229, 'sell'],
    ]);
    const bad = async (c: CandleData, msg: RegExp) =>
      expect(store.insertMinutes('binance', 'LTCUSDT', [c])).rejects.toThrow(msg);
    await bad({ ...ok, timeframe: '5m' }, /footprint_1m takes 1m candles, got 5m/);
    await bad({ ...ok, step: 5, onGrid: false }, /native-tick levels \(step 1, mode 'nearest', onGrid\)/);
    await bad({ ...ok, onGrid: false }, /native-tick levels/);
    await bad({ ...ok, mode: 'down' }, /native-tick levels/);
    await bad({ ...ok, openTime: T0 + 1000 }, /openTime 1750507441000 is not the start of a minute/);
    await bad(
      { ...ok, buyVolume: 106, delta: 106 - 229, maxDelta: 106, minDelta: 106 - 229 },
      /its levels add up to buy 107 \(1 trades\), sell 229 \(1 trades\), the candle says 106/,
    );
    await bad({ ...ok, high: 8330 }, /open\/high\/low\/close \(8329\/8330\/8328\/8328\) are not its levels' prices/);
    await bad({ ...ok, levels: [...ok.levels].reverse() }, /levels must be ascending by price without repeats/);
    await bad({ ...ok, delta: 0 }, /delta 0 is not buyVolume - sellVolume/);
    await bad({ ...ok, lastTimeUs: (T0 + 60_000) * 1000 }, /lastTimeUs must be an integer in/);
    await bad(
      { ...ok, levels: ok.levels.map((l) => ({ ...l, buyTrades: l.buyVolume > 0 ? 0 : 1 })) },
      /volume without trades|add up/,
    );
    const empty = new FootprintCandle('1m', T0).toData();
    await bad(empty, /empty candle|no levels|must be an integer in 1\.\./);
    await expect(store.insertMinutes('binance', 'LTC/USDT', [ok])).rejects.toThrow(/symbol "LTC\/USDT"/);
  });

  it('refuses a minute whose notional reaches 2^64 (candles_1m.notional is UInt64), computing it exactly', async () => {
    // price * quantity = (2^53 - 1) * 2049 = 18,455,751,272,964,290,559 >= 2^64 = 18,446,744,073,709,551,616
    const big = minute([[Number.MAX_SAFE_INTEGER, 2049, 'buy']]);
    await expect(store.insertMinutes('binance', 'LTCUSDT', [big])).rejects.toThrow(
      /notional 18455751272964290559 \(price units \* quantity units\) does not fit candles_1m.notional \(UInt64, < 2\^64\)/,
    );
    // 2048 units give 18,446,744,073,709,549,568 < 2^64: accepted, so it reaches the (absent) server
    await expect(
      store.insertMinutes('binance', 'LTCUSDT', [minute([[Number.MAX_SAFE_INTEGER, 2048, 'buy']])]),
    ).rejects.toThrow(/no request may be sent/);
  });

  it('checks gap events', async () => {
    const g: GapEvent = {
      exchange: 'binance',
      symbol: 'LTCUSDT',
      fromId: '10',
      toId: '12',
      missing: 3,
      detectedAtMs: T0,
      status: 'unfilled',
      reason: 'REST gave up',
    };
    await expect(store.insertGaps([{ ...g, status: 'lost' as GapEvent['status'] }])).rejects.toThrow(
      /status of gap "10".."12" of binance LTCUSDT must be one of detected, filled, unfilled/,
    );
    await expect(store.insertGaps([{ ...g, fromTimeUs: T0 * 1000 + 5, toTimeUs: T0 * 1000 }])).rejects.toThrow(
      /fromTimeUs 1750507440000005 is after toTimeUs/,
    );
    await expect(store.insertGaps([{ ...g, fromTimeUs: 5, toTimeUs: T0 * 1000 }])).rejects.toThrow(/fromTimeUs of gap/);
    await expect(store.insertGaps([{ ...g, fromId: '' }])).rejects.toThrow(/fromId of gap/);
    await expect(store.insertGaps([{ ...g, missing: -1 }])).rejects.toThrow(/missing of gap/);
  });

  it('checks instruments: scales 0..15, tick >= 1, one row per instrument', async () => {
    const r = { exchange: 'binance', symbol: 'LTCUSDT', priceScale: 2, quantityScale: 3, tick: 1 };
    await expect(store.upsertInstruments([{ ...r, priceScale: 16 }])).rejects.toThrow(
      /priceScale of instrument binance LTCUSDT must be an integer in 0\.\.15/,
    );
    await expect(store.upsertInstruments([{ ...r, tick: 0 }])).rejects.toThrow(/tick of instrument/);
    await expect(store.upsertInstruments([r, { ...r, tick: 5 }])).rejects.toThrow(/appears twice/);
  });
});

describe('gap minutes', () => {
  const M = 60_000_000;
  const base = 29_175_124 * M; // a minute start (2025-06-22 18:04 UTC)
  it('are the minutes a closed range touches', () => {
    expect(gapMinutes(base, base)).toEqual([29_175_124]);
    expect(gapMinutes(base - 1, base)).toEqual([29_175_123, 29_175_124]);
    expect(gapMinutes(base + 59_999_999, base + M + 1)).toEqual([29_175_124, 29_175_125]);
  });
  it('are capped at MAX_GAP_MINUTES: the first and last halves of a longer range', () => {
    expect(gapMinutes(base, base + (MAX_GAP_MINUTES - 1) * M)).toHaveLength(MAX_GAP_MINUTES);
    const long = gapMinutes(base, base + 100_000 * M);
    expect(long).toHaveLength(MAX_GAP_MINUTES);
    expect(long.slice(0, 2)).toEqual([29_175_124, 29_175_125]);
    expect(long[MAX_GAP_MINUTES / 2 - 1]).toBe(29_175_124 + MAX_GAP_MINUTES / 2 - 1);
    expect(long[MAX_GAP_MINUTES / 2]).toBe(29_175_124 + 100_000 - MAX_GAP_MINUTES / 2 + 1);
    expect(long.at(-1)).toBe(29_175_124 + 100_000);
  });
});

describe('TabSeparated text', () => {
  it('escapes what would end a field or a row, and reads ClickHouse escapes back', () => {
    expect(tsvEscape('plain-123')).toBe('plain-123');
    expect(tsvEscape('a\tb\nc\\d\re\0f')).toBe('a\\tb\\nc\\\\d\\re\\0f');
    for (const s of ['a\tb\nc\\d\re\0f', "it's", 'ümlaut 🚀', '\\t literally', ''])
      expect(tsvUnescape(tsvEscape(s))).toBe(s);
    expect(tsvUnescape("it\\'s \\x41\\b")).toBe("it's A\b");
    expect(parseTsv('a\t1\nb\t2\n')).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(parseTsv('')).toEqual([]);
  });
  it('reads integers only when they are exact as JS numbers', () => {
    expect(tsvInt('9007199254740991', 'x')).toBe(Number.MAX_SAFE_INTEGER);
    expect(tsvInt('-42', 'x')).toBe(-42);
    expect(() => tsvInt('9007199254740993', 'volume')).toThrow(/volume: 9007199254740993 is beyond 2\^53 - 1/);
    expect(() => tsvInt('1.5', 'price')).toThrow(/price: expected an integer/);
    expect(() => tsvInt(undefined, 'price')).toThrow(/expected an integer/);
  });
});
