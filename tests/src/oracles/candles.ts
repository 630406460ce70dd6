/**
 * Footprint candles of trades, as the metric oracles read them: per time bucket, per grouped price
 * level, aggressive buy and sell volume and trade counts; the bucket's traded range; the running
 * delta's extremes. Written from README "The footprint engine": candles are UTC-aligned buckets of
 * exchange time, a level is the grouped trade price.
 */
import { type Mode, groupTo } from './units.js';

export interface RefTrade {
  price: bigint;
  quantity: bigint;
  side: 'buy' | 'sell';
  /** Exchange time, µs. */
  timeUs: bigint;
}

export interface RefLevel {
  /** The grouped price (a multiple of the candle's step). */
  price: bigint;
  buy: bigint;
  sell: bigint;
  buyTrades: number;
  sellTrades: number;
}

export interface RefCandle {
  openTime: number;
  step: bigint;
  mode: Mode;
  /** First and last trade price (not grouped). */
  open: bigint;
  close: bigint;
  /** Lowest and highest trade price (not grouped). */
  low: bigint;
  high: bigint;
  buy: bigint;
  sell: bigint;
  trades: number;
  /** Highest and lowest running delta (buy - sell) after each trade, in trade order. */
  maxDelta: bigint;
  minDelta: bigint;
  /** Traded levels, ascending by price. */
  levels: RefLevel[];
}

/**
 * Candles of `bucketMs` from trades given in trade order; a bucket is [k * bucketMs, (k + 1) *
 * bucketMs) of exchange time in ms since the epoch. Only buckets with trades are returned,
 * ascending by time.
 */
export function candlesOf(trades: readonly RefTrade[], bucketMs: number, step: bigint, mode: Mode): RefCandle[] {
  const buckets = new Map<number, RefTrade[]>();
  for (const t of trades) {
    const ms = t.timeUs / 1000n;
    const open = Number(ms - (ms % BigInt(bucketMs)));
    const list = buckets.get(open) ?? [];
    list.push(t);
    buckets.set(open, list);
  }
  const out: RefCandle[] = [];
  for (const open of [...buckets.keys()].sort((a, b) => a - b)) {
    const ts = buckets.get(open)!;
    const levels = new Map<bigint, RefLevel>();
    let low = ts[0]!.price;
    let high = ts[0]!.price;
    let buy = 0n;
    let sell = 0n;
    const running: bigint[] = [];
    for (const t of ts) {
      if (t.price < low) low = t.price;
      if (t.price > high) high = t.price;
      const p = groupTo(t.price, step, mode);
      const l = levels.get(p) ?? {
        price: p,
        buy: 0n,
        sell: 0n,
        buyTrades: 0,
        sellTrades: 0,
      };
      if (t.side === 'buy') {
        l.buy += t.quantity;
        l.buyTrades++;
        buy += t.quantity;
      } else {
        l.sell += t.quantity;
        l.sellTrades++;
        sell += t.quantity;
      }
      levels.set(p, l);
      running.push(buy - sell);
    }
    let maxDelta = running[0]!;
    let minDelta = running[0]!;
    for (const d of running) {
      if (d > maxDelta) maxDelta = d;
      if (d < minDelta) minDelta = d;
    }
    const sorted = [...levels.values()].sort((a, b) => (a.price < b.price ? -1 : 1));
    out.push({
      openTime: open,
      step,
      open: ts[0]!.price,
      close: ts[ts.length - 1]!.price,
      mode,
      low,
      high,
      buy,
      sell,
      trades: ts.length,
      maxDelta,
      minDelta,
      levels: sorted,
    });
  }
  return out;
}
