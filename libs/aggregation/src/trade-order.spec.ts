import { describe, expect, it } from 'vitest';
import { compareIds } from './trade-order.js';

describe('trade order', () => {
  it('orders trade ids numerically when they are integers, as text otherwise', () => {
    expect(['10', '9', '100', '09a', '011'].sort(compareIds)).toEqual(['9', '10', '011', '100', '09a']);
    expect(compareIds('3358000002', '3358000001')).toBeGreaterThan(0);
    expect(compareIds('b3c2-uuid', 'a7f1-uuid')).toBeGreaterThan(0);
  });
});
