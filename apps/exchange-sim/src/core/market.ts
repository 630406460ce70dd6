import type { InstrumentSpec } from '../instruments.js';
import type { TradeSource } from '../sources/source.js';
import { TradeHistory } from './history.js';

/** One simulated market: a symbol (in one category) with its trade source and produced history. */
export interface Market {
  /** Unique within a simulator: "BTCUSDT", "linear:BTCUSDT", "BTC-USDT-SWAP". */
  readonly key: string;
  /** The venue's symbol: "BTCUSDT", "BTC-USDT". */
  readonly symbol: string;
  /** "spot", "usdm", "linear", "SPOT", "SWAP". */
  readonly category: string;
  /** Subscription key the protocol uses to route frames to clients. */
  readonly topic: string;
  readonly instrument: InstrumentSpec;
  readonly history: TradeHistory;
  readonly source: TradeSource;
  /** Trades produced so far (sent or skipped). */
  produced: number;
}

export function createMarket(init: Omit<Market, 'history' | 'produced'> & { historyLimit: number }): Market {
  const { historyLimit, ...rest } = init;
  return { ...rest, history: new TradeHistory(historyLimit), produced: 0 };
}
