import { describe, expect, it } from 'vitest';
import { RequestError } from '../request.error.js';
import { checkQueryKeys, parseExchange, parseSymbol, parseTime, queryDecimal, queryInt, queryValue } from './params.js';
import { parseSubscribeRequest, parseUnsubscribeRequest } from './subscribe.request.js';

const refused = (f: () => unknown): RequestError => {
  try {
    f();
  } catch (e) {
    if (e instanceof RequestError) return e;
    throw e;
  }
  throw new Error('accepted');
};

describe('request validation', () => {
  const valid = { exchange: 'binance', symbol: 'BTCUSDT', timeframe: '1m', ticks: 10, candles: 500 };

  it('accepts a subscribe request and defaults the mode', () => {
    expect(parseSubscribeRequest(valid, 2000)).toEqual({ ...valid, mode: 'nearest' });
    expect(parseSubscribeRequest({ ...valid, exchange: 'merged', symbol: 'BTC-USDT', mode: 'down' }, 2000).mode).toBe(
      'down',
    );
  });

  it.each([
    [undefined, /must be an object/],
    ['x', /must be an object/],
    [[valid], /must be an object/],
    [{ ...valid, extra: 1 }, /unknown field "extra"/],
    [{ ...valid, ticks: undefined }, /ticks is required/],
    [{ ...valid, ticks: 0 }, /ticks must be an integer from 1 to 10000, got 0/],
    [{ ...valid, ticks: 1.5 }, /ticks must be an integer/],
    [{ ...valid, ticks: Number.MAX_SAFE_INTEGER + 2 }, /ticks must be an integer/],
    [{ ...valid, ticks: Infinity }, /ticks must be an integer/],
    [{ ...valid, candles: 2001 }, /candles must be an integer from 1 to 2000/],
    [{ ...valid, candles: '5' }, /candles must be an integer/],
    [{ ...valid, timeframe: '3m' }, /timeframe must be one of 1m, 5m, 15m, 30m, 1h, 4h, 1d/],
    [{ ...valid, symbol: "BTC' OR 1=1 --" }, /symbol must be 1-64 characters/],
    [{ ...valid, symbol: 'a.b' }, /symbol must be 1-64 characters/],
    [{ ...valid, symbol: '' }, /symbol must be 1-64 characters/],
    [{ ...valid, exchange: 'merged', symbol: 'BTCUSDT' }, /BASE-QUOTE/],
    [{ ...valid, mode: 'up' }, /mode must be "nearest" or "down"/],
  ])('refuses %j', (body, reason) => {
    const e = refused(() => parseSubscribeRequest(body, 2000));
    expect(e.code).toBe('bad-request');
    expect(e.message).toMatch(reason);
  });

  it('names unknown exchanges with the known ids', () => {
    const e = refused(() => parseExchange('nyse'));
    expect(e.code).toBe('unknown-exchange');
    expect(e.message).toMatch(/binance, binance-futures, bybit, bybit-linear, okx, .*merged, merged-perp/);
    expect(refused(() => parseExchange("binance'--")).code).toBe('unknown-exchange');
    expect(refused(() => parseSymbol(5, 'binance')).message).toMatch(/symbol must be a string, got 5/);
  });

  it('a merged symbol splits its pair as its members do (found by the gateway fuzzer: merged B-TCUSDT served BTCUSDT)', () => {
    expect(parseSymbol('BTC-USDT', 'merged')).toBe('BTC-USDT');
    expect(parseSymbol('1000PEPE-USDT', 'merged-perp')).toBe('1000PEPE-USDT');
    expect(parseSymbol('BTC-TUSD', 'merged')).toBe('BTC-TUSD');
    expect(parseSymbol('FOO-BARX', 'sim-merged')).toBe('FOO-BARX'); // no known quote asset: nothing to confuse it with
    for (const [v, pair] of <[string, string][]>[
      ['B-TCUSDT', 'BTC-USDT'],
      ['BTCU-SDT', 'BTC-USDT'],
      ['BTCUSD-T', 'BTC-USDT'],
      ['BTCT-USD', 'BTC-TUSD'],
      ['ETHB-TC', 'ETH-BTC'],
    ]) {
      const e = refused(() => parseSymbol(v, 'merged'));
      expect(e.code).toBe('bad-request');
      expect(e.message).toBe(`symbol "${v}" of merged splits the pair wrongly: ${v.replace('-', '')} is ${pair}`);
    }
    expect(
      refused(() => parseSubscribeRequest({ ...valid, exchange: 'merged', symbol: 'BTCU-SDT' }, 2000)).message,
    ).toMatch(/^symbol "BTCU-SDT" of merged splits the pair wrongly/);
  });

  it('unsubscribe needs a subscription id string', () => {
    expect(parseUnsubscribeRequest({ subscriptionId: 's1' })).toBe('s1');
    expect(refused(() => parseUnsubscribeRequest({ subscriptionId: 1 })).message).toMatch(/subscriptionId must be/);
    expect(refused(() => parseUnsubscribeRequest({ id: 's1' })).message).toMatch(/unknown field "id"/);
  });

  it('HTTP integers are plain digits in range, given once', () => {
    expect(queryInt({ n: '42' }, 'n', 1, 100)).toBe(42);
    expect(queryInt({}, 'n', 1, 100, 7)).toBe(7);
    for (const v of ['4.2', '1e3', ' 4', '0x10', '101', '99999999999999999999', ''])
      expect(() => queryInt({ n: v }, 'n', 1, 100)).toThrow(/n must be an integer from 1 to 100/);
    expect(() => queryValue({ n: ['1', '2'] }, 'n')).toThrow(/n must be given once/);
    expect(queryDecimal({ r: '2.5' }, 'r', 0.1, 10, 3)).toBe(2.5);
    expect(() => queryDecimal({ r: '-2' }, 'r', 0.1, 10, 3)).toThrow(/r must be a decimal number from 0.1 to 10/);
    expect(() => checkQueryKeys({ a: '1', b: '2' }, ['a'])).toThrow(/unknown parameter "b" \(allowed: a\)/);
  });

  it('times: ms or ISO-8601 (UTC unless an offset), between 2009 and 2100', () => {
    expect(parseTime('1723161255000', 'from')).toBe(1723161255000);
    expect(parseTime('2024-08-09', 'from')).toBe(Date.UTC(2024, 7, 9));
    expect(parseTime('2024-08-09T01:02:03.5Z', 'from')).toBe(Date.UTC(2024, 7, 9, 1, 2, 3, 500));
    expect(parseTime('2024-08-09T01:02', 'from')).toBe(Date.UTC(2024, 7, 9, 1, 2));
    expect(parseTime('2024-08-09T02:00:00+02:00', 'from')).toBe(Date.UTC(2024, 7, 9));
    expect(() => parseTime('2024-02-30', 'from')).toThrow(/not a valid date-time/);
    expect(() => parseTime('2024-08-09T25:00:00Z', 'from')).toThrow(/not a valid date-time/);
    expect(() => parseTime('1000', 'from')).toThrow(/between 2009-01-03 and 2100-01-01/);
    expect(() => parseTime('tomorrow', 'from')).toThrow(
      /from must be milliseconds since the epoch or an ISO-8601 time/,
    );
  });

  it('times: a UTC offset is at most ±23:59 (found by the gateway fuzzer: +24:00 and +99:99 moved the time by days)', () => {
    expect(parseTime('2024-08-09T23:59:00+23:59', 'to')).toBe(Date.UTC(2024, 7, 9));
    expect(parseTime('2024-08-09T00:00:00-23:59', 'to')).toBe(Date.UTC(2024, 7, 9, 23, 59));
    for (const v of [
      '2024-08-09T00:00:00+24:00',
      '2024-08-09T00:00:00+99:99',
      '2024-08-09T00:00-00:60',
      '2024-08-09T00:00:00.000+23:60',
    ]) {
      const e = refused(() => parseTime(v, 'to'));
      expect(e.code).toBe('bad-request');
      expect(e.message).toMatch(/^to ".*" has an invalid UTC offset: at most ±23:59$/);
    }
  });
});
