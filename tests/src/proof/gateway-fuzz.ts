/**
 * Generators and oracles of the gateway fuzzer (gateway.fuzz.spec.ts).
 *
 * The oracles are written from the gateway's documented contract (apps/gateway/README.md), not
 * from its code: for every generated Socket.IO payload or HTTP query they decide, on what the
 * server actually receives (JSON round trip, Socket.IO binary attachments, URL decoding), whether
 * the request is valid, and if not, which refusals are acceptable: the code, and a pattern that the
 * reason must match (it names the offending field or parameter). A request the oracle finds valid
 * must succeed; generators mix valid values into the hostile ones on purpose, so both branches run.
 */
import { Buffer } from 'node:buffer';
import querystring from 'node:querystring';
import { TIMEFRAMES, TIMEFRAME_MS } from '@orderflow/footprint';
import fc from 'fast-check';

/* ------------------------------------------------------------------------------------------------
 * What the test stack holds (the fuzz spec publishes exactly these instruments)
 * ---------------------------------------------------------------------------------------------- */

export const DAY = 86_400_000;
/** Trade times are accepted between these (README: "between 2009 and 2100 like trade times"). */
export const MIN_TIME_MS = Date.UTC(2009, 0, 3);
export const MAX_TIME_MS = Date.UTC(2100, 0, 1);
/** The fuzz spec's trades: every 2 s from 23:50 to 00:10 UTC across this midnight. */
export const DATA_FROM = Date.UTC(2024, 7, 8, 23, 50);
export const DATA_TO = Date.UTC(2024, 7, 9, 0, 10);

/** Exchange ids, as the README lists them (real, simulated, merged). */
const REAL = ['binance', 'binance-futures', 'bybit', 'bybit-linear', 'okx'];
export const EXCHANGE_IDS = [
  ...REAL,
  ...REAL.map((e) => `sim-${e}`),
  'merged',
  'merged-perp',
  'sim-merged',
  'sim-merged-perp',
];
const MERGED = new Set(['merged', 'merged-perp', 'sim-merged', 'sim-merged-perp']);

export interface Scales {
  priceScale: number;
  quantityScale: number;
  tick: number;
}
/** The instruments the spec publishes: Binance spot BTCUSDT (0.01 / 0.00001) and Bybit spot BTCUSDT (0.1 / 0.001). */
export const STORED: Record<string, Scales> = {
  'binance BTCUSDT': { priceScale: 2, quantityScale: 5, tick: 1 },
  'bybit BTCUSDT': { priceScale: 1, quantityScale: 3, tick: 1 },
};
/**
 * Quote assets the gateway recognises at the end of a Binance/Bybit symbol, longest first (instrument.view.ts QUOTES).
 */
const QUOTES = ['FDUSD', 'USDT', 'USDC', 'BUSD', 'TUSD', 'USD', 'DAI', 'BTC', 'ETH', 'BNB', 'EUR', 'TRY', 'BRL'];

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
const MERGED_SYMBOL = /^([A-Z0-9]{1,20})-([A-Z0-9]{1,20})$/;
export { TIMEFRAMES };
export const TF_MS: Record<string, number> = TIMEFRAME_MS;

/**
 * A merged symbol BASE-QUOTE names the member symbols BASE+QUOTE (Binance, Bybit) and BASE-QUOTE
 * (OKX). When BASE+QUOTE reads as a different pair (B-TCUSDT is BTCUSDT, i.e. BTC-USDT), the name
 * is refused: it would serve another pair's data under a false label.
 */
function mergedSymbolOk(s: string): boolean {
  const m = MERGED_SYMBOL.exec(s);
  if (!m) return false;
  const joined = m[1]! + m[2]!;
  const q = QUOTES.find((x) => joined.length > x.length && joined.endsWith(x));
  return q === undefined || q === m[2];
}

/** The scales of a view the stack can serve, or null (unknown instrument). Exchange and symbol are valid. */
export function viewOf(exchange: string, symbol: string): Scales | null {
  if (!MERGED.has(exchange)) return STORED[`${exchange} ${symbol}`] ?? null;
  const m = MERGED_SYMBOL.exec(symbol)!;
  const [base, quote] = [m[1]!, m[2]!];
  const prefix = exchange.startsWith('sim-') ? 'sim-' : '';
  const members = exchange.endsWith('-perp')
    ? [
        `${prefix}binance-futures ${base}${quote}`,
        `${prefix}bybit-linear ${base}${quote}`,
        `${prefix}okx ${base}-${quote}-SWAP`,
      ]
    : [`${prefix}binance ${base}${quote}`, `${prefix}bybit ${base}${quote}`, `${prefix}okx ${base}-${quote}`];
  const present = members.map((k) => STORED[k]).filter((x): x is Scales => x !== undefined);
  if (present.length === 0) return null;
  return {
    priceScale: Math.max(...present.map((p) => p.priceScale)),
    quantityScale: Math.max(...present.map((p) => p.quantityScale)),
    tick: 1,
  };
}

/* ------------------------------------------------------------------------------------------------
 * Expectations
 * ---------------------------------------------------------------------------------------------- */

