import { describe, expect, it } from 'vitest';
import { FootprintCandle, rollUp } from './candle.js';

const M = 60_000_000; // one minute in µs
const T = 1_735_689_600_000; // 2025-01-01T00:00Z in ms

describe('FootprintCandle (hand-worked)', () => {
  it('keeps OHLC, per-level volumes and trade counts, delta and its extremes', () => {
    const c = new FootprintCandle('1m', T);
    const t = T * 1000;
    c.add(100, 5, 'buy', t + 1); // delta 5
    c.add(101, 3, 'buy', t + 2); // 8 (max)
    c.add(100, 10, 'sell', t + 3); // -2
    c.add(99, 4, 'sell', t + 4); // -6 (min)
    c.add(100, 2, 'buy', t + 5); // -4
    expect(c.toData()).toEqual({
      timeframe: '1m',
      openTime: T,
      step: 1,
      mode: 'nearest',
      open: 100,
      high: 101,
      low: 99,
      close: 100,
      buyVolume: 10,
      sellVolume: 14,
      buyTrades: 3,
      sellTrades: 2,
      delta: -4,
      maxDelta: 8,
      minDelta: -6,
      firstTimeUs: t + 1,
      lastTimeUs: t + 5,
      onGrid: true,
      levels: [
        { price: 99, buyVolume: 0, sellVolume: 4, buyTrades: 0, sellTrades: 1 },
        { price: 100, buyVolume: 7, sellVolume: 10, buyTrades: 2, sellTrades: 1 },
        { price: 101, buyVolume: 3, sellVolume: 0, buyTrades: 1, sellTrades: 0 },
      ],
    });
  });

  it('max delta is the running extreme, negative when every trade sells', () => {
    const c = new FootprintCandle('1m', T);
    c.add(10, 2, 'sell', T * 1000);
    c.add(10, 3, 'sell', T * 1000 + 1);
    expect([c.maxDelta, c.minDelta, c.delta]).toEqual([-2, -5, -5]);
  });

  it('rolls up with delta extremes offset by the delta before (hand-worked)', () => {
    const a = new FootprintCandle('1m', T);
    a.add(100, 4, 'buy', T * 1000); // running 4
    a.add(100, 6, 'sell', T * 1000 + 1); // -2
    const b = new FootprintCandle('1m', T + 60_000);
    b.add(102, 1, 'sell', T * 1000 + M); // -2 -1 = -3
    b.add(103, 9, 'buy', T * 1000 + M + 1); // -3 + 9 = 6
    const [h] = rollUp([a, b], '5m');
    expect(h).toMatchObject({
      open: 100,
      high: 103,
      low: 100,
      close: 103,
      maxDelta: 6,
      minDelta: -3,
      buyVolume: 13,
      sellVolume: 7,
    });
    expect(h!.delta).toBe(6);
  });

  it('refuses misaligned candles and mismatched groupings', () => {
    expect(() => new FootprintCandle('5m', T + 60_000)).toThrow(/not aligned to 5m/);
    expect(() => new FootprintCandle('1m', T, 0)).toThrow(/grouping step must be a positive integer/);
    const a = new FootprintCandle('1m', T, 2);
    a.add(100, 1, 'buy', T * 1000);
    expect(() => new FootprintCandle('5m', T, 1).append(a)).toThrow(/cannot merge a candle grouped by 2/);
  });
});
