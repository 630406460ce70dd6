import { formatFixed, instrumentFromSteps, type Instrument, type Trade } from '@orderflow/footprint';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NormalizeError } from './normalize.error.js';
import { normalizeOkxHistoryTrades, normalizeOkxTrades } from './okx.normalizer.js';

// Steps as OKX's public/instruments lists them: tickSz and lotSz (for SWAP, lotSz counts contracts).
const instruments = new Map<string, Instrument>([
  ['BTC-USDT', instrumentFromSteps('okx', 'BTC-USDT', '0.1', '0.00000001')],
  ['ETH-USDT', instrumentFromSteps('okx', 'ETH-USDT', '0.01', '0.000001')],
  ['BTC-USDT-SWAP', instrumentFromSteps('okx', 'BTC-USDT-SWAP', '0.1', '0.01')],
]);
const okx = { exchange: 'okx', instruments };
const RECV = 1_735_689_600_123;

// The push example of OKX's v5 "Trades channel" documentation.
const DOC_EXAMPLE =
  '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"130639474","px":"42219.9","sz":"0.12060306","side":"buy","ts":"1630048897897","count":"3","source":"0","seqId":1234}]}';

// The response example of OKX's v5 "GET / Trades history" documentation.
const REST_DOC_EXAMPLE =
  '{"code":"0","msg":"","data":[{"instId":"BTC-USDT","side":"sell","sz":"0.00001","px":"29963.2","source":"0","tradeId":"242720720","ts":"1654161646974"}]}';

type Fields = Partial<
  Record<'instId' | 'tradeId' | 'px' | 'sz' | 'side' | 'ts' | 'count' | 'source' | 'seqId', unknown>
>;

/** One trade object; a field set to undefined is left out. */
function item(fields: Fields = {}): Record<string, unknown> {
  return {
    instId: 'BTC-USDT',
    tradeId: '611246531',
    px: '93512.3',
    sz: '0.01234',
    side: 'buy',
    ts: '1735689600099',
    count: '1',
    source: '0',
    seqId: 1,
    ...fields,
  };
}

function frame(items: Record<string, unknown>[] = [item()], channel = 'trades', instId = 'BTC-USDT'): string {
  return JSON.stringify({ arg: { channel, instId }, data: items });
}