export interface Violation {
  code: string;
  /** The reason (socket) or message (HTTP) must match this: it names what was wrong. */
  pattern: RegExp;
}
/** `violations` empty: the request is valid and must succeed. */
export interface Expectation {
  violations: Violation[];
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/**
 * A refusal naming `field` first (messages read "ticks must be ...", "exchange \"x\" is not ..."), not "from..to" or
 * "to (...)".
 */
const names = (field: string) => new RegExp(`^${esc(field)} (?!\\()`);
const bad = (pattern: RegExp, code = 'bad-request'): Violation => ({
  code,
  pattern,
});

/** Does one of the violations accept this refusal? */
export function refusalMatches(e: Expectation, code: string, reason: string): boolean {
  return e.violations.some((v) => v.code === code && v.pattern.test(reason));
}

/* ------------------------------------------------------------------------------------------------
 * Socket.IO: what the server receives
 * ---------------------------------------------------------------------------------------------- */

export function isBinary(v: unknown): boolean {
  return Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

/**
 * The value the server's handler gets for an argument the client emits. Without binary: JSON's
 * round trip (undefined and functions dropped from objects and nulled in arrays, non-finite numbers
 * null, -0 is 0, toJSON applied; keys such as __proto__ stay own keys, as JSON.parse makes them).
 * With binary anywhere in it, socket.io-client first copies the value by assignment, replacing
 * each binary by a placeholder (socket.io-parser deconstructPacket): a `__proto__` key is lost in
 * that copy, and the server gets each binary back as a Buffer.
 */
export function wire(v: unknown, inArray = true): unknown {
  if (containsBinary(v)) return copied(v, inArray);
  // JSON's own round trip (native, so deep nesting is no problem)
  const text = JSON.stringify(v);
  return text === undefined ? (inArray ? null : undefined) : (JSON.parse(text) as unknown);
}

/** deconstructPacket's copy, then JSON's rules for what is left. */
function copied(v: unknown, inArray: boolean): unknown {
  if (isBinary(v))
    return Buffer.from(
      v instanceof ArrayBuffer
        ? new Uint8Array(v)
        : new Uint8Array(
            (v as ArrayBufferView).buffer,
            (v as ArrayBufferView).byteOffset,
            (v as ArrayBufferView).byteLength,
          ),
    );
  if (Array.isArray(v)) return v.map((x) => copied(x, true));
  if (typeof v === 'object' && v !== null && !(v instanceof Date)) {
    const out: Record<string, unknown> = JSON.parse('{}') as Record<string, unknown>;
    for (const k of Object.keys(v)) {
      if (k === '__proto__') continue; // `newData[key] = ...` sets a prototype instead: the key is not sent
      const w = copied((v as Record<string, unknown>)[k], false);
      if (w !== undefined)
        Object.defineProperty(out, k, { value: w, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  const text = JSON.stringify(v);
  return text === undefined ? (inArray ? null : undefined) : (JSON.parse(text) as unknown);
}

/** Whether binary occurs anywhere in a value (iterative: values may be nested thousands deep). */
function containsBinary(v: unknown): boolean {
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (isBinary(x)) return true;
    if (typeof x !== 'object' || x === null || typeof (x as { toJSON?: unknown }).toJSON === 'function') continue;
    for (const k of Object.keys(x)) stack.push((x as Record<string, unknown>)[k]);
  }
  return false;
}

const isObjectLike = (w: unknown): w is Record<string, unknown> =>
  typeof w === 'object' && w !== null && !Array.isArray(w);
const own = (o: Record<string, unknown>, k: string): unknown =>
  Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
const isInt = (v: unknown, min: number, max: number) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;

export const SUBSCRIBE_FIELDS = ['exchange', 'symbol', 'timeframe', 'ticks', 'candles', 'mode'];

/** A `subscribe` body as received (see wire). */
export function expectSubscribe(body: unknown, maxCandles: number): Expectation {
  const v: Violation[] = [];
  if (!isObjectLike(body)) return { violations: [bad(/^subscribe request must be an object/)] };
  const keys = Object.keys(body);
  if (keys.some((k) => !SUBSCRIBE_FIELDS.includes(k))) v.push(bad(/^subscribe request: unknown fields? /));
  for (const k of ['exchange', 'symbol', 'timeframe', 'ticks', 'candles'])
    if (own(body, k) === undefined) v.push(bad(new RegExp(`^subscribe request: ${k} is required`)));
  const ex = own(body, 'exchange');
  const sym = own(body, 'symbol');
  let exOk = false;
  if (ex !== undefined) {
    if (typeof ex !== 'string') v.push(bad(names('exchange')));
    else if (!EXCHANGE_IDS.includes(ex)) v.push(bad(names('exchange'), 'unknown-exchange'));
    else exOk = true;
  }
  let symOk = false;
  if (sym !== undefined) {
    if (typeof sym !== 'string') v.push(bad(names('symbol')));
    else if (exOk && MERGED.has(ex as string) ? !mergedSymbolOk(sym) : !TOKEN.test(sym)) v.push(bad(names('symbol')));
    else symOk = true;
  }
  const tf = own(body, 'timeframe');
  if (tf !== undefined && !(TIMEFRAMES as readonly unknown[]).includes(tf)) v.push(bad(names('timeframe')));
  const ticks = own(body, 'ticks');
  if (ticks !== undefined && !isInt(ticks, 1, 10_000)) v.push(bad(names('ticks')));
  const candles = own(body, 'candles');
  if (candles !== undefined && !isInt(candles, 1, maxCandles)) v.push(bad(names('candles')));
  const mode = own(body, 'mode');
  if (mode !== undefined && mode !== 'nearest' && mode !== 'down') v.push(bad(names('mode')));
  if (v.length === 0 && exOk && symOk && viewOf(ex as string, sym as string) === null)
    v.push(bad(/is not a known instrument|none of its member instruments/, 'unknown-symbol'));
  return { violations: v };
}

/** An `unsubscribe` body on a connection that holds none of the ids it names. */
export function expectUnsubscribe(body: unknown): Expectation {
  if (!isObjectLike(body)) return { violations: [bad(/^unsubscribe request must be an object/)] };
  if (Object.keys(body).some((k) => k !== 'subscriptionId'))
    return { violations: [bad(/^unsubscribe request: unknown fields? /)] };
  const id = own(body, 'subscriptionId');
  if (typeof id !== 'string' || id.length === 0 || id.length > 64)
    return { violations: [bad(/^subscriptionId must be /)] };
  return { violations: [bad(/^no subscription /, 'unknown-subscription')] };
}

/* ------------------------------------------------------------------------------------------------
 * Hostile values
 * ---------------------------------------------------------------------------------------------- */

export const SQL = [
  "' OR '1'='1",
  "BTCUSDT' OR 1=1 --",
  '1; DROP TABLE gwfuzz.trades; --',
  "BTCUSDT'; DROP DATABASE gwfuzz; --",
  "x' UNION SELECT name FROM system.tables --",
  "1' AND sleep(3) --",
  "\\'; SYSTEM SHUTDOWN; --",
  '`; SELECT 1; `',
  '" OR ""="',
  '1)) OR ((1=1',
  "'; INSERT INTO gwfuzz.trades VALUES (1) --",
  '1 OR 1=1',
  "binance'--",
  'BTCUSDT%27',
  "toDateTime('2024-01-01')",
];
export const UNICODE = [
  'ВТСUSDT', // Cyrillic look-alikes
  'bіnance',
  'BTCUSDT\u0000',
  '\u0000',
  '\u202eTDSUCTB',
  'BTC\u200bUSDT',
  '\ufeff1m',
  '１m',
  '１０',
  '٣',
  '🔥',
  'BTC🔥USDT',
  'e\u0301',
  '\ud800',
  '\udfff\ud800',
  '\ufffd',
  '\u2028',
  'ß',
  'İ',
  'ｂｉｎａｎｃｅ',
  '\t1m',
  '1m\n',
  '\r\nSet-Cookie: x=1',
];
export const NUMERIC_TEXT = [
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '0',
  '00',
  '1e3',
  '1E3',
  '0x10',
  '0b1',
  '0o7',
  '1_000',
  '+1',
  ' 1',
  '1 ',
  '1.0',
  '1.',
  '.5',
  '-1',
  '9007199254740991',
  '9007199254740993',
  '99999999999999999999',
  '1e308',
  '1e-7',
  '-9223372036854775808',
  '18446744073709551616',
  '0.000000001',
];
export const PROTO_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'isPrototypeOf',
];
export const MISC_TEXT = [
  '',
  ' ',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '{"$gt":""}',
  '[object Object]',
  '../../etc/passwd',
  '%s%s%s%n',
  '${7*7}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '=cmd|"/C calc"!A0',
  'live.>',
  '*',
  '>',
  'live.binance.BTCUSDT.1m',
  'orderflow.agg.0.snapshot',
  'binance.*',
  'a.b',
];

const deepArray = (n: number): unknown => JSON.parse('['.repeat(n) + ']'.repeat(n)) as unknown;
const deepObject = (n: number): unknown => JSON.parse('{"a":'.repeat(n) + '1' + '}'.repeat(n)) as unknown;
const wideObject = (n: number): unknown => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
const protoObjects: unknown[] = [
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"__proto__":null}',
  '{"toString":"x","valueOf":1}',
  '{"hasOwnProperty":1}',
].map((t) => JSON.parse(t) as unknown);

/** Any JSON-ish value, far from what is expected: strings, numbers, structures, binary. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom<unknown>(...SQL, ...UNICODE, ...NUMERIC_TEXT, ...PROTO_KEYS, ...MISC_TEXT),
  },
  {
    weight: 4,
    arbitrary: fc.constantFrom<unknown>(
      NaN,
      Infinity,
      -Infinity,
      -0,
      0,
      1,
      -1,
      2.5,
      1e308,
      -1e308,
      Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER + 2,
      Number.MIN_VALUE,
      Number.EPSILON,
      2 ** 31,
      2 ** 32,
      2 ** 53,
      -(2 ** 63),
      1e21,
      10_001,
      2001,
      null,
      true,
      false,
    ),
  },
  { weight: 2, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
  {
    weight: 1,
    arbitrary: fc.bigInt({ min: -(2n ** 128n), max: 2n ** 128n }).map((b) => b.toString()),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 65, max: 20_000 }), fc.nat(2))
      .map(([n, k]): unknown => [() => 'A'.repeat(n), () => '9'.repeat(n), () => 'é'.repeat(Math.floor(n / 2))][k]!()),
  },
  // (deeper nesting goes through raw frames: socket.io-client's encoder recurses, and a binary attachment beside 3,000
  // levels overflows its stack)
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 2, max: 1000 }), fc.boolean())
      .map(([n, arr]) => (arr ? deepArray(n) : deepObject(n))),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      wideObject(1000),
      Array.from({ length: 5000 }, () => 0),
      ...protoObjects,
    ),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
      fc.constantFrom<unknown>(Buffer.alloc(0), Buffer.alloc(30_000, 0x41), new Uint8Array([0, 255]).buffer),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(new Date(0), new Date(NaN), [], {}, [null], [[]], { valueOf: 1 }),
  },
);

/* ------------------------------------------------------------------------------------------------
 * Socket.IO inputs
 * ---------------------------------------------------------------------------------------------- */

export interface SocketInput {
  category: 'subscribe' | 'unsubscribe' | 'unknown-event' | 'multi-arg';
  event: string | number;
  args: unknown[];
  /** Whether the client asks for an acknowledgement (a valid subscribe always does: it is unsubscribed right after). */
  ack: boolean;
  expect: Expectation;
}

export const SUBSCRIBE_BASES: Record<string, unknown>[] = [
  {
    exchange: 'binance',
    symbol: 'BTCUSDT',
    timeframe: '1m',
    ticks: 1,
    candles: 5,
  },
  {
    exchange: 'bybit',
    symbol: 'BTCUSDT',
    timeframe: '5m',
    ticks: 10,
    candles: 3,
    mode: 'down',
  },
  {
    exchange: 'merged',
    symbol: 'BTC-USDT',
    timeframe: '1m',
    ticks: 2,
    candles: 4,
    mode: 'nearest',
  },
];

/** Values aimed at one field: near misses, boundaries, look-alikes, and some valid ones. */
const fieldValues: Record<string, fc.Arbitrary<unknown>> = {
  exchange: fc.oneof(
    fc.constantFrom<unknown>(
      ...EXCHANGE_IDS,
      'BINANCE',
      'Binance',
      ' binance',
      'binance ',
      'binance\u0000',
      'bіnance',
      'nasdaq',
      'sim-',
      'sim-nasdaq',
      'merged-spot',
      'binance.BTCUSDT',
      'binance.*',
      'x'.repeat(65),
      ['binance'],
      { id: 'binance' },
    ),
    fc.stringMatching(/^[a-z-]{1,20}$/),
  ),
  symbol: fc.oneof(
    fc.constantFrom<unknown>(
      'BTCUSDT',
      'BTC-USDT',
      'ETHUSDT',
      'btcusdt',
      'BTCU-SDT',
      'B-TCUSDT',
      'BTCUSD-T',
      'BTC-USDT-SWAP',
      'BTCUSDT.>',
      'BTC USDT',
      'BTC/USDT',
      'x'.repeat(64),
      'x'.repeat(65),
      'A'.repeat(20) + '-' + 'B'.repeat(21),
      ['BTCUSDT'],
      { $ne: null },
    ),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,66}$/),
    fc.stringMatching(/^[A-Z0-9]{1,21}-[A-Z0-9]{1,21}$/),
  ),
  timeframe: fc.constantFrom<unknown>(
    ...TIMEFRAMES,
    '1M',
    '2m',
    '1w',
    '1y',
    '60',
    60,
    '1 m',
    'm1',
    '1h ',
    '1D',
    '0m',
    '-1m',
    '1m\u0000',
    ['1m'],
    { tf: '1m' },
  ),
  ticks: fc.oneof(
    fc.constantFrom<unknown>(
      0,
      1,
      9999,
      10_000,
      10_001,
      -1,
      1.5,
      0.1,
      1e-300,
      '10',
      '1',
      [1],
      { n: 1 },
      true,
      1e4 + 0.5,
      2 ** 53,
      -(2 ** 53),
    ),
    fc.integer({ min: -1_000_000, max: 1_000_000 }),
  ),
  candles: fc.oneof(
    fc.constantFrom<unknown>(
      0,
      1,
      2000,
      2001,
      -1,
      1.5,
      '5',
      [5],
      true,
      1e6,
      Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER + 2,
    ),
    fc.integer({ min: -1_000_000, max: 1_000_000 }),
  ),
  mode: fc.constantFrom<unknown>(
    'nearest',
    'down',
    'up',
    'NEAREST',
    'Down',
    'round',
    '',
    ' down',
    0,
    1,
    true,
    ['down'],
    { mode: 'down' },
  ),
};

type Mutation =
  | { kind: 'set'; key: string; value: unknown }
  | { kind: 'del'; key: string }
  | { kind: 'extra'; key: string; value: unknown };

const subscribeMutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.oneof(
      ...SUBSCRIBE_FIELDS.map((key) =>
        fc
          .oneof({ weight: 1, arbitrary: fieldValues[key]! }, { weight: 2, arbitrary: hostileJson })
          .map((value): Mutation => ({ kind: 'set', key, value })),
      ),
    ),
  },
  // (deleting the optional mode leaves a valid request: valid ones come from the values above often enough)
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(...SUBSCRIBE_FIELDS.filter((k) => k !== 'mode'))
      .map((key): Mutation => ({ kind: 'del', key })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.oneof(
          fc.constantFrom(
            ...PROTO_KEYS,
            'tick',
            'Exchange',
            'limit',
            'subscriptionId',
            'candle',
            ' mode',
            'mode ',
            '',
            '\u0000',
          ),
          fc.string({ maxLength: 10 }),
        ),
        hostileJson,
      )
      .map(([key, value]): Mutation => ({ kind: 'extra', key, value })),
  },
);

