import type { CandleColumns } from './history.sql.js';

/**
 * ClickHouse answered with something that is not the expected rows (an error text in a streamed body, a schema change).
 */
export class HistoryError extends Error {
  override readonly name = 'HistoryError';
}

/**
 * A value of a read's rows beyond 2^53 - 1 units (a sum over a wide range, grouping or merged
 * view): the request's to change (a coarser range or grouping), not a fault of the server.
 */
export class UnitsOverflowError extends Error {
  override readonly name = 'UnitsOverflowError';
}

/** An integer TabSeparated field (prices, volumes, counts: all within 2^53 - 1 or refused). */
export function intField(row: readonly string[], i: number, what: string): number {
  const f = row[i];
  if (f === undefined || !/^-?\d+$/.test(f)) {
    const text = row.join('\t');
    if (/^Code: \d+/.test(text) || text.includes('DB::Exception'))
      throw new HistoryError(`ClickHouse: ${text.slice(0, 500)}`);
    throw new HistoryError(`${what}: expected an integer, got ${JSON.stringify(f)}`);
  }
  const n = Number(f);
  if (!Number.isSafeInteger(n))
    throw new HistoryError(`${what}: ${f} is beyond 2^53 - 1 units: use a coarser range or grouping`);
  return n;
}

/** A stored candle summary of one instrument, in its own units, with what the schema offers beyond it. */
export interface StoredCandle {
  /** Bucket start, ms since the epoch. */
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  buyVolume: number;
  sellVolume: number;
  buyTrades: number;
  sellTrades: number;
  maxDelta: number | null;
  minDelta: number | null;
  /** First and last trade time (µs) when read (firstLastSql), else null. */
  firstTimeUs: number | null;
  lastTimeUs: number | null;
  /**
   * Sum of price units x quantity units of the candle's trades (schema v2), exact; null when the schema has no
   * notional.
   */
  notional: bigint | null;
  /** False when a minute of the candle lies in a gap the collector could not fill (schema v2); null when unknown. */
  complete: boolean | null;
}

/** A candles row (candlesSql's columns), with the bucket's first and last trade times when read. */
export function storedCandleRow(
  r: readonly string[],
  cols: CandleColumns,
  fl: readonly [number, number] | undefined,
): StoredCandle {
  let k = 11;
  let notional: bigint | null = null;
  if (cols.notional) {
    const text = r[k++] ?? '';
    if (!/^\d+$/.test(text))
      throw new HistoryError(`notional: expected an integer, got ${JSON.stringify(text.slice(0, 80))}`);
    notional = BigInt(text);
  }
  const complete = cols.complete ? r[k] === '1' : null;
  return {
    openTime: intField(r, 0, 'bucket') * 1000,
    open: intField(r, 1, 'open'),
    high: intField(r, 2, 'high'),
    low: intField(r, 3, 'low'),
    close: intField(r, 4, 'close'),
    buyVolume: intField(r, 5, 'buy volume'),
    sellVolume: intField(r, 6, 'sell volume'),
    buyTrades: intField(r, 7, 'buy trades'),
    sellTrades: intField(r, 8, 'sell trades'),
    maxDelta: intField(r, 9, 'max delta'),
    minDelta: intField(r, 10, 'min delta'),
    firstTimeUs: fl ? fl[0] : null,
    lastTimeUs: fl ? fl[1] : null,
    notional,
    complete,
  };
}
