import type { Instrument, Trade } from '@orderflow/footprint';

export function instrument(exchange: string, symbol: string, priceScale = 2, quantityScale = 5): Instrument {
  return { exchange, symbol, priceScale, quantityScale, tick: 1 };
}

/** A valid trade of `symbol` with the numeric id `id` (ids grow by one per trade). */
export function trade(exchange: string, symbol: string, id: number): Trade {
  return {
    exchange,
    symbol,
    id: String(id),
    price: 9_350_000 + (id % 97),
    quantity: 1 + (id % 1000),
    side: id % 3 === 0 ? 'sell' : 'buy',
    exchangeTimeUs: 1_735_689_600_000_000 + id * 1000,
    receiveTimeMs: 1_735_689_600_000 + id,
  };
}