function mutate(base: Record<string, unknown>, muts: Mutation[]): Record<string, unknown> {
  const o = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
  for (const m of muts) {
    if (m.kind === 'del') delete o[m.key];
    else
      Object.defineProperty(o, m.key, {
        value: m.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return o;
}

/** A `subscribe` payload: a valid request damaged in 1-3 fields, or something else entirely. */
export const subscribePayload: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 16,
    arbitrary: fc
      .tuple(fc.constantFrom(...SUBSCRIBE_BASES), fc.array(subscribeMutation, { minLength: 1, maxLength: 3 }))
      .map(([b, m]) => mutate(b, m)),
  },
  { weight: 4, arbitrary: hostileJson },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...SUBSCRIBE_BASES), fc.nat(6))
      .map(([b, k]): unknown =>
        [
          () => [b],
          () => ({ subscribe: b }),
          () => ({ data: b }),
          () => JSON.stringify(b),
          () => [b, b],
          () => ({ ...b, nested: deepObject(500) }),
          () => Buffer.from(JSON.stringify(b)),
        ][k]!(),
      ),
  },
  { weight: 1, arbitrary: fc.object({ maxDepth: 2, maxKeys: 8 }) },
);

/** An `unsubscribe` payload; ids include those of another connection's live subscriptions (s1, s2, ...). */
export const unsubscribePayload: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .oneof(
        fc.constantFrom<unknown>(
          's1',
          's2',
          's3',
          's4',
          's0',
          's-1',
          'S1',
          's01',
          ' s1',
          's1 ',
          's1\u0000',
          '',
          'x'.repeat(64),
          'x'.repeat(65),
          1,
          0,
          -1,
          null,
          true,
          ['s1'],
          { id: 's1' },
        ),
        fc.nat(100_000).map((n) => `s${n}`),
        hostileJson,
      )
      .map((id) => mutate({}, [{ kind: 'set', key: 'subscriptionId', value: id }])),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('s1', 's2'),
        fc.oneof(fc.constantFrom(...PROTO_KEYS, 'id', 'subscriptionID', ''), fc.string({ maxLength: 8 })),
        hostileJson,
      )
      .map(([id, key, value]) => mutate({ subscriptionId: id }, [{ kind: 'extra', key, value }])),
  },
  { weight: 3, arbitrary: hostileJson },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>({}, ['s1'], 's1', {
      subscriptionId: 's1',
      ...SUBSCRIBE_BASES[0],
    }),
  },
);

