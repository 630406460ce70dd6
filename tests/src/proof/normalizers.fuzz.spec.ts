/**
 * Hostile input for every exchange normaliser (libs/normalizers): ≥ 100,000 generated frames per
 * WebSocket normaliser (Binance, Bybit, OKX) and 25,000 per REST reader, far more hostile than the
 * libraries' own fuzz tests (which splice short junk into one canonical frame): deep nesting, huge
 * and non-finite numbers, wrong types, SQL fragments in symbols and ids, 1 MB strings, lone
 * surrogates and replacement characters (what invalid UTF-8 becomes once a WebSocket text frame is
 * decoded), NUL bytes and prototype-pollution keys.
 *
 * Each frame must either give trades that satisfy every invariant of a Trade (known symbol, safe
 * positive integers, a short plain id, a side) or throw a NormalizeError with a known code and a
 * non-empty reason. Nothing else may escape, nothing may pollute Object.prototype, and no promise
 * may be left rejected.
 */
import { instrumentFromSteps, type Instrument, type Trade } from '@orderflow/footprint';
import {
  NormalizeError,
  normalizeBinanceAggTrade,
  normalizeBinanceRestAggTrades,
  normalizeBybitRecentTrades,
  normalizeBybitTrades,
  normalizeOkxHistoryTrades,
  normalizeOkxTrades,
} from '@orderflow/normalizers';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const RUNS = Number(process.env['PROOF_FUZZ_RUNS'] ?? 100_000);
const REST_RUNS = Math.max(1000, Math.floor(RUNS / 4));
const RECV = 1_735_689_600_123;
const CODES = new Set(['MALFORMED_JSON', 'UNEXPECTED_SHAPE', 'INVALID_FIELD', 'UNKNOWN_SYMBOL']);

const binance = { exchange: 'binance', instruments: new Map<string, Instrument>([['BTCUSDT', instrumentFromSteps('binance', 'BTCUSDT', '0.01', '0.00001')]]) };
const bybit = { exchange: 'bybit', instruments: new Map<string, Instrument>([['BTCUSDT', instrumentFromSteps('bybit', 'BTCUSDT', '0.01', '0.000001')]]) };
const okx = { exchange: 'okx', instruments: new Map<string, Instrument>([['BTC-USDT', instrumentFromSteps('okx', 'BTC-USDT', '0.1', '0.00000001')]]) };

const MB = 'A'.repeat(1 << 20);
const MB_DIGITS = '9'.repeat(1 << 20);
const deep = (n: number, open = '[', close = ']') => open.repeat(n) + close.repeat(n);
const deepObj = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

/** Raw JSON text fragments (valid or not) that replace one field's value. */
const hostileValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(
    'NaN', 'Infinity', '-Infinity', '"NaN"', '"Infinity"', '"-Infinity"', '"-0"', '-0', '0', '"0"', '"0.0"', '-1', '"-1"', '"+1"',
    '1e308', '1e309', '-1e309', '"1e308"', '"1e-308"', '9007199254740993', '"9007199254740993"', '"99999999999999999999999999999999.99"',
    '1.7976931348623157e308', '"0x10"', '"1_000"', '" 1"', '"1 "', '"１２"', '"1.2.3"', '"."', '""', 'null', 'true', 'false', '[]', '{}', '[1]', '{"$gt":""}',
    `"BTCUSDT'; DROP TABLE trades; --"`, `"' OR 1=1 --"`, '"\\\\\'"', '"x\\u0000y"', '"\\ud800"', '"\\udfff\\ud800"', '"\\ufffd\\ufffd"', '"\u00ff\u00fe"',
    '"__proto__"', '"constructor"', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}',
    `"${MB}"`, MB_DIGITS, `"${MB_DIGITS}"`, deep(10_000), deepObj(5_000), `[${'1,'.repeat(100_000)}1]`,
  ) },
  { weight: 2, arbitrary: fc.double().map((d) => String(d)) },
  { weight: 2, arbitrary: fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }).map((b) => (Math.random() < 0.5 ? `"${b}"` : String(b))) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) }, // not even JSON
  { weight: 2, arbitrary: fc.json({ depthSize: 'medium' }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((n) => deep(n)) },
);

