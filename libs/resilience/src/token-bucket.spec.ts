import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('paces requests to the refill rate', () => {
    const b = new TokenBucket(10, 5, 0); // 10 units, 5 a second
    expect(b.take(10, 0)).toBe(0);
    expect(b.take(5, 0)).toBe(1000); // 5 units short at 5/s
    expect(b.take(0, 3000)).toBe(0); // refilled
  });
});
