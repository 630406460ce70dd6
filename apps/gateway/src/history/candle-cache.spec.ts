import { describe, expect, it } from 'vitest';
import { encodeCandle } from '@orderflow/candle-views';
import type { WireFootprintCandle } from '@orderflow/contracts';
import { CandleCache, estimateBytes } from './candle-cache.js';

function candle(openTime: number, cells: number): WireFootprintCandle {
  return {
    openTime,
    open: 1,
    high: 2,
    low: 1,
    close: 2,
    buyVolume: cells,
    sellVolume: 0,
    buyTrades: cells,
    sellTrades: 0,
    delta: cells,
    maxDelta: cells,
    minDelta: 0,
    poc: 1,
    vah: 1,
    val: 1,
    cells: Array.from({ length: cells }, (_, i) => [i + 1, 1, 0, 1, 0]),
  };
}

describe('CandleCache', () => {
  it('serves a candle only for the trade count it was built from', () => {
    const cache = new CandleCache(1 << 20);
    const c = candle(60_000, 3);
    cache.set('v|', 3, c);
    expect(cache.get('v|', 60_000, 3)).toBe(c);
    // one more trade stored: read again
    expect(cache.get('v|', 60_000, 4)).toBeNull();
    // another view, another open time
    expect(cache.get('w|', 60_000, 3)).toBeNull();
    expect(cache.get('v|', 120_000, 3)).toBeNull();
    expect(cache.hits).toBe(1);
    expect(cache.misses).toBe(3);
    expect(cache.holds('v|')).toBe(true);
    expect(cache.holds('w|')).toBe(false);
  });

  it('keeps within its byte budget, least recently used out first, and counts what each view holds', () => {
    const per = estimateBytes(candle(0, 10));
    const cache = new CandleCache(per * 3);
    for (let i = 0; i < 3; i++) cache.set('v|', 10, candle(i * 60_000, 10));
    expect(cache.count).toBe(3);
    // touch the oldest, then add a fourth: the second is the least recently used
    expect(cache.get('v|', 0, 10)).not.toBeNull();
    cache.set('w|', 10, candle(0, 10));
    expect(cache.count).toBe(3);
    expect(cache.bytes).toBeLessThanOrEqual(per * 3);
    expect(cache.get('v|', 60_000, 10)).toBeNull();
    expect(cache.get('v|', 0, 10)).not.toBeNull();
    expect(cache.get('v|', 120_000, 10)).not.toBeNull();
    expect(cache.get('w|', 0, 10)).not.toBeNull();
    // replacing an entry does not count it twice
    cache.set('w|', 11, candle(0, 10));
    expect(cache.count).toBe(3);
    expect(cache.bytes).toBe(per * 3);
    // a candle larger than the whole budget is not kept; a view whose entries all left holds nothing
    cache.set('x|', 1, candle(0, 10_000));
    expect(cache.holds('x|')).toBe(false);
    cache.clear();
    expect(cache.holds('v|')).toBe(false);
    expect(cache.bytes).toBe(0);
  });

  it('evicts exactly as a least-recently-used list over a long random sequence of reads and writes', () => {
    // the reference: an array, oldest first, rebuilt on every step
    const per = estimateBytes(candle(0, 4));
    const cache = new CandleCache(per * 50);
    let model: { key: string; trades: number }[] = [];
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648), seed % n);
    for (let step = 0; step < 20_000; step++) {
      const prefix = `v${rand(3)}|`;
      const t = rand(40) * 60_000;
      const key = `${prefix}${t}`;
      const trades = 4 + rand(2);
      const at = model.findIndex((e) => e.key === key);
      if (rand(2) === 0) {
        const hit = at >= 0 && model[at]!.trades === trades;
        expect(cache.get(prefix, t, trades) !== null).toBe(hit);
        if (hit) model = [...model.filter((e) => e.key !== key), model[at]!];
      } else {
        cache.set(prefix, trades, { ...candle(t, 4), buyTrades: trades });
        model = [...model.filter((e) => e.key !== key), { key, trades }];
        if (model.length > 50) model = model.slice(model.length - 50);
      }
      expect(cache.count).toBe(model.length);
    }
    expect(cache.bytes).toBe(per * model.length);
    for (const p of ['v0|', 'v1|', 'v2|']) expect(cache.holds(p)).toBe(model.some((e) => e.key.startsWith(p)));
  });

  it('a budget of 0 keeps nothing', () => {
    const cache = new CandleCache(0);
    cache.set('v|', 1, candle(0, 1));
    expect(cache.count).toBe(0);
    expect(cache.holds('v|')).toBe(false);
  });

  it('encodes a candle object once, as JSON.stringify does', () => {
    const c = candle(0, 5);
    const a = encodeCandle(c);
    expect(a).toBe(JSON.stringify(c));
    expect(encodeCandle(c)).toBe(a);
    expect(encodeCandle(candle(0, 6))).toBe(JSON.stringify(candle(0, 6)));
  });
});
