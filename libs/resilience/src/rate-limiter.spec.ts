import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  it('allows a second worth of messages, refuses the excess without debt, refills continuously', () => {
    const r = new RateLimiter(5, 0);
    expect(Array.from({ length: 8 }, () => r.tryTake(0))).toEqual([true, true, true, true, true, false, false, false]);
    expect(r.refused).toBe(3);
    expect(r.tryTake(100)).toBe(false); // 0.5 token
    expect(r.tryTake(200)).toBe(true); // 1 token: refusals cost nothing
    expect(r.tryTake(10_000)).toBe(true);
    expect(Array.from({ length: 5 }, () => r.tryTake(10_000)).filter(Boolean)).toHaveLength(4);
  });
});

describe('RateLimiter with a capacity apart from the rate', () => {
  it('allows `capacity` at once, refills at `perSecond`, and says when the next token is back', () => {
    const r = new RateLimiter(0.5, 0, 2); // 30 a minute, bursts of 2
    expect(r.tryTake(0)).toBe(true);
    expect(r.tryTake(0)).toBe(true);
    expect(r.tryTake(0)).toBe(false);
    expect(r.msUntilNext(0)).toBe(2000);
    expect(r.msUntilNext(1500)).toBe(500);
    expect(r.tryTake(2000)).toBe(true);
    expect(r.isFull(2000)).toBe(false);
    expect(r.isFull(6000)).toBe(true);
    expect(r.msUntilNext(6000)).toBe(0);
  });
});