/**
 * Event names that are not subscribe/unsubscribe: near misses, the server's own events, prototype keys, junk, numbers.
 */
export const unknownEventName: fc.Arbitrary<string | number> = fc
  .oneof(
    fc.constantFrom<string | number>(
      'Subscribe',
      'SUBSCRIBE',
      'subscribe ',
      ' subscribe',
      'subscribe\u0000',
      'unsubscribe\n',
      'subscribe\u200b',
      'ѕubscribe',
      'subscribe/',
      'subscribe.*',
      'un-subscribe',
      'subscribes',
      'snapshot',
      'update',
      'error',
      'ping',
      'pong',
      'message',
      'connection',
      'connect_timeout',
      'reconnect',
      'open',
      'close',
      'data',
      'drop-tables',
      '*',
      '',
      '42',
      '/',
      'socket.io',
      ...PROTO_KEYS,
      0,
      1,
      -1,
      42,
      1e308,
      2 ** 53,
      0.5,
    ),
    fc.string({ unit: 'binary', maxLength: 64 }),
    fc.string({ unit: 'grapheme', maxLength: 16 }),
    fc.integer({ min: 100, max: 20_000 }).map((n) => 'E'.repeat(n)),
  )
  .filter((e) => e !== 'subscribe' && e !== 'unsubscribe');

const RESERVED = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);

