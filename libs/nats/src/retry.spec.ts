import { describe, expect, it } from 'vitest';
import { errorText, isLogWorthyAttempt, retryBackoff } from './retry.js';

describe('retryBackoff', () => {
  it('doubles from the base up to the cap, with jitter in [50 %, 100 %]', () => {
    expect([1, 2, 3, 4, 10].map((a) => retryBackoff(100, 1000, () => 1).delayAfter(a))).toEqual([
      100, 200, 400, 800, 1000,
    ]);
    expect(retryBackoff(100, 1000, () => 0).delayAfter(1)).toBe(50);
    expect([1, 2, 3, 4, 5, 8, 9].filter(isLogWorthyAttempt)).toEqual([1, 2, 4, 8]);
  });

  it('draws every wait evenly from [50 %, 100 %] of base * 2^(n-1) capped at max', () => {
    for (const [base, max] of [
      [100, 5000],
      [250, 5000],
      [7, 1000],
      [300, 200],
    ] as const) {
      for (let n = 1; n <= 40; n++) {
        const exp = Math.min(max, base * 2 ** (n - 1));
        for (const r of [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999999]) {
          const wait = retryBackoff(base, max, () => r).delayAfter(n);
          // the same draw as exp * (0.5 + 0.5 r), up to the rounding of the last millisecond
          expect(Math.abs(wait - exp * (0.5 + 0.5 * r))).toBeLessThanOrEqual(0.5 + 1e-9);
          expect(wait).toBeGreaterThanOrEqual(Math.floor(exp / 2));
          expect(wait).toBeLessThanOrEqual(exp);
        }
      }
    }
  });

  it('counts failures itself in next(), as the first connection does', () => {
    const b = retryBackoff(250, 5000, () => 1);
    expect(Array.from({ length: 7 }, () => b.next())).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  });

  it('names an error by its message', () => {
    expect(errorText(new Error('timeout'))).toBe('timeout');
    expect(errorText(new TypeError(''))).toBe('TypeError');
    expect(errorText('refused')).toBe('refused');
  });
});
