import { formatFixed, instrumentFromSteps, type Instrument, type Trade } from '@orderflow/footprint';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeBybitRecentTrades, normalizeBybitTrades } from './bybit.normalizer.js';
import { NormalizeError } from './normalize.error.js';

// Steps as Bybit's instruments-info lists them (spot: tickSize / basePrecision, linear: tickSize / qtyStep).
const spotInstruments = new Map<string, Instrument>([
  ['BTCUSDT', instrumentFromSteps('bybit', 'BTCUSDT', '0.01', '0.000001')],
  ['ETHUSDT', instrumentFromSteps('bybit', 'ETHUSDT', '0.01', '0.00001')],
]);
const linearInstruments = new Map<string, Instrument>([
  ['BTCUSDT', instrumentFromSteps('bybit-linear', 'BTCUSDT', '0.10', '0.001')],
]);
const spot = { exchange: 'bybit', instruments: spotInstruments };
const linear = { exchange: 'bybit-linear', instruments: linearInstruments };
const RECV = 1_735_689_600_123;

// The response example of Bybit's v5 "Trade" WebSocket page (linear).
const DOC_EXAMPLE =
  '{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false,"seq":1783284617}]}';

// The response example of Bybit's v5 "Get Recent Public Trades" page (spot).
const REST_DOC_EXAMPLE =
  '{"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[{"execId":"2100000000007764263","symbol":"BTCUSDT","price":"16618.49","size":"0.00012","side":"Buy","time":"1672052955758","isBlockTrade":false}]},"retExtInfo":{},"time":1672053054358}';

type Fields = Partial<Record<'T' | 's' | 'S' | 'v' | 'p' | 'i' | 'L' | 'BT' | 'RPI' | 'seq', unknown>>;

/** One trade object of a spot frame; a field set to undefined is left out. */
function item(fields: Fields = {}): Record<string, unknown> {
  return {
    T: 1735689600099,
    s: 'BTCUSDT',
    S: 'Buy',
    v: '0.012340',
    p: '93512.34',
    i: '2290000000908760229',
    BT: false,
    RPI: false,
    seq: 87416325577,
    ...fields,
  };
}