export const socketInput = (maxCandles: number): Record<SocketInput['category'], fc.Arbitrary<SocketInput>> => ({
  subscribe: fc.tuple(subscribePayload, fc.nat(4)).map(([p, r]) => {
    const expect = expectSubscribe(wire(p), maxCandles);
    // one in five without an acknowledgement, unless valid (a success without an ack could not be cleaned up)
    return {
      category: 'subscribe',
      event: 'subscribe',
      args: [p],
      ack: expect.violations.length === 0 || r > 0,
      expect,
    };
  }),
  unsubscribe: fc.tuple(unsubscribePayload, fc.nat(4)).map(([p, r]) => ({
    category: 'unsubscribe',
    event: 'unsubscribe',
    args: [p],
    ack: r > 0,
    expect: expectUnsubscribe(wire(p)),
  })),
  'unknown-event': fc
    .tuple(
      unknownEventName.filter((e) => !RESERVED.has(e as string)),
      fc.array(hostileJson, { maxLength: 2 }),
      fc.nat(4),
    )
    .map(([event, args, r]) => ({
      category: 'unknown-event',
      event,
      args,
      ack: r > 0,
      expect: { violations: [bad(/^unknown event "/, 'unknown-event')] },
    })),
  'multi-arg': fc
    .tuple(
      fc.oneof(
        fc.constantFrom<string | number>('subscribe', 'unsubscribe'),
        unknownEventName.filter((e) => !RESERVED.has(e as string)),
      ),
      fc.array(
        fc.oneof(
          fc.constantFrom<unknown>(...SUBSCRIBE_BASES, {
            subscriptionId: 's1',
          }),
          hostileJson,
        ),
        { maxLength: 6 },
      ),
      fc.nat(4),
    )
    .map(([event, args, r]): SocketInput => {
      // none or at least two arguments (one is the ordinary case)
      if (args.length === 1) args.push(args[0]);
      const ev: Violation =
        event === 'subscribe'
          ? bad(/^subscribe request must be an object, got (an array|undefined)/)
          : event === 'unsubscribe'
            ? bad(/^unsubscribe request must be an object, got (an array|undefined)/)
            : bad(/^unknown event "/, 'unknown-event');
      return {
        category: 'multi-arg',
        event,
        args,
        ack: r > 0,
        expect: { violations: [ev] },
      };
    }),
});

/** A bounded description of a payload for a failure message. */
export function describeValue(v: unknown): string {
  try {
    const s = JSON.stringify(v, (_k, x: unknown) =>
      isBinary(x)
        ? `<binary ${Buffer.from(x as Uint8Array).length} bytes>`
        : typeof x === 'number' && !Number.isFinite(x)
          ? String(x)
          : x,
    );
    return s === undefined ? String(v) : s.length > 300 ? `${s.slice(0, 300)}... (${s.length} chars)` : s;
  } catch (e) {
    return `(${(e as Error).message})`;
  }
}

/* ------------------------------------------------------------------------------------------------
 * HTTP: parameters, their oracle, and hostile queries
 * ---------------------------------------------------------------------------------------------- */

/** Independent reading of a time parameter (README: "milliseconds or ISO-8601"): ms, or null when invalid. */
export function timeOf(s: string): number | null {
  let ms: number;
  if (/^[0-9]{1,16}$/.test(s)) ms = Number(s);
  else {
    const m =
      /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,3}))?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$/.exec(
        s,
      );
    if (!m) return null;
    const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if (mo < 1 || mo > 12 || d < 1 || d > days[mo - 1]! || h > 23 || mi > 59 || sec > 59) return null;
    let offset = 0;
    const zone = m[8];
    if (zone !== undefined && zone !== 'Z') {
      const [oh, om] = [Number(zone.slice(1, 3)), Number(zone.slice(4, 6))];
      if (oh > 23 || om > 59) return null;
      offset = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
    }
    // days since the epoch of a proleptic Gregorian date (no Date.UTC: its years 0-99 mean 1900-1999)
    const yy = mo <= 2 ? y - 1 : y;
    const era = Math.floor(yy / 400);
    const yoe = yy - era * 400;
    const doy = Math.floor((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5) + d - 1;
    const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
    const epochDays = era * 146_097 + doe - 719_468;
    ms = epochDays * DAY + ((h * 60 + mi) * 60 + sec) * 1000 + Number((m[7] ?? '0').padEnd(3, '0')) - offset;
  }
  return ms >= MIN_TIME_MS && ms < MAX_TIME_MS ? ms : null;
}

type Kind =
  | 'exchange'
  | 'symbol'
  | 'timeframe'
  | 'time'
  | 'ticks'
  | 'mode'
  | 'format'
  | 'kind'
  | 'date'
  | 'days'
  | 'percent'
  | 'vaMethod'
  | 'bool'
  | 'decimals'
  | 'period'
  | 'ibPeriods'
  | 'ratio'
  | 'minVolume'
  | 'stackCount';

export interface Endpoint {
  path: string;
  params: Record<string, Kind>;
  /** Most buckets in one request (range endpoints). */
  maxCandles?: number;
}

export const ENDPOINTS: Endpoint[] = [
  { path: 'instruments', params: {} },
  {
    path: 'footprint',
    params: {
      exchange: 'exchange',
      symbol: 'symbol',
      timeframe: 'timeframe',
      from: 'time',
      to: 'time',
      ticks: 'ticks',
      mode: 'mode',
      format: 'format',
    },
    maxCandles: 100_000,
  },
  {
    path: 'candles',
    params: {
      exchange: 'exchange',
      symbol: 'symbol',
      timeframe: 'timeframe',
      from: 'time',
      to: 'time',
      format: 'format',
    },
    maxCandles: 100_000,
  },
  {
    path: 'profile',
    params: {
      exchange: 'exchange',
      symbol: 'symbol',
      kind: 'kind',
      date: 'date',
      days: 'days',
      from: 'time',
      to: 'time',
      ticks: 'ticks',
      mode: 'mode',
      valueAreaPercent: 'percent',
      valueAreaMethod: 'vaMethod',
      hvnPercentile: 'percent',
      lvnPercentile: 'percent',
    },
  },
  {
    path: 'vwap',
    params: {
      exchange: 'exchange',
      symbol: 'symbol',
      timeframe: 'timeframe',
      from: 'time',
      to: 'time',
      anchor: 'time',
      session: 'bool',
      decimals: 'decimals',
    },
    maxCandles: 2000,
  },
  {
    path: 'cvd',
    params: {
      exchange: 'exchange',
      symbol: 'symbol',
      timeframe: 'timeframe',
      from: 'time',
      to: 'time',
      session: 'bool',
    },
    maxCandles: 100_000,
  },
  {
    path: 'tpo',
    params: {
      exchange: 'exchange',
      symbol: 'symbol',
      from: 'time',
      to: 'time',
      ticks: 'ticks',
      mode: 'mode',
      period: 'period',
      ibPeriods: 'ibPeriods',
    },
    maxCandles: 31 * 48,
  },
  {
    path: 'imbalances',
    params: {
      exchange: 'exchange',
      symbol: 'symbol',
      timeframe: 'timeframe',
      from: 'time',
      to: 'time',
      ticks: 'ticks',
      mode: 'mode',
      ratio: 'ratio',
      minVolume: 'minVolume',
      stackCount: 'stackCount',
    },
    maxCandles: 2000,
  },
  {
    path: 'naked-pocs',
    params: {
      exchange: 'exchange',
      symbol: 'symbol',
      timeframe: 'timeframe',
      from: 'time',
      to: 'time',
      ticks: 'ticks',
      mode: 'mode',
    },
    maxCandles: 2000,
  },
];

const intIn = (s: string, min: number, max: number) =>
  /^[0-9]{1,16}$/.test(s) && Number.isSafeInteger(Number(s)) && Number(s) >= min && Number(s) <= max;
const decimalIn = (s: string, min: number, max: number) =>
  /^[0-9]{1,9}(\.[0-9]{1,9})?$/.test(s) && Number(s) >= min && Number(s) <= max;

/** Validity of one parameter value on its own (decimals needs the instrument: checked apart). */
function valueOk(kind: Kind, s: string): boolean {
  switch (kind) {
    case 'exchange':
      return EXCHANGE_IDS.includes(s);
    case 'symbol':
      return TOKEN.test(s); // the merged form is checked with the exchange
    case 'timeframe':
      return (TIMEFRAMES as readonly string[]).includes(s);
    case 'time':
      return timeOf(s) !== null;
    case 'ticks':
      return intIn(s, 1, 10_000);
    case 'mode':
      return s === 'nearest' || s === 'down';
    case 'format':
      return s === 'json' || s === 'csv';
    case 'kind':
      return s === 'session' || s === 'range' || s === 'composite';
    case 'date':
      return /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(s) && timeOf(s) !== null;
    case 'days':
      return intIn(s, 1, 366);
    case 'percent':
      return decimalIn(s, 0.000001, 100);
    case 'vaMethod':
      return s === 'single' || s === 'cme';
    case 'bool':
      return ['true', 'false', '1', '0'].includes(s);
    case 'decimals':
      return intIn(s, 0, 30);
    case 'period':
      return s === '30' || s === '60';
    case 'ibPeriods':
      return intIn(s, 1, 48);
    case 'ratio':
      return decimalIn(s, 0.000001, 1_000_000);
    case 'minVolume':
      return intIn(s, 1, Number.MAX_SAFE_INTEGER);
    case 'stackCount':
      return intIn(s, 2, 1000);
  }
}

export type Query = Record<string, string | string[] | undefined>;

/** What the server's query parser makes of a query string (Node's querystring, no key limit). */
export function parseQuery(qs: string): Query {
  return { ...querystring.parse(qs, '&', '=', { maxKeys: 0 }) } as Query;
}

/**
 * The oracle of an /api request: every violation the query has (any one of them may be the one
 * reported), or none, and then the request must answer 200. `now` is the time `to` defaults to.
 */
export function expectHttp(ep: Endpoint, q: Query, now: number): Expectation & { ambiguous: boolean } {
  const v: Violation[] = [];
  let ambiguous = false;
  const keys = Object.keys(q);
  if (keys.some((k) => !Object.prototype.hasOwnProperty.call(ep.params, k))) v.push(bad(/^unknown parameters? /));
  /**
   * The single valid value of a known parameter, undefined when absent, null when refused (and the refusal recorded).
   */
  const val = (name: string, required: RegExp | null = null): string | undefined | null => {
    const x = q[name];
    if (x === undefined) {
      if (required) v.push(bad(required));
      return required ? null : undefined;
    }
    if (Array.isArray(x)) {
      v.push(bad(new RegExp(`^${esc(name)} must be given once`)));
      return null;
    }
    if (!valueOk(ep.params[name]!, x)) {
      v.push(bad(names(name), name === 'exchange' ? 'unknown-exchange' : 'bad-request'));
      return null;
    }
    return x;
  };
  const p = ep.params;
  if (ep.path === 'instruments') return { violations: v, ambiguous };
  const exchange = val('exchange', /^exchange is required/);
  let symbol = val('symbol', /^symbol is required/);
  if (typeof symbol === 'string' && typeof exchange === 'string' && MERGED.has(exchange) && !mergedSymbolOk(symbol)) {
    v.push(bad(names('symbol')));
    symbol = null;
  }
  const view = typeof exchange === 'string' && typeof symbol === 'string' ? viewOf(exchange, symbol) : undefined;
  if (view === null) v.push(bad(/is not a known instrument|none of its member instruments/, 'unknown-symbol'));

  /** rangeOf: from required, to defaults to now, to > from, at most maxCandles buckets of tf. */
  const range = (tf: string | null) => {
    const from = val('from', /^from is required/);
    const to = val('to');
    if (typeof from !== 'string' || to === null || tf === null) return;
    const f = timeOf(from)!;
    const t = to === undefined ? now : timeOf(to)!;
    if (t <= f) {
      v.push(bad(/^to \(.*\) must be after from/));
      return;
    }
    const len = TF_MS[tf]!;
    const count = (tt: number) => ((tt % len === 0 ? tt : tt - (tt % len) + len) - (f - (f % len))) / len;
    if (to === undefined && count(t) !== count(t + 10_000)) ambiguous = true; // `now` moves on while the request is made
    if (count(t) > ep.maxCandles!) v.push(bad(/^from\.\.to covers \d+ /));
  };
  const grouping = () => {
    val('ticks');
    val('mode');
  };
  switch (ep.path) {
    case 'footprint':
    case 'candles':
    case 'cvd':
    case 'naked-pocs':
    case 'imbalances':
    case 'vwap': {
      const tf = val('timeframe', /^timeframe is required/);
      range(typeof tf === 'string' ? tf : null);
      if ('ticks' in p) grouping();
      for (const k of ['format', 'session', 'anchor', 'ratio', 'minVolume', 'stackCount']) if (k in p) val(k);
      if ('decimals' in p) {
        const d = val('decimals');
        if (typeof d === 'string' && view && Number(d) < view.priceScale) v.push(bad(names('decimals')));
      }
      break;
    }
    case 'tpo': {
      const period = val('period');
      range(period === null ? null : period === '60' ? '1h' : '30m');
      grouping();
      val('ibPeriods');
      break;
    }
    case 'profile': {
      const given = val('kind');
      const kind = given === undefined ? 'session' : given;
      grouping();
      for (const k of ['valueAreaPercent', 'valueAreaMethod', 'hvnPercentile', 'lvnPercentile']) val(k);
      if (kind === null) break;
      const allowed = kind === 'range' ? ['from', 'to'] : kind === 'composite' ? ['date', 'days'] : ['date'];
      for (const k of ['date', 'days', 'from', 'to'])
        if (q[k] !== undefined && !allowed.includes(k)) v.push(bad(new RegExp(`^${k} does not apply to kind=${kind}`)));
      if (kind === 'range') {
        const from = val('from');
        const to = val('to');
        if (from === undefined || to === undefined) v.push(bad(/^kind=range needs from and to/));
        if (typeof from === 'string' && typeof to === 'string') {
          const f = timeOf(from)! - (timeOf(from)! % 60_000);
          const t0 = timeOf(to)!;
          const t = t0 % 60_000 === 0 ? t0 : t0 - (t0 % 60_000) + 60_000;
          if (t <= f) v.push(bad(/^to must be after from/));
          else if (t - f > 366 * DAY) v.push(bad(/^a range profile covers at most 366 days/));
        }
      } else {
        val('date');
        if (kind === 'composite') val('days');
      }
      break;
    }
  }
  return { violations: v, ambiguous };
}

/* ------------------------------------------------------------------------------------------------
 * HTTP query generators
 * ---------------------------------------------------------------------------------------------- */

const iso = (ms: number) => new Date(ms).toISOString();
const BASE_INSTRUMENTS = [
  ['binance', 'BTCUSDT'],
  ['bybit', 'BTCUSDT'],
  ['merged', 'BTC-USDT'],
] as const;

/**
 * A valid query of an endpoint, over the data, with the time as ms or ISO-8601 (built once per endpoint, in
 * endpointCase).
 */
function baseQuery(ep: Endpoint): fc.Arbitrary<[string, string][]> {
  const inst = fc.constantFrom(...BASE_INSTRUMENTS);
  const window = fc.constantFrom<[string, number, number]>(
    ['1m', DATA_FROM - 600_000, DATA_TO + 600_000],
    ['5m', DATA_FROM, DATA_TO],
    ['15m', Date.UTC(2024, 7, 8, 23), Date.UTC(2024, 7, 9, 1)],
    ['1h', Date.UTC(2024, 7, 8, 20), Date.UTC(2024, 7, 9, 4)],
    ['1d', Date.UTC(2024, 7, 7), Date.UTC(2024, 7, 10)],
  );
  const formats = [
    (ms: number) => String(ms),
    (ms: number) => iso(ms),
    (ms: number) => iso(ms).replace('.000Z', 'Z'),
    (ms: number) => iso(ms).replace(':00.000Z', '+00:00'),
  ];
  const time = (ms: number) => fc.nat(formats.length - 1).map((k) => formats[k]!(ms));
  const ranged = fc
    .tuple(inst, window, fc.nat(formats.length - 1), fc.nat(formats.length - 1))
    .map(([[exchange, symbol], [tf, from, to], a, b]): [string, string][] => [
      ['exchange', exchange],
      ['symbol', symbol],
      ['timeframe', tf],
      ['from', formats[a]!(from)],
      ['to', formats[b]!(to)],
    ]);
  switch (ep.path) {
    case 'instruments':
      return fc.constant([]);
    case 'tpo':
      return fc
        .tuple(inst, time(Date.UTC(2024, 7, 8)), time(Date.UTC(2024, 7, 10)), fc.constantFrom('30', '60'))
        .map(([[exchange, symbol], f, t, period]) => [
          ['exchange', exchange],
          ['symbol', symbol],
          ['from', f],
          ['to', t],
          ['period', period],
        ]);
    case 'profile':
      return fc
        .tuple(
          inst,
          fc.constantFrom<[string, string][]>(
            [
              ['kind', 'session'],
              ['date', '2024-08-08'],
            ],
            [],
            [
              ['kind', 'composite'],
              ['date', '2024-08-09'],
              ['days', '2'],
            ],
            [
              ['kind', 'range'],
              ['from', iso(DATA_FROM)],
              ['to', String(DATA_TO)],
            ],
          ),
        )
        .map(([[exchange, symbol], rest]) => [['exchange', exchange], ['symbol', symbol], ...rest]);
    default:
      return ranged;
  }
}

const kindCache = new Map<Kind, fc.Arbitrary<string>>();
/** Values aimed at a kind of parameter: valid ones, boundaries, near misses (built once per kind). */
function kindValues(kind: Kind): fc.Arbitrary<string> {
  let a = kindCache.get(kind);
  if (!a) kindCache.set(kind, (a = makeKindValues(kind)));
  return a;
}

function makeKindValues(kind: Kind): fc.Arbitrary<string> {
  const ints = (min: number, max: number) =>
    fc.oneof(
      fc.constantFrom(
        String(min - 1),
        String(min),
        String(min + 1),
        String(max - 1),
        String(max),
        String(max + 1),
        `00${min}`,
        `+${min}`,
        `${min}.0`,
        `${min}e0`,
        `-${min}`,
        '0x10',
        `${max}0`,
      ),
      fc
        .integer({
          min: Math.max(-1000, min - 1000),
          max: Math.min(max + 1000, Number.MAX_SAFE_INTEGER),
        })
        .map(String),
    );
  const times = fc.oneof(
    fc
      .tuple(fc.integer({ min: MIN_TIME_MS - DAY, max: MAX_TIME_MS + DAY }), fc.nat(4))
      .map(
        ([ms, k]) =>
          [
            String(ms),
            new Date(ms).toISOString(),
            new Date(ms).toISOString().slice(0, 10),
            new Date(ms).toISOString().slice(0, 16),
            new Date(ms).toISOString().replace('Z', '+05:30'),
          ][k]!,
      ),
    fc.integer({ min: DATA_FROM - 3 * DAY, max: DATA_TO + 3 * DAY }).map((ms) => new Date(ms).toISOString()),
    fc.constantFrom(
      '2024-02-30',
      '2023-02-29',
      '2024-02-29',
      '2024-13-01',
      '2024-00-10',
      '2024-08-00',
      '2024-08-09T24:00',
      '2024-08-09T23:60',
      '2024-08-09T23:59:60Z',
      '2024-08-09T00:00:00+99:99',
      '2024-08-09T00:00:00+24:00',
      '2024-08-09T00:00:00+23:59',
      '2024-08-09T00:00:00-12:00',
      '2024-08-09T00:00:00+14:00',
      '2024-08-09T00:00:00.5Z',
      '2024-08-09T00:00:00.1234Z',
      '2024-08-09t00:00:00z',
      '2024-08-09 00:00:00',
      '20240809',
      '20240809T000000Z',
      '2024-W32-5',
      '2024-222',
      '2024-08-09T00:00:00+0000',
      '2024-08-09T00',
      '2024-8-9',
      '+02024-08-09',
      '0000-01-01',
      '0024-08-09',
      '1970-01-01',
      '2009-01-02T23:59:59.999Z',
      '2009-01-03',
      '2099-12-31T23:59:59.999Z',
      '2100-01-01',
      '9999-12-31',
      '1723161600',
      '1723161600000.5',
      '-1723161600000',
      '17231616000000000',
      '1230940799999',
      '1230940800000',
      '4102444799999',
      '4102444800000',
      'now',
      'today',
      'yesterday',
      '2024-08-09T00:00:00Z ',
      ' 2024-08-09',
    ),
  );
  switch (kind) {
    case 'exchange':
      return fc.oneof(
        fc.constantFrom(
          ...EXCHANGE_IDS,
          'BINANCE',
          'Binance',
          'binance ',
          'nasdaq',
          'sim-',
          'merged-spot',
          'binance.BTCUSDT',
        ),
        fc.stringMatching(/^[a-z-]{1,16}$/),
      );
    case 'symbol':
      return fc.oneof(
        fc.constantFrom(
          'BTCUSDT',
          'BTC-USDT',
          'ETHUSDT',
          'btcusdt',
          'BTCU-SDT',
          'B-TCUSDT',
          'BTC-USDT-SWAP',
          'BTCUSDT.>',
          'BTC USDT',
          'BTC/USDT',
          'x'.repeat(64),
          'x'.repeat(65),
        ),
        fc.stringMatching(/^[A-Za-z0-9_-]{1,66}$/),
        fc.stringMatching(/^[A-Z0-9]{1,21}-[A-Z0-9]{1,21}$/),
      );
    case 'timeframe':
      return fc.constantFrom(...TIMEFRAMES, '1M', '2m', '1w', '60', '1 m', 'm1', '1D', '0m');
    case 'time':
      return times;
    case 'date':
      return fc.oneof(
        times,
        fc
          .integer({ min: MIN_TIME_MS - 3 * DAY, max: MAX_TIME_MS + 3 * DAY })
          .map((ms) => new Date(ms).toISOString().slice(0, 10)),
      );
    case 'ticks':
      return ints(1, 10_000);
    case 'days':
      return ints(1, 366);
    case 'decimals':
      return ints(0, 30);
    case 'ibPeriods':
      return ints(1, 48);
    case 'minVolume':
      return fc.oneof(
        ints(1, Number.MAX_SAFE_INTEGER),
        fc.constantFrom('9007199254740991', '9007199254740992', '9007199254740993'),
      );
    case 'stackCount':
      return ints(2, 1000);
    case 'percent':
    case 'ratio':
      return fc.oneof(
        fc.constantFrom(
          '0',
          '0.0',
          '0.000001',
          '0.0000001',
          '0.0000009',
          '100',
          '100.0',
          '100.000000001',
          '70',
          '3',
          '2.5',
          '1000000',
          '1000000.000000001',
          '1e2',
          '.5',
          '5.',
          '-3',
          '1,5',
          '999999999.999999999',
          '1234567890',
        ),
        fc
          .tuple(fc.nat(2_000_000), fc.nat(999_999_999), fc.integer({ min: 0, max: 10 }))
          .map(([i, f, n]) => (n === 0 ? String(i) : `${i}.${String(f).padStart(9, '0').slice(0, n)}`)),
      );
    case 'mode':
      return fc.constantFrom('nearest', 'down', 'up', 'NEAREST', 'Down', '');
    case 'format':
      return fc.constantFrom('json', 'csv', 'CSV', 'xml', 'json ', 'csv\u0000', 'tsv', 'parquet', '');
    case 'kind':
      return fc.constantFrom('session', 'range', 'composite', 'Session', 'weekly', '');
    case 'vaMethod':
      return fc.constantFrom('single', 'cme', 'CME', 'double', '');
    case 'bool':
      return fc.constantFrom(
        'true',
        'false',
        '1',
        '0',
        'TRUE',
        'True',
        'yes',
        'no',
        'on',
        'off',
        '',
        ' true',
        '2',
        '-1',
        't',
        'f',
      );
    case 'period':
      return fc.constantFrom('30', '60', '15', '030', '30.0', '3e1', '', '-30');
  }
}

/** Any hostile text for a query value. */
const hostileText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(...SQL, ...UNICODE, ...NUMERIC_TEXT, ...PROTO_KEYS, ...MISC_TEXT),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 65, max: 3000 }), fc.constantFrom('A', '9', '['))
      .map(([n, c]) => c.repeat(n)),
  },
  { weight: 1, arbitrary: fc.double().map(String) },
  {
    weight: 1,
    arbitrary: fc.bigInt({ min: -(2n ** 128n), max: 2n ** 128n }).map(String),
  },
);

