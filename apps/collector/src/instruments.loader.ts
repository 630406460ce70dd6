import { type Instrument, instrumentFromSteps } from '@orderflow/footprint';
import { parseBinanceExchangeInfo, parseBybitInstruments, parseOkxInstruments } from '@orderflow/normalizers';
import type { CollectorConfig } from './config/collector.config.js';
import type { FeedLogger } from './feeds/feed.types.js';
import { RestClient } from './feeds/rest.client.js';

/**
 * Tick size and quantity step of every configured symbol: from COLLECTOR_INSTRUMENTS where given,
 * else from the exchange's instrument listing. Prices and quantities are parsed at these scales.
 */
export async function loadInstruments(config: CollectorConfig, logger: FeedLogger): Promise<Map<string, Instrument>> {
  const out = new Map<string, Instrument>();
  const exchange = config.exchange.id;
  for (const s of config.symbols) {
    const o = config.instrumentOverrides.get(s);
    if (o) out.set(s, instrumentFromSteps(exchange, s, o.tickSize, o.quantityStep));
  }
  const missing = config.symbols.filter((s) => !out.has(s));
  if (missing.length === 0) return out;
  const rest = new RestClient({ baseUrl: config.restUrl, weightPerMinute: config.restWeightPerMinute, logger });
  switch (config.exchange.protocol) {
    case 'binance-spot':
    case 'binance-usdm': {
      const path = config.exchange.protocol === 'binance-spot' ? '/api/v3/exchangeInfo' : '/fapi/v1/exchangeInfo';
      const listed = parseBinanceExchangeInfo(await rest.getText(path, 20), exchange, missing);
      for (const [s, i] of listed) out.set(s, i);
      break;
    }
    case 'bybit-spot':
    case 'bybit-linear': {
      const category = config.exchange.protocol === 'bybit-spot' ? 'spot' : 'linear';
      for (const s of missing)
        out.set(
          s,
          parseBybitInstruments(
            await rest.getText(`/v5/market/instruments-info?category=${category}&symbol=${s}`),
            exchange,
            s,
          ),
        );
      break;
    }
    case 'okx':
      for (const s of missing) {
        const instType = s.endsWith('-SWAP') ? 'SWAP' : 'SPOT';
        out.set(
          s,
          parseOkxInstruments(
            await rest.getText(`/api/v5/public/instruments?instType=${instType}&instId=${s}`),
            exchange,
            s,
          ),
        );
      }
      break;
  }
  for (const i of out.values())
    logger.log(
      `${exchange} ${i.symbol}: price scale ${i.priceScale}, tick ${i.tick} units, quantity scale ${i.quantityScale}`,
    );
  return out;
}
