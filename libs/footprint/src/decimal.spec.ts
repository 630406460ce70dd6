import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decimalsOf,
  divRoundHalfEven,
  formatFixed,
  formatFixedTrimmed,
  formatRatio,
  isqrt,
  parseFixed,
  parseRatio,
} from './decimal.js';
import { DecimalError } from './errors.js';
import { groupPrice } from './grouping.js';
import { instrumentFromSteps, stepOf } from './instrument.js';
import { refGroup } from './testing/reference.js';

describe('parseFixed', () => {
  it.each([
    ['64123.10', 2, 6_412_310],
    ['0.00150000', 5, 150],
    ['0.00150000', 8, 150_000],
    ['123', 0, 123],
    ['123.', 2, 12_300],
    ['.5', 1, 5],
    ['0', 3, 0],
    ['000042.4200', 2, 4242],
    ['9007199254740991', 0, Number.MAX_SAFE_INTEGER],
    ['90071992547.40991', 5, Number.MAX_SAFE_INTEGER],
  ])('%s at scale %i is %i units', (text, scale, units) => {
    expect(parseFixed(text, scale)).toBe(units);
  });

  it.each([
    ['', 'INVALID_DECIMAL'],
    ['.', 'INVALID_DECIMAL'],
    ['-1', 'INVALID_DECIMAL'],
    ['+1', 'INVALID_DECIMAL'],
    ['1e5', 'INVALID_DECIMAL'],
    ['1.2.3', 'INVALID_DECIMAL'],
    [' 1', 'INVALID_DECIMAL'],
    ['1,5', 'INVALID_DECIMAL'],
    ['NaN', 'INVALID_DECIMAL'],
    ['0.001', 'PRECISION_LOSS'],
    ['9007199254740992', 'UNSAFE_INTEGER'],
    ['99999999999999999999999', 'UNSAFE_INTEGER'],
  ])('rejects %j with %s', (text, code) => {
    const scale = code === 'PRECISION_LOSS' ? 2 : 0;
    let err: unknown;
    try {
      parseFixed(text, scale);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DecimalError);
    expect((err as DecimalError).code).toBe(code);
  });

  it('round-trips through formatFixed for every safe value and scale', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: 15 }),
        (units, scale) => {
          expect(parseFixed(formatFixed(units, scale), scale)).toBe(units);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('agrees with a bigint parse of random decimal strings', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{1,7}(\.[0-9]{0,8})?$/), (text) => {
        const [i, f = ''] = text.split('.');
        const want = BigInt(i!) * 10n ** 8n + BigInt((f + '00000000').slice(0, 8));
        expect(parseFixed(text, 8)).toBe(Number(want));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('formatting', () => {
  it('prints exact decimals', () => {
    expect(formatFixed(150, 5)).toBe('0.00150');
    expect(formatFixed(6_412_310, 2)).toBe('64123.10');
    expect(formatFixed(-5, 2)).toBe('-0.05');
    expect(formatFixed(7, 0)).toBe('7');
    expect(formatFixedTrimmed(150, 5)).toBe('0.0015');
    expect(formatFixedTrimmed(6_412_300, 2)).toBe('64123');
    expect(() => formatFixed(0.5, 2)).toThrow(DecimalError);
  });

  it('rounds ratios half to even', () => {
    expect(formatRatio(1n, 8n, 2)).toBe('0.12'); // 0.125 -> 0.12
    expect(formatRatio(3n, 8n, 2)).toBe('0.38'); // 0.375 -> 0.38
    expect(formatRatio(2n, 3n, 3)).toBe('0.667');
    expect(formatRatio(-1n, 8n, 2)).toBe('-0.12');
    expect(divRoundHalfEven(5n, 2n)).toBe(2n);
    expect(divRoundHalfEven(7n, 2n)).toBe(4n);
  });

  it('takes exact integer square roots', () => {
    expect(isqrt(0n)).toBe(0n);
    expect(isqrt(15n)).toBe(3n);
    expect(isqrt(16n)).toBe(4n);
    const big = 12_345_678_901_234_567_890n;
    expect(isqrt(big * big)).toBe(big);
    expect(isqrt(big * big - 1n)).toBe(big - 1n);
  });

  it('isqrt is the exact floor for any size, quickly (a float start froze VWAP bands with many decimals, and is Infinity past 2^1024)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 1n << 2200n }), fc.bigInt({ min: 0n, max: 1n << 64n }), (k, d) => {
        const n = k * k + (d % (2n * k + 1n)); // k^2 <= n < (k+1)^2
        expect(isqrt(n)).toBe(k);
      }),
      { numRuns: 2000 },
    );
    // the shape of the request that froze the gateway: variance x 10^(2 x 30 decimals)
    const n = 123_456_789_012_345_678_901_234_567n * 10n ** 60n + 987_654_321n;
    const r = isqrt(n);
    expect(r * r <= n && (r + 1n) * (r + 1n) > n).toBe(true);
  });

  it('parses ratios exactly', () => {
    expect(parseRatio('2.5', 'r')).toEqual({ num: 25n, den: 10n });
    expect(parseRatio(3, 'r')).toEqual({ num: 3n, den: 1n });
    expect(() => parseRatio(0, 'ratio')).toThrow(/ratio must be a positive number/);
    expect(() => parseRatio('abc', 'ratio')).toThrow(/ratio must be a positive decimal/);
    expect(decimalsOf('0.010')).toBe(3);
  });
});

