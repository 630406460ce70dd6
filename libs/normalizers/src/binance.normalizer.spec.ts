import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatFixed, formatFixedTrimmed, instrumentFromSteps, type Instrument } from '@orderflow/footprint';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BinanceAggTrade,
  normalizeBinanceAggTrade,
  normalizeBinanceRestAggTrades,
  parseBinanceExchangeInfo,
} from './binance.normalizer.js';
import { NormalizeError } from './normalize.error.js';

const instruments = new Map<string, Instrument>([
  ['BTCUSDT', instrumentFromSteps('binance', 'BTCUSDT', '0.01', '0.00001')],
  ['BNBBTC', instrumentFromSteps('binance', 'BNBBTC', '0.000001', '0.001')],
]);
const spot = { exchange: 'binance' as const, instruments };
const RECV = 1_735_689_600_123;

// The example payload of Binance's spot documentation (aggregate trade streams).
const DOC_EXAMPLE =
  '{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true}';

function frame(
  fields: Partial<Record<'E' | 'a' | 'p' | 'q' | 'f' | 'l' | 'T' | 'm', unknown>> = {},
  symbol = 'BTCUSDT',
): string {
  const f = {
    E: 1735689600100,
    a: 3358000001,
    p: '93512.34000000',
    q: '0.01234000',
    f: 4400000001,
    l: 4400000003,
    T: 1735689600099,
    m: false,
    ...fields,
  };
  return `{"e":"aggTrade","E":${f.E},"s":"${symbol}","a":${f.a},"p":${JSON.stringify(f.p)},"q":${JSON.stringify(f.q)},"f":${f.f},"l":${f.l},"T":${f.T},"m":${f.m},"M":true}`;
}

