/**
 * Tick size and quantity step from the exchanges' instrument listings, for the symbols a collector
 * is configured with. (Binance's exchangeInfo is read in binance.normalizer.ts.)
 * - Bybit GET /v5/market/instruments-info?category=spot|linear&symbol=:
 *   result.list[].priceFilter.tickSize and lotSizeFilter.basePrecision (spot) or .qtyStep (linear).
 *   https://bybit-exchange.github.io/docs/v5/market/instrument
 * - OKX GET /api/v5/public/instruments?instType=SPOT|SWAP&instId=: data[].tickSz and lotSz
 *   (SWAP quantities are contracts). https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments
 */
import { type Instrument, instrumentFromSteps } from '@orderflow/footprint';
import { trimDecimal } from './binance.normalizer.js';
import { NormalizeError } from './normalize.error.js';
import { isObject, parseJsonObject } from './normalize.shared.js';

const obj = (v: unknown): Record<string, unknown> | undefined => (isObject(v) ? v : undefined);

export function parseBybitInstruments(jsonText: string, exchange: string, symbol: string): Instrument {
  const r = parseJsonObject(jsonText, 'Bybit instruments-info');
  if (r['retCode'] !== 0)
    throw new NormalizeError('UNEXPECTED_SHAPE', `Bybit instruments-info: ${String(r['retMsg'])}`);
  const list = obj(r['result'])?.['list'];
  const row = Array.isArray(list) ? list.map(obj).find((x) => x?.['symbol'] === symbol) : undefined;
  if (!row) throw new NormalizeError('UNKNOWN_SYMBOL', `Bybit does not list ${symbol}`);
  const tick = obj(row['priceFilter'])?.['tickSize'];
  const lot = obj(row['lotSizeFilter']);
  const step = lot?.['qtyStep'] ?? lot?.['basePrecision'];
  if (typeof tick !== 'string' || typeof step !== 'string')
    throw new NormalizeError('INVALID_FIELD', `Bybit ${symbol}: no tickSize or quantity step`);
  return instrumentFromSteps(exchange, symbol, trimDecimal(tick), trimDecimal(step));
}

export function parseOkxInstruments(jsonText: string, exchange: string, instId: string): Instrument {
  const r = parseJsonObject(jsonText, 'OKX instruments');
  if (r['code'] !== '0') throw new NormalizeError('UNEXPECTED_SHAPE', `OKX instruments: ${String(r['msg'])}`);
  const data = r['data'];
  const row = Array.isArray(data) ? data.map(obj).find((x) => x?.['instId'] === instId) : undefined;
  if (!row) throw new NormalizeError('UNKNOWN_SYMBOL', `OKX does not list ${instId}`);
  const tick = row['tickSz'];
  const lot = row['lotSz'];
  if (typeof tick !== 'string' || typeof lot !== 'string')
    throw new NormalizeError('INVALID_FIELD', `OKX ${instId}: no tickSz or lotSz`);
  return instrumentFromSteps(exchange, instId, trimDecimal(tick), trimDecimal(lot));
}
