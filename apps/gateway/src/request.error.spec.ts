import { describe, expect, it } from 'vitest';
import { echo } from './request.error.js';

describe('request errors', () => {
  it('errors echo a bounded copy of the request', () => {
    expect(echo({ a: 'x'.repeat(500), b: [1, 2, { c: { d: 1 } }], n: Infinity })).toEqual({
      a: `${'x'.repeat(200)}...`,
      b: [1, 2, '{...}'],
      n: 'Infinity',
    });
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    expect(Object.keys(echo(many) as object)).toHaveLength(12);
  });
});
