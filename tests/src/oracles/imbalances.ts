/**
 * Diagonal and stacked imbalances of one candle, from README ("buy at p ≥ ratio × sell at p − 1
 * level (and the mirror); ratio 3.0 default as an exact decimal, minimum volume, an empty opposite
 * cell counts; stacked = 3+ consecutive levels, as price ranges") and the doc comment of
 * imbalances in libs/footprint/src/orderflow.ts:
 *
 * - buy imbalance at a traded level p: buy(p) >= ratio × sell(p − step) and buy(p) >= minVolume;
 * - sell imbalance at p: sell(p) >= ratio × buy(p + step) and sell(p) >= minVolume;
 *   a level that did not trade has volume 0 on both sides (so it "counts" as the opposite cell);
 * - listed ascending by price, a level's buy imbalance before its sell imbalance, with the
 *   dominant volume and the diagonal volume it was compared with;
 * - stacked: for buy then sell, each maximal run of imbalances of that side at consecutive
 *   levels (step apart) of at least `stackCount` (default 3) levels, as {side, low, high, count}.
 */
import type { RefCandle } from './candles.js';
import { fraction, toSafe } from './units.js';

export interface ImbalanceOptions {
  ratio?: string;
  minVolume?: bigint;
  stackCount?: number;
}

export interface RefImbalance {
  price: number;
  side: 'buy' | 'sell';
  volume: number;
  against: number;
}

export interface RefStacked {
  side: 'buy' | 'sell';
  low: number;
  high: number;
  count: number;
}

export function imbalancesOf(
  candle: RefCandle,
  options: ImbalanceOptions = {},
): { imbalances: RefImbalance[]; stacked: RefStacked[] } {
  const { num, den } = fraction(options.ratio ?? '3');
  const minVolume = options.minVolume ?? 1n;
  const stackCount = options.stackCount ?? 3;
  const at = (p: bigint) => candle.levels.find((l) => l.price === p) ?? { buy: 0n, sell: 0n };
  // v >= (num / den) × against, cross-multiplied
  const dominates = (v: bigint, against: bigint) => v >= minVolume && v * den >= against * num;
  const found: RefImbalance[] = [];
  for (const l of candle.levels) {
    const below = at(l.price - candle.step).sell;
    if (dominates(l.buy, below))
      found.push({
        price: toSafe(l.price),
        side: 'buy',
        volume: toSafe(l.buy),
        against: toSafe(below),
      });
    const above = at(l.price + candle.step).buy;
    if (dominates(l.sell, above))
      found.push({
        price: toSafe(l.price),
        side: 'sell',
        volume: toSafe(l.sell),
        against: toSafe(above),
      });
  }
  const step = toSafe(candle.step);
  const stacked: RefStacked[] = [];
  for (const side of ['buy', 'sell'] as const) {
    const prices = found.filter((x) => x.side === side).map((x) => x.price);
    let i = 0;
    while (i < prices.length) {
      let j = i;
      while (j + 1 < prices.length && prices[j + 1] === prices[j]! + step) j++;
      const count = j - i + 1;
      if (count >= stackCount) stacked.push({ side, low: prices[i]!, high: prices[j]!, count });
      i = j + 1;
    }
  }
  return { imbalances: found, stacked };
}
