import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('grows 1.6x from 1 s to the 2 min cap, within plus or minus 20 %', () => {
    const mid = new Backoff({}, () => 0.5); // no jitter at the midpoint
    const seq = Array.from({ length: 14 }, () => mid.next());
    expect(seq.slice(0, 4)).toEqual([1000, 1600, 2560, 4096]);
    expect(seq[13]).toBe(120_000);
    const low = new Backoff({}, () => 0);
    const high = new Backoff({}, () => 0.999999);
    expect(low.next()).toBe(800);
    expect(high.next()).toBe(1200);
    mid.reset();
    expect(mid.next()).toBe(1000);
  });

  it('gives after n failures what the n-th next() gives, without counting a failure', () => {
    const counted = new Backoff({ initialMs: 100, factor: 2, maxMs: 1000 }, () => 0.5);
    const uncounted = new Backoff({ initialMs: 100, factor: 2, maxMs: 1000 }, () => 0.5);
    const seq = Array.from({ length: 6 }, () => counted.next());
    expect([1, 2, 3, 4, 5, 6].map((n) => uncounted.delayAfter(n))).toEqual(seq);
    expect(seq).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(uncounted.attempts).toBe(0);
    expect(uncounted.delayAfter(0)).toBe(100);
    expect(uncounted.delayAfter(5000)).toBe(1000);
  });

  it('refuses options that make no policy', () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(/invalid backoff options/);
    expect(() => new Backoff({ factor: 0.5 })).toThrow(/invalid backoff options/);
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).toThrow(/invalid backoff options/);
    expect(() => new Backoff({ jitter: 1 })).toThrow(/invalid backoff options/);
  });
});