describe('Binance aggTrade normaliser', () => {
  it('reads the documented example: m = true means the SELLER was the aggressor', () => {
    const t = normalizeBinanceAggTrade(DOC_EXAMPLE, spot, RECV) as BinanceAggTrade;
    expect(t).toEqual({
      exchange: 'binance',
      symbol: 'BNBBTC',
      id: '12345',
      price: 1000, // 0.001 at 6 decimals
      quantity: 100_000, // 100 at 3 decimals
      side: 'sell',
      exchangeTimeUs: 1_672_515_782_136_000,
      receiveTimeMs: RECV,
      firstTradeId: '100',
      lastTradeId: '105',
    });
  });

  it('m = false is an aggressive buy; combined-stream frames are unwrapped', () => {
    const t = normalizeBinanceAggTrade(
      `{"stream":"btcusdt@aggTrade","data":${frame()}}`,
      spot,
      RECV,
    ) as BinanceAggTrade;
    expect(t).toMatchObject({
      side: 'buy',
      price: 9_351_234,
      quantity: 1234,
      id: '3358000001',
      exchangeTimeUs: 1_735_689_600_099_000,
    });
    expect(formatFixed(t.price, 2)).toBe('93512.34');
  });

  it('takes microsecond timestamps when the stream was opened with timeUnit=MICROSECOND', () => {
    const t = normalizeBinanceAggTrade(
      frame({ T: 1735689600099123 }),
      { ...spot, timeUnit: 'us' },
      RECV,
    ) as BinanceAggTrade;
    expect(t.exchangeTimeUs).toBe(1_735_689_600_099_123);
  });

  it('reads futures frames (no "M" field) and frames with other key orders or whitespace the same way', () => {
    const futures = frame().replace(',"M":true', '');
    const reordered = JSON.stringify({
      s: 'BTCUSDT',
      e: 'aggTrade',
      m: false,
      p: '93512.34000000',
      q: '0.01234000',
      a: 3358000001,
      f: 4400000001,
      l: 4400000003,
      T: 1735689600099,
      E: 1,
    });
    const spaced = JSON.stringify(JSON.parse(frame()), null, 2);
    const want = normalizeBinanceAggTrade(frame(), spot, RECV);
    for (const text of [futures, reordered, spaced]) expect(normalizeBinanceAggTrade(text, spot, RECV)).toEqual(want);
  });

  it('passes subscription replies through as control frames', () => {
    expect(normalizeBinanceAggTrade('{"result":null,"id":1}', spot, RECV)).toEqual({
      control: true,
      payload: { result: null, id: 1 },
    });
  });

  it.each([
    ['{"e":"aggTrade"', 'MALFORMED_JSON', /not JSON/],
    ['[1,2]', 'UNEXPECTED_SHAPE', /not a JSON object/],
    ['{"e":"trade","s":"BTCUSDT"}', 'UNEXPECTED_SHAPE', /"trade" is not aggTrade/],
    ['{"stream":"x","data":5}', 'UNEXPECTED_SHAPE', /combined-stream/],
    [frame({}, 'DOGEUSDT'), 'UNKNOWN_SYMBOL', /DOGEUSDT is not configured/],
    [frame({ p: '-1.00' }), 'INVALID_FIELD', /p: .*not a plain non-negative decimal/],
    [frame({ p: '0.00' }), 'INVALID_FIELD', /price must be a positive integer/],
    [frame({ q: '0.000000001' }), 'INVALID_FIELD', /q: .*more than 5 significant decimals/],
    [frame({ p: 93512.34 }), 'INVALID_FIELD', /p \(price\) must be a decimal string/],
    [frame({ m: '"yes"' }), 'INVALID_FIELD', /m \(buyer is maker\) must be a boolean/],
    [frame({ a: -5 }), 'INVALID_FIELD', /a must be a non-negative integer id/],
    [frame({ a: 1.5 }), 'INVALID_FIELD', /a must be a non-negative integer id/],
    [frame({ a: '"12"' }), 'INVALID_FIELD', /a must be a non-negative integer id/],
    [frame({ T: 5 }), 'INVALID_FIELD', /exchange time/],
    [frame({ T: '01' }), 'MALFORMED_JSON', /not JSON/], // leading zero: the fast path must not accept it either
  ])('rejects %s with %s', (text, code, reason) => {
    let err: unknown;
    try {
      normalizeBinanceAggTrade(text, spot, RECV);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NormalizeError);
    expect((err as NormalizeError).code).toBe(code);
    expect((err as NormalizeError).reason).toMatch(reason);
  });

  it('fast path and JSON.parse path agree on every canonical frame', () => {
    fc.assert(
      fc.property(
        fc.record({
          a: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          p: fc.integer({ min: 1, max: 10 ** 12 }),
          q: fc.integer({ min: 1, max: 10 ** 12 }),
          T: fc.integer({ min: 1_300_000_000_000, max: 4_000_000_000_000 }),
          m: fc.boolean(),
        }),
        (r) => {
          const text = frame({ a: r.a, p: formatFixed(r.p, 2), q: formatFixed(r.q, 5), T: r.T, m: r.m });
          const fast = normalizeBinanceAggTrade(text, spot, RECV);
          const slow = normalizeBinanceAggTrade(` ${text}`, spot, RECV); // a leading space forces JSON.parse
          expect(fast).toEqual(slow);
          expect(fast).toMatchObject({ price: r.p, quantity: r.q, side: r.m ? 'sell' : 'buy', id: String(r.a) });
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('never throws anything but NormalizeError on hostile text', () => {
    const base = frame();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: base.length }),
        fc.integer({ min: 0, max: 20 }),
        fc.string({ maxLength: 20 }),
        (at, cut, junk) => {
          const text = base.slice(0, at) + junk + base.slice(at + cut);
          try {
            const r = normalizeBinanceAggTrade(text, spot, RECV);
            if (!('control' in r)) expect(r.quantity).toBeGreaterThan(0);
          } catch (e) {
            expect(e).toBeInstanceOf(NormalizeError);
          }
        },
      ),
      { numRuns: 20_000 },
    );
  });
});

// Real recorded trades (Binance public-data archive, spot aggTrades), served as aggTrade frames.
// The recordings live beside the repository on our machines only.
const ARCHIVE = fileURLToPath(
  new URL('../../../../shared/data/BTCUSDT-aggTrades-2026-01-01_first5000.csv', import.meta.url),
);
const haveArchive = existsSync(ARCHIVE);

describe(
  'recorded Binance archive (5,000 real aggTrades)',
  {
    skip: !haveArchive,
    meta: { skipReason: `${ARCHIVE} is missing (the recordings exist only on the project's machines)` },
  },
  () => {
    it('normalises every row to the decimal it came from, with the aggressor from isBuyerMaker', () => {
      const rows = readFileSync(ARCHIVE, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(','));
      expect(rows.length).toBe(5000);
      let sells = 0;
      for (const [a, p, q, f, l, tsUs, isBuyerMaker] of rows) {
        const text = `{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":${tsUs},"s":"BTCUSDT","a":${a},"p":"${p}","q":"${q}","f":${f},"l":${l},"T":${tsUs},"m":${isBuyerMaker === 'True' || isBuyerMaker === 'true'},"M":true}}`;
        const t = normalizeBinanceAggTrade(text, { ...spot, timeUnit: 'us' }, RECV) as BinanceAggTrade;
        // the exact decimal back, compared as text (trailing zeros trimmed on both sides)
        expect(formatFixedTrimmed(t.price, 2)).toBe(trimZeros(p!));
        expect(formatFixedTrimmed(t.quantity, 5)).toBe(trimZeros(q!));
        expect(t.side).toBe(isBuyerMaker!.toLowerCase() === 'true' ? 'sell' : 'buy');
        if (t.side === 'sell') sells++;
      }
      expect(sells).toBeGreaterThan(0);
      expect(sells).toBeLessThan(5000);
    });
  },
);

function trimZeros(decimal: string): string {
  return decimal.includes('.') ? decimal.replace(/0+$/, '').replace(/\.$/, '') : decimal;
}

describe('Binance REST aggTrades', () => {
  it('reads the documented response in order, with the same side rule', () => {
    const body =
      '[{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":true,"M":true},{"a":26130,"p":"0.01633103","q":"1","f":27782,"l":27783,"T":1498793709154,"m":false,"M":true}]';
    const ins = new Map([['ETHBTC', instrumentFromSteps('binance', 'ETHBTC', '0.00000001', '0.00000001')]]);
    const trades = normalizeBinanceRestAggTrades(body, 'ETHBTC', { exchange: 'binance', instruments: ins }, RECV);
    expect(trades.map((t) => [t.id, t.price, t.quantity, t.side, t.firstTradeId, t.lastTradeId])).toEqual([
      ['26129', 1_633_102, 470_443_515, 'sell', '27781', '27781'],
      ['26130', 1_633_103, 100_000_000, 'buy', '27782', '27783'],
    ]);
  });

  it('names the exchange error when the response is one', () => {
    expect(() =>
      normalizeBinanceRestAggTrades('{"code":-1121,"msg":"Invalid symbol."}', 'BTCUSDT', spot, RECV),
    ).toThrow(/not an array: Invalid symbol/);
    expect(() => normalizeBinanceRestAggTrades('[{"a":1}]', 'BTCUSDT', spot, RECV)).toThrow(NormalizeError);
  });
});

describe('Binance exchangeInfo', () => {
  const info = JSON.stringify({
    symbols: [
      {
        symbol: 'BTCUSDT',
        filters: [
          { filterType: 'PRICE_FILTER', tickSize: '0.01000000' },
          { filterType: 'LOT_SIZE', stepSize: '0.00001000' },
        ],
      },
      {
        symbol: 'ETHUSDT',
        filters: [
          { filterType: 'PRICE_FILTER', tickSize: '0.01000000' },
          { filterType: 'LOT_SIZE', stepSize: '0.00010000' },
        ],
      },
    ],
  });
  it('takes tick size and quantity step from the filters', () => {
    const m = parseBinanceExchangeInfo(info, 'binance', ['BTCUSDT']);
    expect([...m.values()]).toEqual([
      { exchange: 'binance', symbol: 'BTCUSDT', priceScale: 2, quantityScale: 5, tick: 1 },
    ]);
  });
  it('names symbols the exchange does not list', () => {
    expect(() => parseBinanceExchangeInfo(info, 'binance', ['BTCUSDT', 'NOPEUSDT'])).toThrow(
      /binance does not list NOPEUSDT/,
    );
  });
});
