import { describe, expect, it } from 'vitest';
import type { GroupedChange } from './grouped-view.js';
import { Outbox, changedPrices } from './outbox.js';

const ch = (openTime: number, version: number, prices: number[], replace = false): GroupedChange => ({
  openTime,
  version,
  prices,
  replace,
  lastTradeUs: version,
  sourceSentAtMs: version,
});

describe('Outbox', () => {
  it('keeps one entry per (subscription, candle), merging the changed prices', () => {
    const o = new Outbox<string>();
    o.add('a', ch(60_000, 1, [10, 20]));
    o.add('a', ch(60_000, 2, [20, 30]));
    o.add('a', ch(120_000, 1, [5]));
    o.add('b', ch(60_000, 2, [20, 30]));
    expect(o.size).toBe(3);
    expect(o.conflated).toBe(1);
    const taken = o.take();
    expect(o.size).toBe(0);
    const a = taken.find(([s]) => s === 'a')![1];
    expect(a.map((p) => p.openTime)).toEqual([60_000, 120_000]);
    expect(changedPrices(a[0]!.changes)).toEqual([10, 20, 30]);
  });

  it('a replace makes the entry a replace; later changes keep it one', () => {
    const o = new Outbox<string>();
    o.add('a', ch(0, 1, [1]));
    o.add('a', ch(0, 2, [1, 2, 3], true));
    o.add('a', ch(0, 3, [4]));
    const p = o.take()[0]![1][0]!;
    expect(p.replace).toBe(true);
    expect(p.changes.map((c) => c.version)).toEqual([3]);
  });

  it('stays bounded however many changes arrive, and forgets a dropped subscription', () => {
    const o = new Outbox<string>();
    for (let v = 1; v <= 10_000; v++) o.add('a', ch(0, v, [v % 7]));
    const p = o.take()[0]![1][0]!;
    expect(p.changes.length).toBeLessThanOrEqual(33);
    expect(changedPrices(p.changes)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    o.add('x', ch(0, 1, [1]));
    o.drop('x');
    expect(o.size).toBe(0);
  });
});