/** A frame template as [key, raw JSON value] pairs. */
type Template = [string, string][];

/**
 * Text of a frame built from `fields`, with some values replaced by hostile ones, keys dropped,
 * duplicated, renamed to prototype keys, or the whole text cut, wrapped and spliced with junk.
 */
function hostileObject(fields: Template): fc.Arbitrary<string> {
  return fc
    .record({
      replace: fc.array(fc.tuple(fc.nat(fields.length - 1), hostileValue), { minLength: 1, maxLength: 3 }),
      drop: fc.option(fc.nat(fields.length - 1), { freq: 4 }),
      protoKey: fc.option(fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype', '__defineGetter__', 'toString', 'hasOwnProperty'), hostileValue), { freq: 4 }),
      dupKey: fc.option(fc.tuple(fc.nat(fields.length - 1), hostileValue), { freq: 5 }),
    })
    .map(({ replace, drop, protoKey, dupKey }) => {
      const f = fields.map(([k, v]) => [k, v] as [string, string]);
      for (const [i, v] of replace) f[i]![1] = v;
      if (drop !== null) f.splice(drop, 1);
      if (protoKey) f.unshift([protoKey[0], protoKey[1]]);
      if (dupKey && fields[dupKey[0]]) f.push([fields[dupKey[0]]![0], dupKey[1]]);
      return `{${f.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
    });
}

/** Byte-level damage to any text: cut, splice junk, lone surrogates / NUL / replacement chars. */
function damaged(text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 5, arbitrary: text },
    {
      weight: 2,
      arbitrary: fc.tuple(text, fc.nat(), fc.nat(30), fc.oneof(fc.string({ unit: 'binary', maxLength: 10 }), fc.constantFrom('\ud800', '\udc00', '\u0000', '\ufffd', '\u2028', '"', '\\', '}', ']', ','))).map(([t, at, cut, junk]) => {
        const i = at % (t.length + 1);
        return t.slice(0, i) + junk + t.slice(i + cut);
      }),
    },
    { weight: 1, arbitrary: fc.tuple(text, fc.nat()).map(([t, at]) => t.slice(0, at % (t.length + 1))) },
  );
}

const binanceTrade: Template = [['e', '"aggTrade"'], ['E', '1735689600100'], ['s', '"BTCUSDT"'], ['a', '3358000001'], ['p', '"93512.34000000"'], ['q', '"0.01234000"'], ['f', '4400000001'], ['l', '4400000003'], ['T', '1735689600099'], ['m', 'false'], ['M', 'true']];
const binanceFrames = damaged(
  fc.oneof(
    hostileObject(binanceTrade),
    fc.tuple(hostileObject(binanceTrade), hostileValue).map(([d, stream]) => `{"stream":${Math.random() < 0.5 ? '"btcusdt@aggTrade"' : stream},"data":${d}}`),
    hostileObject([['stream', '"btcusdt@aggTrade"'], ['data', binanceTrade.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',').replace(/^/, '{').replace(/$/, '}')]]),
    hostileObject([['result', 'null'], ['id', '1']]),
  ),
);

const bybitTrade: Template = [['T', '1672304486865'], ['s', '"BTCUSDT"'], ['S', '"Buy"'], ['v', '"0.001"'], ['p', '"16578.50"'], ['L', '"PlusTick"'], ['i', '"20f43950-d8dd-5b31-9112-a178eb6023af"'], ['BT', 'false'], ['seq', '1783284617']];
const bybitFrames = damaged(
  fc.oneof(
    fc.array(hostileObject(bybitTrade), { minLength: 1, maxLength: 3 }).map((ts) => `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[${ts.join(',')}]}`),
    fc.tuple(hostileObject(bybitTrade), hostileValue).map(([t, topic]) => `{"topic":${topic},"type":"snapshot","ts":1672304486868,"data":[${t}]}`),
    hostileObject([['topic', '"publicTrade.BTCUSDT"'], ['type', '"snapshot"'], ['ts', '1'], ['data', `[${bybitTrade.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',').replace(/^/, '{').replace(/$/, '}')}]`]]),
  ),
);

const okxTrade: Template = [['instId', '"BTC-USDT"'], ['tradeId', '"130639474"'], ['px', '"42219.9"'], ['sz', '"0.12060306"'], ['side', '"buy"'], ['ts', '"1630048897897"'], ['count', '"3"'], ['source', '"0"'], ['seqId', '1234']];
const okxFrames = damaged(
  fc.oneof(
    fc.array(hostileObject(okxTrade), { minLength: 1, maxLength: 3 }).map((ts) => `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[${ts.join(',')}]}`),
    fc.tuple(hostileObject(okxTrade), hostileValue, hostileValue).map(([t, ch, inst]) => `{"arg":{"channel":${Math.random() < 0.5 ? '"trades-all"' : ch},"instId":${inst}},"data":[${t}]}`),
    hostileObject([['arg', '{"channel":"trades","instId":"BTC-USDT"}'], ['data', `[${okxTrade.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',').replace(/^/, '{').replace(/$/, '}')}]`]]),
    fc.constantFrom('pong', 'ping', 'PONG', ''),
  ),
);

const binanceRest = damaged(fc.array(hostileObject([['a', '26129'], ['p', '"0.01633102"'], ['q', '"4.70443515"'], ['f', '27781'], ['l', '27781'], ['T', '1498793709153'], ['m', 'true'], ['M', 'true']]), { maxLength: 3 }).map((a) => `[${a.join(',')}]`));
const bybitRest = damaged(fc.array(hostileObject([['execId', '"2100000000007764263"'], ['symbol', '"BTCUSDT"'], ['price', '"16618.49"'], ['size', '"0.00012"'], ['side', '"Buy"'], ['time', '"1672052955758"'], ['isBlockTrade', 'false']]), { maxLength: 3 }).map((l) => `{"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[${l.join(',')}]},"time":1672053054358}`));
const okxRest = damaged(fc.array(hostileObject([['instId', '"BTC-USDT"'], ['side', '"sell"'], ['sz', '"0.00001"'], ['px', '"29963.2"'], ['source', '"0"'], ['tradeId', '"242720720"'], ['ts', '"1654161646974"']]), { maxLength: 3 }).map((d) => `{"code":"0","msg":"","data":[${d.join(',')}]}`));

interface Tally {
  frames: number;
  /** Must stay 0: a RangeError escaping instead of a NormalizeError (a deep value stringified into a reason), fixed by describeValue() */
  stackOverflows: number;
  /** Must stay 0: reasons over 2,000 characters (raw input echoed into a reason) */
  longReasons: number;
  /** Must stay 0: accepted trade ids that are not plain [0-9A-Za-z-] (NUL, spaces, full-width digits, "0.0") */
  oddIds: number;
  oddIdExamples: string[];
  accepted: number;
  rejected: Record<string, number>;
  control: number;
}

/** The one acceptable outcome set: valid trades, a control frame, or a NormalizeError with a code and a reason. */
function check(tally: Tally, symbols: ReadonlySet<string>, run: () => Trade | Trade[] | { control: true }): void {
  tally.frames++;
  let out;
  try {
    out = run();
  } catch (e) {
    if (e instanceof RangeError && /call stack/.test(e.message)) {
      tally.stackOverflows++;
      return;
    }
    if (!(e instanceof NormalizeError)) throw new Error(`not a NormalizeError: ${String(e).slice(0, 300)}`, { cause: e });
    if (!CODES.has(e.code) || typeof e.reason !== 'string' || e.reason.trim().length === 0) throw new Error(`a reject without a code or reason: ${e.code} ${e.reason}`, { cause: e });
    if (e.reason.length > 2000) tally.longReasons++;
    tally.rejected[e.code] = (tally.rejected[e.code] ?? 0) + 1;
    return;
  }
  if (!Array.isArray(out) && 'control' in out) {
    tally.control++;
    return;
  }
  for (const t of Array.isArray(out) ? out : [out]) {
    tally.accepted++;
    const ok =
      symbols.has(t.symbol) &&
      Number.isSafeInteger(t.price) && t.price > 0 &&
      Number.isSafeInteger(t.quantity) && t.quantity > 0 &&
      Number.isSafeInteger(t.exchangeTimeUs) && t.exchangeTimeUs > 0 &&
      (t.side === 'buy' || t.side === 'sell') &&
      typeof t.id === 'string' && t.id.length >= 1 && t.id.length <= 64; // what FootprintStore stores (TSV-escaped)
    if (ok && !/^[0-9A-Za-z-]{1,64}$/.test(t.id)) {
      tally.oddIds++;
      if (tally.oddIdExamples.length < 5) tally.oddIdExamples.push(JSON.stringify(t.id));
    }
    if (!ok) throw new Error(`accepted an invalid trade: ${JSON.stringify(t).slice(0, 300)}`);
  }
}

describe('hostile frames against every exchange normaliser', () => {
  const rejections: unknown[] = [];
  const onRejection = (r: unknown) => void rejections.push(r);
  const tallies: Record<string, Tally> = {};
  beforeAll(() => void process.on('unhandledRejection', onRejection));
  afterAll(() => {
    process.off('unhandledRejection', onRejection);
    for (const [name, t] of Object.entries(tallies)) console.log(`[proof] fuzz ${name}: ${t.frames} frames, ${t.accepted} trades accepted (all valid), ${t.control} control frames, rejected ${JSON.stringify(t.rejected)}; known defects: ${t.stackOverflows} RangeError escapes, ${t.longReasons} reasons > 2000 chars, ${t.oddIds} accepted odd ids ${t.oddIdExamples.join(' ')}`);
  });

  const cases: [string, fc.Arbitrary<string>, number, ReadonlySet<string>, (text: string) => Trade | Trade[] | { control: true }][] = [
    ['binance aggTrade (WebSocket)', binanceFrames, RUNS, new Set(['BTCUSDT']), (t) => normalizeBinanceAggTrade(t, binance, RECV)],
    ['bybit publicTrade (WebSocket)', bybitFrames, RUNS, new Set(['BTCUSDT']), (t) => normalizeBybitTrades(t, bybit, RECV)],
    ['okx trades (WebSocket)', okxFrames, RUNS, new Set(['BTC-USDT']), (t) => normalizeOkxTrades(t, okx, RECV)],
    ['binance aggTrades (REST)', binanceRest, REST_RUNS, new Set(['BTCUSDT']), (t) => normalizeBinanceRestAggTrades(t, 'BTCUSDT', binance, RECV)],
    ['bybit recent-trade (REST)', bybitRest, REST_RUNS, new Set(['BTCUSDT']), (t) => normalizeBybitRecentTrades(t, bybit, RECV)],
    ['okx history-trades (REST)', okxRest, REST_RUNS, new Set(['BTC-USDT']), (t) => normalizeOkxHistoryTrades(t, okx, RECV)],
  ];
  for (const [name, frames, runs, symbols, fn] of cases)
    it(`${name}: ${runs.toLocaleString('en')} hostile frames, no crash, every reject with a reason`, () => {
      const tally: Tally = (tallies[name] = { frames: 0, accepted: 0, rejected: {}, control: 0, stackOverflows: 0, longReasons: 0, oddIds: 0, oddIdExamples: [] });
      fc.assert(
        fc.property(frames, (text) => check(tally, symbols, () => fn(text))),
        { numRuns: runs, seed: Number(process.env['PROOF_FUZZ_SEED'] ?? 9) },
      );
      expect(tally.frames).toBeGreaterThanOrEqual(runs);
      // no escape from the normaliser and no input echoed at length into a reason
      expect(tally.stackOverflows).toBe(0);
      expect(tally.longReasons).toBe(0);
      expect(tally.oddIdExamples).toEqual([]); // ids are plain [0-9A-Za-z-] (OKX: digits)
      expect(Object.keys(tally.rejected).length).toBeGreaterThan(1);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
      expect(rejections).toEqual([]);
    }, 600_000);
});