describe('grouping to N ticks', () => {
  it('rounds to the nearest multiple, ties to the even multiple (hand-worked)', () => {
    // step 4: 5 -> 1.25 -> 4; 6 -> 1.5 -> 2 (even) -> 8; 2 -> 0.5 -> 0 -> 0; 10 -> 2.5 -> 2 -> 8; 14 -> 3.5 -> 4 -> 16
    expect([5, 6, 2, 10, 14, 7, 8].map((p) => groupPrice(p, 4, 'nearest'))).toEqual([4, 8, 0, 8, 16, 8, 8]);
    // down: [level, level + step)
    expect([5, 6, 2, 10, 14, 7, 8].map((p) => groupPrice(p, 4, 'down'))).toEqual([4, 4, 0, 8, 12, 4, 8]);
    // step 5 (odd): no ties
    expect([12, 13, 17, 18].map((p) => groupPrice(p, 5, 'nearest'))).toEqual([10, 15, 15, 20]);
  });

  it('groups $64,123.45 to 10 ticks of 0.01 as 64123.40 and 25 ticks as 64123.50', () => {
    const btc = instrumentFromSteps('binance', 'BTCUSDT', '0.01', '0.00001');
    const price = parseFixed('64123.45', btc.priceScale);
    // 6412345 / 10 = 641234.5: tie, to the even 641234
    expect(formatFixed(groupPrice(price, stepOf(btc, 10), 'nearest'), 2)).toBe('64123.40');
    // 6412345 / 25 = 256493.8 -> 256494 -> 6412350
    expect(formatFixed(groupPrice(price, stepOf(btc, 25), 'nearest'), 2)).toBe('64123.50');
    const half = instrumentFromSteps('x', 'Y', '0.5', '1');
    expect(half).toMatchObject({ priceScale: 1, quantityScale: 0, tick: 5 });
    expect(stepOf(half, 3)).toBe(15);
    expect(() => stepOf(btc, 0)).toThrow(/tick grouping must be a positive integer/);
  });

  it('agrees with the bigint definition', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.constantFrom('nearest' as const, 'down' as const),
        (price, step, mode) => {
          expect(groupPrice(price, step, mode)).toBe(refGroup(price, step, mode));
        },
      ),
      { numRuns: 5000 },
    );
  });
});