function frame(...items: Record<string, unknown>[]): string {
  return JSON.stringify({
    topic: 'publicTrade.BTCUSDT',
    ts: 1735689600101,
    type: 'snapshot',
    data: items.length > 0 ? items : [item()],
  });
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

describe('Bybit publicTrade normaliser', () => {
  it('reads the documented linear example: "16578.50" at price scale 2 is 1657850 units, "0.001" at scale 3 is 1', () => {
    expect(normalizeBybitTrades(DOC_EXAMPLE, linear, RECV)).toEqual([
      {
        exchange: 'bybit-linear',
        symbol: 'BTCUSDT',
        id: '20f43950-d8dd-5b31-9112-a178eb6023af',
        price: 1_657_850,
        quantity: 1,
        side: 'buy',
        exchangeTimeUs: 1_672_304_486_865_000,
        receiveTimeMs: RECV,
      },
    ]);
  });

  it('reads the same frame at spot scales: "0.001" at quantity scale 6 is 1000 units', () => {
    const [t] = normalizeBybitTrades(DOC_EXAMPLE, spot, RECV) as Trade[];
    expect(t).toMatchObject({
      exchange: 'bybit',
      price: 1_657_850,
      quantity: 1000,
    });
  });

  it('S is the taker side: "Sell" means an aggressive seller, side sell', () => {
    const [t] = normalizeBybitTrades(frame(item({ S: 'Sell' })), spot, RECV) as Trade[];
    expect(t).toMatchObject({
      side: 'sell',
      price: 9_351_234,
      quantity: 12_340,
      id: '2290000000908760229',
      exchangeTimeUs: 1_735_689_600_099_000,
    });
    expect(formatFixed(t!.price, 2)).toBe('93512.34');
    expect(formatFixed(t!.quantity, 6)).toBe('0.012340');
  });

  it('keeps the order of a multi-trade frame, one symbol or several', () => {
    const text = frame(
      item({ i: '1', S: 'Sell', p: '93512.34', v: '0.5', T: 1735689600001 }),
      item({
        i: '2',
        S: 'Buy',
        p: '93512.35',
        v: '0.000001',
        T: 1735689600001,
      }),
      item({ i: '3', S: 'Sell', p: '93512.30', v: '2', T: 1735689600002 }),
      item({
        i: '4',
        s: 'ETHUSDT',
        S: 'Buy',
        p: '3401.5',
        v: '1.25',
        T: 1735689600002,
      }),
    );
    const trades = normalizeBybitTrades(text, spot, RECV) as Trade[];
    expect(trades.map((t) => [t.id, t.symbol, t.side, t.price, t.quantity, t.exchangeTimeUs])).toEqual([
      ['1', 'BTCUSDT', 'sell', 9_351_234, 500_000, 1_735_689_600_001_000],
      ['2', 'BTCUSDT', 'buy', 9_351_235, 1, 1_735_689_600_001_000],
      ['3', 'BTCUSDT', 'sell', 9_351_230, 2_000_000, 1_735_689_600_002_000],
      ['4', 'ETHUSDT', 'buy', 340_150, 125_000, 1_735_689_600_002_000],
    ]);
  });

  it('ignores fields it does not use or does not know (RPI, options mP/iP/mIv/iv, future ones), key order and whitespace', () => {
    const want = normalizeBybitTrades(frame(), spot, RECV);
    const extra = frame(
      item({
        RPI: true,
        BT: true,
        L: 'ZeroMinusTick',
        mP: '1',
        iP: '2',
        mIv: '0.3',
        iv: '0.4',
        newField: { x: [1] },
      } as Fields),
    );
    const reordered = JSON.stringify({
      data: [item()],
      type: 'snapshot',
      topic: 'publicTrade.BTCUSDT',
      ts: 1,
      id: 'x',
    });
    const spaced = JSON.stringify(JSON.parse(frame()), null, 2);
    for (const text of [extra, reordered, spaced]) expect(normalizeBybitTrades(text, spot, RECV)).toEqual(want);
  });

  it('a frame with no trades gives none', () => {
    expect(
      normalizeBybitTrades('{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[]}', spot, RECV),
    ).toEqual([]);
  });

  it.each([
    [
      'subscription reply',
      '{"success":true,"ret_msg":"subscribe","conn_id":"2324d924-aa4d-45b0-a858-7b8be29ab52b","req_id":"1","op":"subscribe"}',
    ],
    ['spot pong', '{"success":true,"ret_msg":"pong","conn_id":"0970e817-426e-429a-a679-ff7f55e0b16a","op":"ping"}'],
    [
      'linear pong',
      '{"success":true,"ret_msg":"","conn_id":"465772b1-7630-4fdc-a492-e003e6f0f260","req_id":"","op":"pong","args":["1672916271846"]}',
    ],
    [
      'failed subscription',
      '{"success":false,"ret_msg":"error:handler not found","conn_id":"e1b0c6d5-7a8b-4f0e-9a4b-0c1c2d3e4f50","req_id":"","op":"subscribe"}',
    ],
  ])('passes a %s through as a control frame', (_name, text) => {
    expect(normalizeBybitTrades(text, spot, RECV)).toEqual({
      control: true,
      payload: JSON.parse(text),
    });
  });

  it.each([
    ['{"topic":"publicTrade.BTCUSDT"', 'MALFORMED_JSON', /not JSON/],
    ['', 'MALFORMED_JSON', /not JSON/],
    ['pong', 'MALFORMED_JSON', /not JSON/],
    ['[1,2]', 'UNEXPECTED_SHAPE', /not a JSON object/],
    ['null', 'UNEXPECTED_SHAPE', /not a JSON object/],
    ['{"type":"snapshot","data":[]}', 'UNEXPECTED_SHAPE', /neither "topic" nor "op"/],
    [
      '{"topic":"orderbook.50.BTCUSDT","type":"snapshot","data":{}}',
      'UNEXPECTED_SHAPE',
      /"orderbook.50.BTCUSDT" is not publicTrade/,
    ],
    ['{"topic":"publicTrade.BTCUSDT","type":"snapshot","data":{"T":1}}', 'UNEXPECTED_SHAPE', /needs a "data" array/],
    ['{"topic":"publicTrade.BTCUSDT","data":[5]}', 'UNEXPECTED_SHAPE', /data\[0\] is not an object/],
    [frame(item({ s: 'DOGEUSDT' })), 'UNKNOWN_SYMBOL', /DOGEUSDT is not configured for bybit/],
    [frame(item({ s: undefined })), 'INVALID_FIELD', /data\[0\]\.s \(symbol\) must be a string/],
    [frame(item(), item({ p: '-1.00' })), 'INVALID_FIELD', /data\[1\]\.p: .*not a plain non-negative decimal/],
    [frame(item({ p: '1e5' })), 'INVALID_FIELD', /data\[0\]\.p: .*not a plain non-negative decimal/],
    [frame(item({ p: '' })), 'INVALID_FIELD', /data\[0\]\.p: .*not a plain non-negative decimal/],
    [frame(item({ p: '93512.345' })), 'INVALID_FIELD', /data\[0\]\.p: .*more than 2 significant decimals/],
    [frame(item({ v: '0.0000001' })), 'INVALID_FIELD', /data\[0\]\.v: .*more than 6 significant decimals/],
    [frame(item({ v: '99999999999.999999' })), 'INVALID_FIELD', /data\[0\]\.v: .*exceeds 2\^53 - 1 units/],
    [frame(item({ p: 93512.34 })), 'INVALID_FIELD', /data\[0\]\.p \(price\) must be a decimal string/],
    [frame(item({ v: undefined })), 'INVALID_FIELD', /data\[0\]\.v \(size\) must be a decimal string/],
    [frame(item({ p: '0.00' })), 'INVALID_FIELD', /data\[0\]: price must be a positive integer/],
    [frame(item({ v: '0' })), 'INVALID_FIELD', /data\[0\]: quantity must be a positive integer/],
    [
      frame(item({ i: undefined })),
      'INVALID_FIELD',
      /data\[0\]\.i \(trade id\) must be 1 to 64 characters of 0-9 a-z A-Z -/,
    ],
    [frame(item({ i: '' })), 'INVALID_FIELD', /data\[0\]\.i \(trade id\) must be 1 to 64 characters of 0-9 a-z A-Z -/],
    [
      frame(item({ i: 12345 })),
      'INVALID_FIELD',
      /data\[0\]\.i \(trade id\) must be 1 to 64 characters of 0-9 a-z A-Z -/,
    ],
    [frame(item({ i: 'x'.repeat(65) })), 'INVALID_FIELD', /must be 1 to 64 characters/],
    [frame(item({ S: 'buy' })), 'INVALID_FIELD', /data\[0\]\.S \(taker side\) must be "Buy" or "Sell", got "buy"/],
    [
      frame(item({ S: undefined })),
      'INVALID_FIELD',
      /data\[0\]\.S \(taker side\) must be "Buy" or "Sell", got undefined/,
    ],
    [
      frame(item({ T: '1735689600099' })),
      'INVALID_FIELD',
      /data\[0\]\.T \(trade time\) must be a non-negative integer of milliseconds/,
    ],
    [frame(item({ T: 1735689600099.5 })), 'INVALID_FIELD', /data\[0\]\.T \(trade time\)/],
    [frame(item({ T: -1 })), 'INVALID_FIELD', /data\[0\]\.T \(trade time\)/],
    [
      frame(item({ T: 1735689600099000 })),
      'INVALID_FIELD',
      /exchange time must be integer microseconds between 2009 and 2100/,
    ], // µs sent as ms
    [frame(item({ T: 5 })), 'INVALID_FIELD', /exchange time must be integer microseconds between 2009 and 2100/],
  ])('rejects %s with %s', (text, code, reason) => {
    const err = rejection(() => normalizeBybitTrades(text, spot, RECV));
    expect(err.code).toBe(code);
    expect(err.reason).toMatch(reason);
  });

  it('reads every generated frame back to the decimals and sides it was built from', () => {
    const gen = fc.array(
      fc.record({
        p: fc.integer({ min: 1, max: 10 ** 12 }),
        v: fc.integer({ min: 1, max: 10 ** 12 }),
        T: fc.integer({ min: 1_300_000_000_000, max: 4_000_000_000_000 }),
        sell: fc.boolean(),
        i: fc.uuid(),
      }),
      { minLength: 1, maxLength: 20 },
    );
    fc.assert(
      fc.property(gen, (rows) => {
        const text = frame(
          ...rows.map((r) =>
            item({
              p: formatFixed(r.p, 2),
              v: formatFixed(r.v, 6),
              T: r.T,
              S: r.sell ? 'Sell' : 'Buy',
              i: r.i,
            }),
          ),
        );
        const trades = normalizeBybitTrades(text, spot, RECV) as Trade[];
        expect(trades.map((t) => [t.id, t.price, t.quantity, t.side, t.exchangeTimeUs])).toEqual(
          rows.map((r) => [r.i, r.p, r.v, r.sell ? 'sell' : 'buy', r.T * 1000]),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but NormalizeError on hostile text, and never yields a non-positive trade', () => {
    const base = frame(item({ i: 'a', S: 'Sell' }), item({ i: 'b', p: '93512.35', v: '1.5' }));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: base.length }),
        fc.integer({ min: 0, max: 20 }),
        fc.string({ maxLength: 20 }),
        (at, cut, junk) => {
          const text = base.slice(0, at) + junk + base.slice(at + cut);
          assertOnlyNormalizeErrors(() => normalizeBybitTrades(text, spot, RECV));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('never throws anything but NormalizeError when any field of a parsed frame holds any JSON value', () => {
    const keys = ['T', 's', 'S', 'v', 'p', 'i', 'BT', 'seq', 'topic', 'data', 'type', 'op', 'success'];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.constantFrom(...keys),
        fc.option(fc.jsonValue(), { nil: undefined }),
        (at, key, value) => {
          const root = JSON.parse(frame(item({ i: 'a' }), item({ i: 'b', S: 'Sell' }))) as {
            data: Record<string, unknown>[];
          } & Record<string, unknown>;
          const target = at === 2 ? root : root.data[at]!;
          target[key] = value;
          assertOnlyNormalizeErrors(() => normalizeBybitTrades(JSON.stringify(root), spot, RECV));
        },
      ),
      { numRuns: 20_000 },
    );
  });
});

describe('Bybit recent-trade REST normaliser', () => {
  it('reads the documented example', () => {
    expect(normalizeBybitRecentTrades(REST_DOC_EXAMPLE, spot, RECV)).toEqual([
      {
        exchange: 'bybit',
        symbol: 'BTCUSDT',
        id: '2100000000007764263',
        price: 1_661_849, // 16618.49 at 2 decimals
        quantity: 120, // 0.00012 at 6 decimals
        side: 'buy',
        exchangeTimeUs: 1_672_052_955_758_000,
        receiveTimeMs: RECV,
      },
    ]);
  });

  it('turns the newest-first list into oldest first, with the taker side ("100.01" at scale 2 is 10001 units)', () => {
    const list = [
      {
        execId: '3',
        symbol: 'BTCUSDT',
        price: '100.02',
        size: '3',
        side: 'Sell',
        time: '1735689600003',
        isBlockTrade: false,
      },
      {
        execId: '2',
        symbol: 'BTCUSDT',
        price: '100.01',
        size: '2',
        side: 'Buy',
        time: '1735689600002',
        isBlockTrade: true,
        isRPITrade: false,
      },
      {
        execId: '1',
        symbol: 'BTCUSDT',
        price: '100.00',
        size: '1',
        side: 'Sell',
        time: '1735689600001',
        isBlockTrade: false,
      },
    ];
    const body = JSON.stringify({
      retCode: 0,
      retMsg: 'OK',
      result: { category: 'linear', list },
      retExtInfo: {},
      time: 1,
    });
    const trades = normalizeBybitRecentTrades(body, linear, RECV);
    expect(trades.map((t) => [t.id, t.side, t.price, t.quantity, t.exchangeTimeUs])).toEqual([
      ['1', 'sell', 10_000, 1000, 1_735_689_600_001_000],
      ['2', 'buy', 10_001, 2000, 1_735_689_600_002_000],
      ['3', 'sell', 10_002, 3000, 1_735_689_600_003_000],
    ]);
    expect(trades.every((t) => t.exchange === 'bybit-linear')).toBe(true);
  });

  it('an empty list gives no trades', () => {
    expect(
      normalizeBybitRecentTrades(
        '{"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[]},"time":1}',
        spot,
        RECV,
      ),
    ).toEqual([]);
  });

  const rest = (entry: Record<string, unknown>): string =>
    JSON.stringify({
      retCode: 0,
      retMsg: 'OK',
      result: {
        category: 'spot',
        list: [
          {
            execId: '7',
            symbol: 'BTCUSDT',
            price: '1.00',
            size: '1',
            side: 'Buy',
            time: '1735689600001',
            ...entry,
          },
        ],
      },
    });

  it.each([
    ['{"retCode":0', 'MALFORMED_JSON', /not JSON/],
    [
      '{"retCode":10001,"retMsg":"params error: symbol invalid","result":{},"time":1}',
      'UNEXPECTED_SHAPE',
      /retCode 10001: "params error: symbol invalid"/,
    ],
    ['{"retMsg":"OK","result":{"list":[]}}', 'UNEXPECTED_SHAPE', /numeric "retCode"/],
    ['{"retCode":0,"retMsg":"OK","result":[]}', 'UNEXPECTED_SHAPE', /"result" object/],
    ['{"retCode":0,"retMsg":"OK","result":{"list":{}}}', 'UNEXPECTED_SHAPE', /"result.list" array/],
    [rest({ symbol: 'XRPUSDT' }), 'UNKNOWN_SYMBOL', /XRPUSDT is not configured/],
    [rest({ price: '-1' }), 'INVALID_FIELD', /list\[0\]\.price: .*not a plain non-negative decimal/],
    [rest({ price: '0' }), 'INVALID_FIELD', /price must be a positive integer/],
    [rest({ size: 1 }), 'INVALID_FIELD', /list\[0\]\.size must be a decimal string/],
    [rest({ execId: '' }), 'INVALID_FIELD', /list\[0\]\.execId \(trade id\) must be 1 to 64 characters/],
    [rest({ side: 'SELL' }), 'INVALID_FIELD', /list\[0\]\.side \(taker side\) must be "Buy" or "Sell"/],
    [rest({ time: 1735689600001 }), 'INVALID_FIELD', /list\[0\]\.time must be a string of millisecond digits/],
    [
      rest({ time: '17356896e5' }),
      'INVALID_FIELD',
      /list\[0\]\.time must be a string of millisecond digits, got "17356896e5"/,
    ],
    [rest({ time: '0' }), 'INVALID_FIELD', /exchange time must be integer microseconds/],
  ])('rejects %s with %s', (text, code, reason) => {
    const err = rejection(() => normalizeBybitRecentTrades(text, spot, RECV));
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
          assertOnlyNormalizeErrors(() => normalizeBybitRecentTrades(text, spot, RECV));
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
