/**
 * Rows of Binance's public-data archives (https://data.binance.vision), the history the archive
 * import publishes through the same pipeline as the live feed.
 * - Spot aggTrades: no header, 8 columns `aggId,price,qty,firstId,lastId,timestamp,isBuyerMaker,isBestMatch`;
 *   timestamps in microseconds from 2025-01-01 on, milliseconds before.
 * - USDT-M futures aggTrades: a header
 * `agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker`,
 *   7 columns, milliseconds.
 * isBuyerMaker true means the seller was the aggressor, as `m` in the streams.
 */
import type { Instrument } from '@orderflow/footprint';
import type { BinanceAggTrade } from './binance.normalizer.js';
import { buildBinanceTrade, decimalField } from './binance.normalizer.js';
import { NormalizeError } from './normalize.error.js';

export const BINANCE_FUTURES_ARCHIVE_HEADER =
  'agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker';

/** Microsecond timestamps are 16 digits (from 2001 on), millisecond ones 13: the archive switched on 2025-01-01. */
const US_THRESHOLD = 100_000_000_000_000;

const INT = /^(0|[1-9]\d{0,15})$/;

/** True for the futures archive's header line (skip it). */
export function isBinanceArchiveHeader(line: string): boolean {
  return line.startsWith('agg_trade_id,');
}

/** One archive line (spot or futures layout, told apart by the column count). */
export function normalizeBinanceArchiveRow(
  line: string,
  exchange: string,
  instrument: Instrument,
  receiveTimeMs: number,
): BinanceAggTrade {
  const cols = line.trim().split(',');
  if (cols.length !== 8 && cols.length !== 7)
    throw new NormalizeError('UNEXPECTED_SHAPE', `expected 7 (futures) or 8 (spot) columns, got ${cols.length}`);
  const [a, p, q, f, l, ts, maker] = cols as [string, string, string, string, string, string, string];
  for (const [name, v] of [
    ['aggregate id', a],
    ['first trade id', f],
    ['last trade id', l],
    ['timestamp', ts],
  ] as const) {
    if (!INT.test(v) || !Number.isSafeInteger(Number(v)))
      throw new NormalizeError('INVALID_FIELD', `${name} must be a non-negative integer, got "${v.slice(0, 30)}"`);
  }
  const m = maker.toLowerCase();
  if (m !== 'true' && m !== 'false')
    throw new NormalizeError('INVALID_FIELD', `isBuyerMaker must be true or false, got "${maker.slice(0, 30)}"`);
  const time = Number(ts);
  return buildBinanceTrade(
    { exchange, instruments: NO_INSTRUMENTS, timeUnit: time >= US_THRESHOLD ? 'us' : 'ms' },
    instrument,
    a,
    decimalField(p, instrument.priceScale, 'price'),
    decimalField(q, instrument.quantityScale, 'quantity'),
    m === 'true',
    time,
    f,
    l,
    receiveTimeMs,
  );
}

const NO_INSTRUMENTS: ReadonlyMap<string, Instrument> = new Map();
