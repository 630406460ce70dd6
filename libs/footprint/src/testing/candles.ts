import { FootprintCandle } from '../candle.js';
import type { Timeframe } from '../timeframe.js';

/** A candle from [price, buyVolume, sellVolume] rows: buys first, then sells, one trade each. */
export function candleOf(
  openTime: number,
  rows: [number, number, number][],
  timeframe: Timeframe = '1m',
  step = 1,
): FootprintCandle {
  const c = new FootprintCandle(timeframe, openTime, step);
  let t = openTime * 1000;
  for (const [price, buy, sell] of rows) {
    if (buy > 0) c.add(price, buy, 'buy', t++);
    if (sell > 0) c.add(price, sell, 'sell', t++);
  }
  return c;
}
