/**
 * The order trades are applied in, and a minute's candle built in that order: the same set of
 * trades gives the same candle however it was delivered.
 */
import { FootprintCandle, type Trade } from '@orderflow/footprint';

/** A trade as the aggregator applied it: `ingestSeq` orders trades of one symbol as they were applied. */
export interface IngestedTrade extends Trade {
  /** JetStream stream sequence * 65536 + index in its batch (a safe integer). */
  readonly ingestSeq: number;
}

/** Trade ids in exchange order: numerically when both are integers (Binance, OKX), else as text (Bybit UUIDs). */
export function compareIds(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an !== bn) return an ? -1 : 1; // integers first (a feed never mixes the two)
  if (an) {
    const x = a.replace(/^0+(?=\d)/, '');
    const y = b.replace(/^0+(?=\d)/, '');
    if (x.length !== y.length) return x.length - y.length;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The order trades are applied in within a candle: exchange time, then id. It depends only on
 * the trades, never on how they were delivered (redeliveries, replays, a restart), so the same
 * set of trades always gives the same candle, open and close and delta extremes included.
 */
export function compareTrades(a: Trade, b: Trade): number {
  return a.exchangeTimeUs - b.exchangeTimeUs || compareIds(a.id, b.id);
}

/** A 1m candle of a set of trades (each id once), applied in compareTrades order. */
export function minuteFromTrades(minute: number, trades: Iterable<Trade>): FootprintCandle {
  const c = new FootprintCandle('1m', minute, 1, 'nearest');
  for (const t of [...trades].sort(compareTrades)) c.add(t.price, t.quantity, t.side, t.exchangeTimeUs);
  return c;
}
