import type { Side, Trade } from '@orderflow/footprint';

/**
 * The payload of a `trades.<exchange>.<symbol>` message, version 1: consecutive trades of one
 * symbol in exchange order, prices and quantities as integer units of the scales it names (exact,
 * self-describing). JSON text, one row per trade:
 *
 *   {"v":1,"exchange":"binance","symbol":"BTCUSDT","priceScale":2,"quantityScale":5,
 *    "trades":[["3358000001",9351234,1234,"b",1735689600099000,1735689600123], ...]}
 *
 * Row: [trade id, price units, quantity units, "b" | "s" (aggressor), exchange time µs, receive ms].
 */
export interface TradeBatch {
  exchange: string;
  symbol: string;
  priceScale: number;
  quantityScale: number;
  /** The instrument's tick in price units (optional: older collectors did not send it). */
  tick?: number;
  trades: Trade[];
}

export const TRADE_BATCH_VERSION = 1;

export class TradeBatchError extends Error {
  override readonly name = 'TradeBatchError';
}

export function encodeTradeBatch(batch: TradeBatch): string {
  let rows = '';
  for (const t of batch.trades) {
    if (rows.length > 0) rows += ',';
    rows += `[${JSON.stringify(t.id)},${t.price},${t.quantity},"${t.side === 'buy' ? 'b' : 's'}",${t.exchangeTimeUs},${t.receiveTimeMs}]`;
  }
  return (
    `{"v":${TRADE_BATCH_VERSION},"exchange":${JSON.stringify(batch.exchange)},"symbol":${JSON.stringify(batch.symbol)},` +
    `"priceScale":${batch.priceScale},"quantityScale":${batch.quantityScale},${batch.tick === undefined ? '' : `"tick":${batch.tick},`}"trades":[${rows}]}`
  );
}

const isUnits = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isScale = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 15;

/** Parses and checks a batch; throws TradeBatchError naming the first problem. */
export function decodeTradeBatch(text: string): TradeBatch {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new TradeBatchError(`trade batch is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof o !== 'object' || o === null) throw new TradeBatchError('trade batch is not an object');
  const b = o as Record<string, unknown>;
  if (b['v'] !== TRADE_BATCH_VERSION)
    throw new TradeBatchError(`unsupported trade batch version ${JSON.stringify(b['v'])}`);
  const { exchange, symbol, priceScale, quantityScale, trades } = b;
  if (typeof exchange !== 'string' || typeof symbol !== 'string')
    throw new TradeBatchError('exchange and symbol must be strings');
  if (!isScale(priceScale) || !isScale(quantityScale))
    throw new TradeBatchError('priceScale and quantityScale must be integers 0..15');
  if (!Array.isArray(trades)) throw new TradeBatchError('trades must be an array');
  const tick = b['tick'];
  if (tick !== undefined && !isUnits(tick)) throw new TradeBatchError('tick must be a positive integer of price units');
  const out: Trade[] = new Array(trades.length);
  for (let i = 0; i < trades.length; i++) {
    const r = trades[i] as unknown[];
    if (!Array.isArray(r) || r.length !== 6) throw new TradeBatchError(`trade ${i}: a row of 6 fields is expected`);
    const [id, price, quantity, side, timeUs, recvMs] = r;
    if (typeof id !== 'string' || id.length === 0)
      throw new TradeBatchError(`trade ${i}: id must be a non-empty string`);
    if (!isUnits(price) || !isUnits(quantity))
      throw new TradeBatchError(`trade ${i}: price and quantity must be positive integers of units`);
    if (side !== 'b' && side !== 's') throw new TradeBatchError(`trade ${i}: side must be "b" or "s"`);
    if (!isUnits(timeUs) || typeof recvMs !== 'number' || !Number.isSafeInteger(recvMs))
      throw new TradeBatchError(`trade ${i}: bad timestamps`);
    const s: Side = side === 'b' ? 'buy' : 'sell';
    out[i] = { exchange, symbol, id, price, quantity, side: s, exchangeTimeUs: timeUs, receiveTimeMs: recvMs };
  }
  return tick === undefined
    ? { exchange, symbol, priceScale, quantityScale, trades: out }
    : { exchange, symbol, priceScale, quantityScale, tick, trades: out };
}

/**
 * Nats-Msg-Id of a batch: exchange, symbol, first and last trade id and count. A retried publish of
 * the same batch has the same id and is dropped by JetStream's duplicate window.
 */
export function batchMsgId(batch: TradeBatch): string {
  const n = batch.trades.length;
  if (n === 0) throw new TradeBatchError('an empty batch has no message id');
  return `${batch.exchange}:${batch.symbol}:${batch.trades[0]!.id}:${batch.trades[n - 1]!.id}:${n}`;
}