/** Percent-encodes the UTF-8 text for a query (a lone surrogate is sent as U+FFFD's bytes, as Node would send it). */
export function encode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    /* a lone surrogate: byte by byte */
  }
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Query text that is not clean percent-encoding: broken escapes, invalid UTF-8, '+' for a space. */
const RAW_VALUES = [
  '%',
  '%zz',
  '%C3%28',
  '%E2%82',
  '%00',
  '%FF%FE',
  '%u0041',
  '%%32%30',
  '+',
  '+1',
  '1+1',
  '%2B1',
  '%0d%0aX-Injected:%201',
  '%C0%AF',
  '%ED%A0%80',
  '%F4%90%80%80',
];

export interface HttpCase {
  endpoint: Endpoint;
  /** The query string as sent. */
  qs: string;
  /** Which parameters the fuzzer touched (for the per-parameter tally). */
  touched: string[];
}

type Seg = { key: string; text: string };

/** Hostile queries of one endpoint: its valid query damaged by 1-3 operations. */
function endpointCase(ep: Endpoint): fc.Arbitrary<HttpCase> {
  const names = Object.keys(ep.params);
  const others = fc.oneof(
    ...(['exchange', 'symbol', 'timeframe', 'time', 'ticks', 'percent', 'bool', 'kind'] as Kind[]).map(kindValues),
  );
  const values = new Map<string | null, fc.Arbitrary<string>>([[null, fc.oneof(hostileText, others)]]);
  for (const n of names)
    values.set(
      n,
      fc.oneof(
        { weight: 2, arbitrary: kindValues(ep.params[n]!) },
        { weight: 5, arbitrary: hostileText },
        { weight: 1, arbitrary: others },
      ),
    );
  const value = (name: string | null): fc.Arbitrary<string> => values.get(name)!;
  const unknownKey = fc.oneof(
    fc.constantFrom(
      'limit',
      'Exchange',
      'EXCHANGE',
      'exchange[]',
      'exchange[0]',
      'symbol.x',
      'from ',
      ' to',
      'ticks\u0000',
      'tick',
      'timeframe',
      'format',
      'kind',
      'date',
      'anchor',
      'period',
      'session',
      '',
      ' ',
      ...PROTO_KEYS,
      'a'.repeat(300),
    ),
    fc.string({ unit: 'grapheme', maxLength: 10 }),
  );
  type Op = (segs: Seg[]) => void;
  const ops: fc.Arbitrary<{ op: Op; touched: string }>[] = [
    fc.tuple(unknownKey, value(null)).map(([k, x]) => ({
      op: (s: Seg[]) => void s.push({ key: k, text: `${encode(k)}=${encode(x)}` }),
      touched: `(unknown)`,
    })),
    fc.tuple(fc.constantFrom(...RAW_VALUES), fc.nat()).map(([raw, i]) => ({
      op: (s: Seg[]) => {
        const name = names.length ? names[i % names.length]! : 'x';
        for (const seg of s) if (seg.key === name) seg.text = `${encode(name)}=${raw}`;
        if (!s.some((x) => x.key === name)) s.push({ key: name, text: `${encode(name)}=${raw}` });
      },
      touched: names.length ? names[i % names.length]! : '(unknown)',
    })),
    fc.constantFrom<{ op: Op; touched: string }>(
      {
        op: (s) => void s.push({ key: '', text: '' }, { key: '', text: '' }),
        touched: '(empty pairs)',
      },
      { op: (s) => void s.push({ key: '', text: '=x' }), touched: '(unknown)' },
      {
        op: (s) => void s.push({ key: 'lonely', text: 'lonely' }),
        touched: '(unknown)',
      },
    ),
  ];
  if (names.length > 0) {
    ops.push(
      fc.oneof(
        ...names.map((name) =>
          value(name).map((x) => ({
            op: (s: Seg[]) => {
              const seg = s.find((y) => y.key === name);
              if (seg) seg.text = `${encode(name)}=${encode(x)}`;
              else s.push({ key: name, text: `${encode(name)}=${encode(x)}` });
            },
            touched: name,
          })),
        ),
      ),
      fc.constantFrom(...names).map((name) => ({
        op: (s: Seg[]) => void s.splice(0, s.length, ...s.filter((y) => y.key !== name)),
        touched: name,
      })),
      fc.tuple(fc.constantFrom(...names), fc.oneof(fc.constant(null), value(null))).map(([name, x]) => ({
        op: (s: Seg[]) => {
          const seg = s.find((y) => y.key === name);
          s.push({
            key: name,
            text: x === null && seg ? seg.text : `${encode(name)}=${encode(x ?? '1')}`,
          });
        },
        touched: name,
      })),
      fc.constantFrom(...names).map((name) => ({
        op: (s: Seg[]) => void s.push({ key: name, text: encode(name) }),
        touched: name,
      })),
    );
  }
  // setting a parameter (index 3) is most of it; unknown keys, raw escapes, empty pairs, deletions, duplicates, bare
  // keys the rest
  const weighted = ops.map((arbitrary, i) => ({
    weight: i === 3 ? 12 : i === 2 || i === 4 ? 1 : 2,
    arbitrary,
  }));
  return fc
    .tuple(baseQuery(ep), fc.array(fc.oneof(...weighted), { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([base, muts, shuffle]): HttpCase => {
      const segs: Seg[] = base.map(([k, x]) => ({
        key: k,
        text: `${encode(k)}=${encode(x)}`,
      }));
      for (const m of muts) m.op(segs);
      if (shuffle) segs.reverse();
      return {
        endpoint: ep,
        qs: segs.map((s) => s.text).join('&'),
        touched: [...new Set(muts.map((m) => m.touched))],
      };
    });
}

export const httpCase: fc.Arbitrary<HttpCase> = fc
  .oneof(...ENDPOINTS.map(endpointCase))
  .filter((c) => c.qs.length < 12_000);