function rejection(run: () => unknown): NormalizeError {
  let err: unknown;
  try {
    run();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(NormalizeError);
  return err as NormalizeError;
}

describe('OKX trades normaliser', () => {
  it('reads the documented example: "42219.9" at price scale 1 is 422199 units, "0.12060306" at scale 8 is 12060306', () => {
    expect(normalizeOkxTrades(DOC_EXAMPLE, okx, RECV)).toEqual([
      {
        exchange: 'okx',
        symbol: 'BTC-USDT',
        id: '130639474',
        price: 422_199,
        quantity: 12_060_306,
        side: 'buy',
        exchangeTimeUs: 1_630_048_897_897_000,
        receiveTimeMs: RECV,
      },
    ]);
  });

  it('side is the taker side: "sell" means an aggressive seller', () => {
    const [t] = normalizeOkxTrades(frame([item({ side: 'sell' })]), okx, RECV) as Trade[];
    expect(t).toMatchObject({
      side: 'sell',
      price: 935_123,
      quantity: 1_234_000,
      id: '611246531',
      exchangeTimeUs: 1_735_689_600_099_000,
    });
    expect(formatFixed(t!.price, 1)).toBe('93512.3');
    expect(formatFixed(t!.quantity, 8)).toBe('0.01234000');
  });

  it('keeps SWAP sizes as contracts: "12.34" contracts at lot scale 2 is 1234 units', () => {
    const text = frame([item({ instId: 'BTC-USDT-SWAP', sz: '12.34', px: '93510.0' })], 'trades', 'BTC-USDT-SWAP');
    const [t] = normalizeOkxTrades(text, { exchange: 'okx-swap', instruments }, RECV) as Trade[];
    expect(t).toMatchObject({
      exchange: 'okx-swap',
      symbol: 'BTC-USDT-SWAP',
      quantity: 1234,
      price: 935_100,
    });
  });

  it('keeps the order of a multi-trade frame', () => {
    const text = frame([
      item({
        tradeId: '101',
        side: 'sell',
        px: '93512.3',
        sz: '0.5',
        ts: '1735689600001',
      }),
      item({
        tradeId: '102',
        side: 'buy',
        px: '93512.4',
        sz: '0.00000001',
        ts: '1735689600001',
      }),
      item({
        tradeId: '105',
        side: 'sell',
        px: '93512',
        sz: '2',
        ts: '1735689600002',
        count: '3',
      }),
    ]);
    const trades = normalizeOkxTrades(text, okx, RECV) as Trade[];
    expect(trades.map((t) => [t.id, t.side, t.price, t.quantity, t.exchangeTimeUs])).toEqual([
      ['101', 'sell', 935_123, 50_000_000, 1_735_689_600_001_000],
      ['102', 'buy', 935_124, 1, 1_735_689_600_001_000],
      ['105', 'sell', 935_120, 200_000_000, 1_735_689_600_002_000],
    ]);
  });

  it('reads trades-all frames (no count or seqId) the same way', () => {
    const all = frame([item({ count: undefined, seqId: undefined })], 'trades-all');
    expect(normalizeOkxTrades(all, okx, RECV)).toEqual(normalizeOkxTrades(frame(), okx, RECV));
  });

  it('ignores unknown fields, key order and whitespace', () => {
    const want = normalizeOkxTrades(frame(), okx, RECV);
    const extra = frame([{ ...item(), newField: { a: [1, 2] }, source: '1' }]);
    const reordered = JSON.stringify({
      data: [item()],
      arg: { instId: 'BTC-USDT', channel: 'trades' },
    });
    const spaced = JSON.stringify(JSON.parse(frame()), null, 2);
    for (const text of [extra, reordered, spaced]) expect(normalizeOkxTrades(text, okx, RECV)).toEqual(want);
  });

  it('a frame with no trades gives none', () => {
    expect(normalizeOkxTrades(frame([]), okx, RECV)).toEqual([]);
  });

  it('passes the text pong through as a control frame', () => {
    expect(normalizeOkxTrades('pong', okx, RECV)).toEqual({
      control: true,
      payload: 'pong',
    });
  });

  it.each([
    ['subscription reply', '{"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT"},"connId":"accb8e21"}'],
    [
      'error',
      '{"event":"error","code":"60012","msg":"Invalid request: {\\"op\\": \\"subscribe\\", \\"argss\\":[{ \\"channel\\" : \\"trades\\", \\"instId\\" : \\"BTC-USDT\\"}]}","connId":"a4d3ae55"}',
    ],
    [
      'notice',
      '{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a4d3ae55"}',
    ],
  ])('passes a %s event through as a control frame', (_name, text) => {
    expect(normalizeOkxTrades(text, okx, RECV)).toEqual({
      control: true,
      payload: JSON.parse(text),
    });
  });

  it.each([
    ['{"arg":{"channel":"trades"', 'MALFORMED_JSON', /not JSON/],
    ['ping', 'MALFORMED_JSON', /not JSON/],
    ['', 'MALFORMED_JSON', /not JSON/],
    ['[]', 'UNEXPECTED_SHAPE', /not a JSON object/],
    ['"pong"', 'UNEXPECTED_SHAPE', /not a JSON object/],
    ['{"data":[]}', 'UNEXPECTED_SHAPE', /neither "event" nor an "arg" object/],
    [frame([], 'books5'), 'UNEXPECTED_SHAPE', /channel "books5" is not trades or trades-all/],
    ['{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":{}}', 'UNEXPECTED_SHAPE', /needs a "data" array/],
    [frame([item(), 'x' as unknown as Record<string, unknown>]), 'UNEXPECTED_SHAPE', /data\[1\] is not an object/],
    [frame([item({ instId: 'DOGE-USDT' })]), 'UNKNOWN_SYMBOL', /instId DOGE-USDT is not configured for okx/],
    [frame([item({ instId: undefined })]), 'INVALID_FIELD', /data\[0\]\.instId must be a string/],
    [frame([item(), item({ px: '-93512.3' })]), 'INVALID_FIELD', /data\[1\]\.px: .*not a plain non-negative decimal/],
    [frame([item({ px: '9.35e4' })]), 'INVALID_FIELD', /data\[0\]\.px: .*not a plain non-negative decimal/],
    [frame([item({ px: ' 1' })]), 'INVALID_FIELD', /data\[0\]\.px: .*not a plain non-negative decimal/],
    [frame([item({ px: '93512.34' })]), 'INVALID_FIELD', /data\[0\]\.px: .*more than 1 significant decimals/],
    [frame([item({ sz: '0.000000001' })]), 'INVALID_FIELD', /data\[0\]\.sz: .*more than 8 significant decimals/],
    [frame([item({ px: 93512.3 })]), 'INVALID_FIELD', /data\[0\]\.px \(price\) must be a decimal string/],
    [frame([item({ sz: null })]), 'INVALID_FIELD', /data\[0\]\.sz \(size\) must be a decimal string/],
    [frame([item({ px: '0' })]), 'INVALID_FIELD', /data\[0\]: price must be a positive integer/],
    [frame([item({ sz: '0.00000000' })]), 'INVALID_FIELD', /data\[0\]: quantity must be a positive integer/],
    [
      frame([item({ tradeId: undefined })]),
      'INVALID_FIELD',
      /data\[0\]\.tradeId must be a string of 1 to \d+ decimal digits/,
    ],
    [frame([item({ tradeId: '' })]), 'INVALID_FIELD', /data\[0\]\.tradeId must be a string of 1 to \d+ decimal digits/],
    [
      frame([item({ tradeId: 611246531 })]),
      'INVALID_FIELD',
      /data\[0\]\.tradeId must be a string of 1 to \d+ decimal digits/,
    ],
    [
      frame([item({ side: 'Buy' })]),
      'INVALID_FIELD',
      /data\[0\]\.side \(taker side\) must be "buy" or "sell", got "Buy"/,
    ],
    [frame([item({ side: undefined })]), 'INVALID_FIELD', /data\[0\]\.side \(taker side\)/],
    [
      frame([item({ ts: 1735689600099 })]),
      'INVALID_FIELD',
      /data\[0\]\.ts \(trade time\) must be a string of millisecond digits/,
    ],
    [frame([item({ ts: '' })]), 'INVALID_FIELD', /data\[0\]\.ts \(trade time\) must be a string of millisecond digits/],
    [
      frame([item({ ts: '1735689600099.5' })]),
      'INVALID_FIELD',
      /data\[0\]\.ts \(trade time\) must be a string of millisecond digits, got "1735689600099.5"/,
    ],
    [frame([item({ ts: '-1735689600099' })]), 'INVALID_FIELD', /data\[0\]\.ts \(trade time\)/],
    [frame([item({ ts: '1234567890123456' })]), 'INVALID_FIELD', /data\[0\]\.ts \(trade time\)/],
    [frame([item({ ts: '1735689600099000' })]), 'INVALID_FIELD', /data\[0\]\.ts \(trade time\)/], // µs sent as ms
    [frame([item({ ts: '5' })]), 'INVALID_FIELD', /exchange time must be integer microseconds between 2009 and 2100/],
    [
      frame([item({ ts: '999999999999999' })]),
      'INVALID_FIELD',
      /exchange time must be integer microseconds between 2009 and 2100/,
    ],
  ])('rejects %s with %s', (text, code, reason) => {
    const err = rejection(() => normalizeOkxTrades(text, okx, RECV));
    expect(err.code).toBe(code);
    expect(err.reason).toMatch(reason);
  });

  it('reads every generated frame back to the decimals and sides it was built from', () => {
    const gen = fc.array(
      fc.record({
        px: fc.integer({ min: 1, max: 10 ** 12 }),
        sz: fc.integer({ min: 1, max: 10 ** 14 }),
        ts: fc.integer({ min: 1_300_000_000_000, max: 4_000_000_000_000 }),
        sell: fc.boolean(),
        id: fc.bigInt({ min: 1n, max: 2n ** 63n }),
      }),
      { minLength: 1, maxLength: 20 },
    );
    fc.assert(
      fc.property(gen, (rows) => {
        const text = frame(
          rows.map((r) =>
            item({
              px: formatFixed(r.px, 1),
              sz: formatFixed(r.sz, 8),
              ts: String(r.ts),
              side: r.sell ? 'sell' : 'buy',
              tradeId: String(r.id),
            }),
          ),
        );
        const trades = normalizeOkxTrades(text, okx, RECV) as Trade[];
        expect(trades.map((t) => [t.id, t.price, t.quantity, t.side, t.exchangeTimeUs])).toEqual(
          rows.map((r) => [String(r.id), r.px, r.sz, r.sell ? 'sell' : 'buy', r.ts * 1000]),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but NormalizeError on hostile text, and never yields a non-positive trade', () => {
    const base = frame([item({ tradeId: '1', side: 'sell' }), item({ tradeId: '2', px: '93512.4', sz: '1.5' })]);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: base.length }),
        fc.integer({ min: 0, max: 20 }),
        fc.string({ maxLength: 20 }),
        (at, cut, junk) => {
          const text = base.slice(0, at) + junk + base.slice(at + cut);
          assertOnlyNormalizeErrors(() => normalizeOkxTrades(text, okx, RECV));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('never throws anything but NormalizeError when any field of a parsed frame holds any JSON value', () => {
    const keys = ['instId', 'tradeId', 'px', 'sz', 'side', 'ts', 'count', 'arg', 'data', 'event', 'channel'];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom(...keys),
        fc.option(fc.jsonValue(), { nil: undefined }),
        (at, key, value) => {
          const root = JSON.parse(frame([item({ tradeId: '1' }), item({ tradeId: '2', side: 'sell' })])) as {
            arg: Record<string, unknown>;
            data: Record<string, unknown>[];
          } & Record<string, unknown>;
          const target = at === 2 ? root : at === 3 ? root.arg : root.data[at]!;
          target[key] = value;
          assertOnlyNormalizeErrors(() => normalizeOkxTrades(JSON.stringify(root), okx, RECV));
        },
      ),
      { numRuns: 20_000 },
    );
  });
});

describe('OKX trades / history-trades REST normaliser', () => {
  it('reads the documented example', () => {
    expect(normalizeOkxHistoryTrades(REST_DOC_EXAMPLE, okx, RECV)).toEqual([
      {
        exchange: 'okx',
        symbol: 'BTC-USDT',
        id: '242720720',
        price: 299_632, // 29963.2 at 1 decimal
        quantity: 1000, // 0.00001 at 8 decimals
        side: 'sell',
        exchangeTimeUs: 1_654_161_646_974_000,
        receiveTimeMs: RECV,
      },
    ]);
  });

  it('turns the newest-first list into oldest first', () => {
    const body = JSON.stringify({
      code: '0',
      msg: '',
      data: [
        item({
          tradeId: '303',
          side: 'buy',
          px: '3.03',
          ts: '1735689600003',
          instId: 'ETH-USDT',
        }),
        item({
          tradeId: '302',
          side: 'sell',
          px: '3.02',
          ts: '1735689600002',
          instId: 'ETH-USDT',
        }),
        item({
          tradeId: '301',
          side: 'buy',
          px: '3.01',
          ts: '1735689600001',
          instId: 'ETH-USDT',
        }),
      ],
    });
    const trades = normalizeOkxHistoryTrades(body, okx, RECV);
    expect(trades.map((t) => [t.id, t.side, t.price, t.quantity, t.exchangeTimeUs])).toEqual([
      ['301', 'buy', 301, 12_340, 1_735_689_600_001_000],
      ['302', 'sell', 302, 12_340, 1_735_689_600_002_000],
      ['303', 'buy', 303, 12_340, 1_735_689_600_003_000],
    ]);
  });

  it('an empty list gives no trades', () => {
    expect(normalizeOkxHistoryTrades('{"code":"0","msg":"","data":[]}', okx, RECV)).toEqual([]);
  });

  it.each([
    ['{"code":"0"', 'MALFORMED_JSON', /not JSON/],
    [
      '{"code":"51001","msg":"Instrument ID does not exist","data":[]}',
      'UNEXPECTED_SHAPE',
      /OKX error code "51001": "Instrument ID does not exist"/,
    ],
    ['{"code":0,"msg":"","data":[]}', 'UNEXPECTED_SHAPE', /string "code"/],
    ['{"code":"0","msg":""}', 'UNEXPECTED_SHAPE', /"data" array/],
    [
      JSON.stringify({
        code: '0',
        msg: '',
        data: [item({ instId: 'SOL-USDT' })],
      }),
      'UNKNOWN_SYMBOL',
      /SOL-USDT is not configured/,
    ],
    [
      JSON.stringify({ code: '0', msg: '', data: [item({ px: '0.0' })] }),
      'INVALID_FIELD',
      /price must be a positive integer/,
    ],
    [
      JSON.stringify({ code: '0', msg: '', data: [item({ ts: 'yesterday' })] }),
      'INVALID_FIELD',
      /ts \(trade time\) must be a string of millisecond digits/,
    ],
  ])('rejects %s with %s', (text, code, reason) => {
    const err = rejection(() => normalizeOkxHistoryTrades(text, okx, RECV));
    expect(err.code).toBe(code);
    expect(err.reason).toMatch(reason);
  });

  it('never throws anything but NormalizeError on hostile responses', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: REST_DOC_EXAMPLE.length }),
        fc.integer({ min: 0, max: 20 }),
        fc.string({ maxLength: 20 }),
        (at, cut, junk) => {
          const text = REST_DOC_EXAMPLE.slice(0, at) + junk + REST_DOC_EXAMPLE.slice(at + cut);
          assertOnlyNormalizeErrors(() => normalizeOkxHistoryTrades(text, okx, RECV));
        },
      ),
      { numRuns: 5000 },
    );
  });
});

function assertOnlyNormalizeErrors(run: () => Trade[] | { control: true }): void {
  let result: Trade[] | { control: true };
  try {
    result = run();
  } catch (e) {
    expect(e).toBeInstanceOf(NormalizeError);
    return;
  }
  if (Array.isArray(result)) {
    for (const t of result) {
      expect(t.quantity).toBeGreaterThan(0);
      expect(t.price).toBeGreaterThan(0);
    }
  }
}
