import type { GapEvent } from '@orderflow/contracts';
import type { IngestedTrade } from '@orderflow/aggregation';
import type { CandleData, PriceLevel } from '@orderflow/footprint';

/** What the aggregator needs of ClickHouse (implemented by @orderflow/clickhouse's FootprintStore). */
export interface AggregatorStore {
  insertTrades(trades: readonly IngestedTrade[]): Promise<void>;
  insertMinutes(exchange: string, symbol: string, candles: readonly CandleData[]): Promise<void>;
  insertGaps(events: readonly GapEvent[]): Promise<void>;
  upsertInstruments(
    rows: readonly { exchange: string; symbol: string; priceScale: number; quantityScale: number; tick: number }[],
  ): Promise<void>;
  loadTrades(exchange: string, symbol: string, fromUs: number, toUs: number): Promise<IngestedTrade[]>;
  loadMinutes(exchange: string, symbol: string, fromMs: number, toMs: number): Promise<CandleData[]>;
  /** Daily (1d) levels of the sessions starting in [fromMs, toMs): the prior sessions' POCs. */
  loadDailyLevels(
    exchange: string,
    symbol: string,
    fromMs: number,
    toMs: number,
  ): Promise<{ dayMs: number; levels: PriceLevel[] }[]>;
  /** Exchange time (µs) of the newest stored trade or 1m candle of the symbol, or null. */
  latestTimeUs(exchange: string, symbol: string): Promise<number | null>;
}
