import type { CandleData, FootprintCandle } from '@orderflow/footprint';

/** A row of `footprint_1m` (JSONEachRow: numbers, never decimal strings, which 18.16 refuses). */
export interface FootprintCellRow {
  exchange: string;
  symbol: string;
  /** 'YYYY-MM-DD hh:mm:ss' UTC, the DateTime text form every ClickHouse version accepts. */
  minute: string;
  price: number;
  buy_volume: number;
  sell_volume: number;
  buy_trades: number;
  sell_trades: number;
  version: number;
}

export interface CandleRow {
  exchange: string;
  symbol: string;
  minute: string;
  open: number;
  high: number;
  low: number;
  close: number;
  buy_volume: number;
  sell_volume: number;
  buy_trades: number;
  sell_trades: number;
  max_delta: number;
  min_delta: number;
  first_time_us: number;
  last_time_us: number;
  version: number;
}

/** '2025-01-01 00:01:00' for the candle's UTC minute. */
export function clickHouseDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function data(c: FootprintCandle | CandleData): CandleData {
  return 'toData' in c ? c.toData() : c;
}

/**
 * The rows of one 1m candle at native ticks: its cells and the candle itself, each carrying the
 * candle's trade count as `version` (complete state, never an increment).
 */
export function footprintRows(
  exchange: string,
  symbol: string,
  candle: FootprintCandle | CandleData,
): { cells: FootprintCellRow[]; candle: CandleRow } {
  const d = data(candle);
  if (d.timeframe !== '1m') throw new Error(`footprint_1m takes 1m candles, got ${d.timeframe}`);
  if (!d.onGrid) throw new Error('footprint_1m keeps native-tick levels: write candles before grouping');
  const minute = clickHouseDateTime(d.openTime);
  const version = d.buyTrades + d.sellTrades;
  return {
    cells: d.levels.map((l) => ({
      exchange,
      symbol,
      minute,
      price: l.price,
      buy_volume: l.buyVolume,
      sell_volume: l.sellVolume,
      buy_trades: l.buyTrades,
      sell_trades: l.sellTrades,
      version,
    })),
    candle: {
      exchange,
      symbol,
      minute,
      open: d.open,
      high: d.high,
      low: d.low,
      close: d.close,
      buy_volume: d.buyVolume,
      sell_volume: d.sellVolume,
      buy_trades: d.buyTrades,
      sell_trades: d.sellTrades,
      max_delta: d.maxDelta,
      min_delta: d.minDelta,
      first_time_us: d.firstTimeUs,
      last_time_us: d.lastTimeUs,
      version,
    },
  };
}
