import { describe, expect, it } from 'vitest';
import { makeTrades } from '../testing/helpers.js';
import { TradeHistory } from './history.js';

describe('TradeHistory', () => {
  it('keeps the newest `limit` trades and finds ids and times by binary search', () => {
    const h = new TradeHistory(10_000);
    const trades = makeTrades(25_000, {
      startId: 100,
      startTime: 1000,
      perMs: 2,
    });
    for (let i = 0; i < trades.length; i += 1000) h.push(trades.slice(i, i + 1000));
    expect(h.size).toBe(10_000);
    expect(h.first()!.id).toBe(100 + 15_000);
    expect(h.last()!.id).toBe(100 + 24_999);
    expect(h.lowerBoundId(0)).toBe(0);
    expect(h.lowerBoundId(100 + 20_000)).toBe(5_000);
    expect(h.lowerBoundId(1e12)).toBe(10_000);
    const t = h.at(1234)!;
    expect(h.at(h.lowerBoundTime(t.time))!.time).toBe(t.time);
    expect(h.at(h.lowerBoundTime(t.time) - 1)!.time).toBeLessThan(t.time);
    expect(h.slice(9_998, 20_000).map((x) => x.id)).toEqual([100 + 24_998, 100 + 24_999]);
  });
});
