/**
 * An independent reading of each exchange's public trade messages, written from the exchanges'
 * documents (not from libs/normalizers, which this file must never import): what trades a frame
 * carries, with their values as exact fixed-point numbers. The normaliser fuzzer checks every trade
 * a normaliser accepts against it.
 *
 * - Binance aggTrade stream, raw or in a combined-stream envelope `{"stream":..,"data":..}`:
 *   https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#aggregate-trade-streams
 *   `a` aggregate trade id (a number), `p` price and `q` quantity (decimal strings), `f`/`l` first
 *   and last trade id, `T` trade time (ms), `m` "is the buyer the market maker?": true means the
 *   buyer was resting, so the SELLER was the aggressor. Replies to requests carry `result` or `error`.
 * - Binance REST aggTrades (an array of the same objects without `e`/`s`, for the requested symbol):
 *
 * https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#compressedaggregate-trades-list
 * - Bybit v5 `publicTrade.<symbol>` push: https://bybit-exchange.github.io/docs/v5/websocket/public/trade
 *   `data[]` of `T` (ms, a number), `s` symbol, `S` "Buy"/"Sell" (the taker's side), `v` size and
 *   `p` price (decimal strings), `i` trade id (a string). Replies to requests carry `op` or `success`.
 * - Bybit REST recent-trade: https://bybit-exchange.github.io/docs/v5/market/recent-trade
 *   `result.list[]` newest first, of `execId`, `symbol`, `price`, `size`, `side` ("Buy"/"Sell"),
 *   `time` (ms as a string); `retCode` 0 on success.
 * - OKX v5 `trades` / `trades-all` channels:
 * https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-trades-channel
 *   `data[]` of `instId`, `tradeId` (string), `px`, `sz` (decimal strings), `side` "buy"/"sell"
 *   (the taker's side), `ts` (ms as a string); the text `pong` and `event` messages are not trades.
 * - OKX REST history-trades: https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-trades-history
 *   `data[]` newest first, the same fields; `code` "0" on success.
 *
 * The reading is about the values of the trades. It does not re-derive every refusal a normaliser
 * may add (ids of odd characters, times outside 2009-2100): a frame it reads as trades may still
 * be refused, but a trade that is accepted must be one it reads, value for value.
 */

/** A market's scales, from its price tick and quantity step as the exchange lists them ("0.01"). */
export interface OracleMarket {
  tickSize: string;
  stepSize: string;
}

/** One trade as the documents define it: prices and quantities as integers of 10^-scale. */
export interface ExpectedTrade {
  symbol: string;
  id: string;
  /** Price in units of 10^-priceScale, and the exact decimal it was read from. */
  price: bigint;
  priceText: string;
  quantity: bigint;
  quantityText: string;
  /** The aggressor: who crossed the spread. */
  side: 'buy' | 'sell';
  exchangeTimeUs: bigint;
  /** Binance aggTrade only: the first and last underlying trade ids. */
  firstTradeId?: string;
  lastTradeId?: string;
}

export type Reading =
  | { kind: 'trades'; trades: ExpectedTrade[] }
  | { kind: 'control' }
  | { kind: 'not-trades'; why: string };

/** What a normaliser gave: the fields of a Trade (and Binance's first/last ids). */
export interface ActualTrade {
  exchange: string;
  symbol: string;
  id: string;
  price: number;
  quantity: number;
  side: string;
  exchangeTimeUs: number;
  receiveTimeMs: number;
  firstTradeId?: string;
  lastTradeId?: string;
}

const MAX_UNITS = 2n ** 53n - 1n;

class NotTrades extends Error {}
const no = (why: string): never => {
  throw new NotTrades(why);
};

/** Decimals of a tick or step size as listed ("0.01" -> 2, "1" -> 0; trailing zeros count, as listed). */
export function decimalsOfStep(step: string): number {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(step);
  if (!m) throw new Error(`step ${JSON.stringify(step)} is not a decimal`);
  return (m[2] ?? '').replace(/0+$/, '').length;
}

/**
 * A plain non-negative decimal string (digits, at most one point, at least one digit: no sign, no
 * exponent, no spaces) as integer units of 10^-scale, or why not: decimals beyond the scale must
 * be zeros, the value must be above 0 and at most 2^53 - 1 units (the README's definition).
 */
export function decimalUnits(text: unknown, scale: number, field: string): { units: bigint; text: string } {
  if (typeof text !== 'string') return no(`${field} is not a string`);
  const m = /^([0-9]*)(?:\.([0-9]*))?$/.exec(text);
  if (!m || (m[1] ?? '') + (m[2] ?? '') === '') return no(`${field} is not a plain decimal`);
  const frac = m[2] ?? '';
  if (/[1-9]/.test(frac.slice(scale))) return no(`${field} has more than ${scale} decimals`);
  const units = BigInt((m[1] || '0') + frac.slice(0, scale).padEnd(scale, '0'));
  if (units === 0n) return no(`${field} is zero`);
  if (units > MAX_UNITS) return no(`${field} exceeds 2^53 - 1 units`);
  return { units, text };
}

/** A JSON number that is a whole non-negative integer, as its decimal digits. */
function integerId(v: unknown, field: string): string {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER)
    return no(`${field} is not a non-negative integer`);
  return BigInt(v).toString();
}

/** Milliseconds as a JSON number: in µs. */
function msNumber(v: unknown, field: string): bigint {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER)
    return no(`${field} is not a millisecond count`);
  return BigInt(v) * 1000n;
}

/** Milliseconds as a string of digits: in µs. */
function msString(v: unknown, field: string): bigint {
  if (typeof v !== 'string' || !/^[0-9]+$/.test(v)) return no(`${field} is not a string of millisecond digits`);
  return BigInt(v) * 1000n;
}

function nonEmptyString(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0) return no(`${field} is not a non-empty string`);
  return v;
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return no(`${what} is not an object`);
  return v as Record<string, unknown>;
}

function array(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) return no(`${what} is not an array`);
  return v;
}

const has = (o: Record<string, unknown>, k: string) => Object.prototype.hasOwnProperty.call(o, k);

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return no('not JSON');
  }
}

function market(
  markets: ReadonlyMap<string, OracleMarket>,
  symbol: unknown,
  field: string,
): { symbol: string; priceScale: number; quantityScale: number } {
  if (typeof symbol !== 'string') return no(`${field} is not a string`);
  const m = markets.get(symbol);
  if (!m) return no(`${field} ${symbol.slice(0, 40)} is not a configured market`);
  return { symbol, priceScale: decimalsOfStep(m.tickSize), quantityScale: decimalsOfStep(m.stepSize) };
}

function read(f: () => Reading): Reading {
  try {
    return f();
  } catch (e) {
    if (e instanceof NotTrades) return { kind: 'not-trades', why: e.message };
    throw e;
  }
}

/** One Binance aggTrade object (stream `data` or a REST row) of a known market. */
function binanceAggTrade(
  d: Record<string, unknown>,
  mk: { symbol: string; priceScale: number; quantityScale: number },
  where: string,
): ExpectedTrade {
  const id = integerId(d['a'], `${where}a`);
  const firstTradeId = integerId(d['f'], `${where}f`);
  const lastTradeId = integerId(d['l'], `${where}l`);
  const exchangeTimeUs = msNumber(d['T'], `${where}T`);
  const p = decimalUnits(d['p'], mk.priceScale, `${where}p`);
  const q = decimalUnits(d['q'], mk.quantityScale, `${where}q`);
  const m = d['m'];
  if (typeof m !== 'boolean') return no(`${where}m is not a boolean`);
  // m: the buyer is the maker, so the seller took liquidity.
  const side = m ? 'sell' : 'buy';
  return {
    symbol: mk.symbol,
    id,
    price: p.units,
    priceText: p.text,
    quantity: q.units,
    quantityText: q.text,
    side,
    exchangeTimeUs,
    firstTradeId,
    lastTradeId,
  };
}

/** A Binance aggTrade stream frame, raw or combined. */
export function readBinanceStreamFrame(text: string, markets: ReadonlyMap<string, OracleMarket>): Reading {
  return read(() => {
    const root = object(json(text), 'the frame');
    if (has(root, 'result') || has(root, 'error')) return { kind: 'control' };
    let d = root;
    if (has(root, 'stream') || has(root, 'data')) {
      if (typeof root['stream'] !== 'string') return no('stream is not a string');
      d = object(root['data'], 'data');
    }
    if (d['e'] !== 'aggTrade') return no('e is not aggTrade');
    return { kind: 'trades', trades: [binanceAggTrade(d, market(markets, d['s'], 's'), '')] };
  });
}

/** A Binance REST aggTrades body for `symbol`, oldest first as listed. */
export function readBinanceRestAggTrades(
  text: string,
  symbol: string,
  markets: ReadonlyMap<string, OracleMarket>,
): Reading {
  return read(() => {
    const rows = array(json(text), 'the body');
    const mk = market(markets, symbol, 'the requested symbol');
    return { kind: 'trades', trades: rows.map((r, i) => binanceAggTrade(object(r, `row ${i}`), mk, `[${i}].`)) };
  });
}

function bybitSide(v: unknown, field: string): 'buy' | 'sell' {
  if (v === 'Buy') return 'buy';
  if (v === 'Sell') return 'sell';
  return no(`${field} is not "Buy" or "Sell"`);
}

/** A Bybit v5 public WebSocket frame. */
export function readBybitFrame(text: string, markets: ReadonlyMap<string, OracleMarket>): Reading {
  return read(() => {
    const root = object(json(text), 'the frame');
    if (has(root, 'op') || has(root, 'success')) return { kind: 'control' };
    const topic = root['topic'];
    if (typeof topic !== 'string' || !topic.startsWith('publicTrade.')) return no('topic is not publicTrade.<symbol>');
    const data = array(root['data'], 'data');
    return {
      kind: 'trades',
      trades: data.map((x, i): ExpectedTrade => {
        const d = object(x, `data[${i}]`);
        const mk = market(markets, d['s'], `data[${i}].s`);
        const p = decimalUnits(d['p'], mk.priceScale, `data[${i}].p`);
        const v = decimalUnits(d['v'], mk.quantityScale, `data[${i}].v`);
        return {
          symbol: mk.symbol,
          id: nonEmptyString(d['i'], `data[${i}].i`),
          price: p.units,
          priceText: p.text,
          quantity: v.units,
          quantityText: v.text,
          side: bybitSide(d['S'], `data[${i}].S`),
          exchangeTimeUs: msNumber(d['T'], `data[${i}].T`),
        };
      }),
    };
  });
}

/** A Bybit recent-trade body: the trades oldest first (the list is newest first). */
export function readBybitRecentTrades(text: string, markets: ReadonlyMap<string, OracleMarket>): Reading {
  return read(() => {
    const root = object(json(text), 'the body');
    if (root['retCode'] !== 0) return no('retCode is not 0');
    const list = array(object(root['result'], 'result')['list'], 'result.list');
    const trades = list.map((x, i): ExpectedTrade => {
      const d = object(x, `list[${i}]`);
      const mk = market(markets, d['symbol'], `list[${i}].symbol`);
      const p = decimalUnits(d['price'], mk.priceScale, `list[${i}].price`);
      const s = decimalUnits(d['size'], mk.quantityScale, `list[${i}].size`);
      return {
        symbol: mk.symbol,
        id: nonEmptyString(d['execId'], `list[${i}].execId`),
        price: p.units,
        priceText: p.text,
        quantity: s.units,
        quantityText: s.text,
        side: bybitSide(d['side'], `list[${i}].side`),
        exchangeTimeUs: msString(d['time'], `list[${i}].time`),
      };
    });
    return { kind: 'trades', trades: trades.reverse() };
  });
}

function okxTrades(data: unknown[], markets: ReadonlyMap<string, OracleMarket>): ExpectedTrade[] {
  return data.map((x, i): ExpectedTrade => {
    const d = object(x, `data[${i}]`);
    const mk = market(markets, d['instId'], `data[${i}].instId`);
    const px = decimalUnits(d['px'], mk.priceScale, `data[${i}].px`);
    const sz = decimalUnits(d['sz'], mk.quantityScale, `data[${i}].sz`);
    const side = d['side'];
    if (side !== 'buy' && side !== 'sell') return no(`data[${i}].side is not "buy" or "sell"`);
    return {
      symbol: mk.symbol,
      id: nonEmptyString(d['tradeId'], `data[${i}].tradeId`),
      price: px.units,
      priceText: px.text,
      quantity: sz.units,
      quantityText: sz.text,
      side,
      exchangeTimeUs: msString(d['ts'], `data[${i}].ts`),
    };
  });
}

/** An OKX v5 public/business WebSocket frame of the trades or trades-all channel. */
export function readOkxFrame(text: string, markets: ReadonlyMap<string, OracleMarket>): Reading {
  if (text === 'pong') return { kind: 'control' };
  return read(() => {
    const root = object(json(text), 'the frame');
    if (has(root, 'event')) return { kind: 'control' };
    const channel = object(root['arg'], 'arg')['channel'];
    if (channel !== 'trades' && channel !== 'trades-all') return no('arg.channel is not trades or trades-all');
    return { kind: 'trades', trades: okxTrades(array(root['data'], 'data'), markets) };
  });
}

/** An OKX history-trades body: the trades oldest first (data is newest first). */
export function readOkxHistoryTrades(text: string, markets: ReadonlyMap<string, OracleMarket>): Reading {
  return read(() => {
    const root = object(json(text), 'the body');
    if (root['code'] !== '0') return no('code is not "0"');
    return { kind: 'trades', trades: okxTrades(array(root['data'], 'data'), markets).reverse() };
  });
}

/**
 * Why the trades a normaliser accepted differ from the reading, or null when they are the same
 * trades, value for value, in the same order (exchange and receive time as given to it).
 */
export function compareTrades(
  actual: readonly ActualTrade[],
  reading: Reading,
  exchange: string,
  receiveTimeMs: number,
): string | null {
  if (reading.kind !== 'trades')
    return `accepted ${actual.length} trade(s) from a frame the documents read as ${reading.kind === 'control' ? 'a control message' : `no trades (${reading.why})`}`;
  if (actual.length !== reading.trades.length)
    return `accepted ${actual.length} trade(s), the frame carries ${reading.trades.length}`;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = reading.trades[i]!;
    const diffs: string[] = [];
    const same = (what: string, got: unknown, want: unknown) => {
      if (got !== want)
        diffs.push(
          `${what} ${JSON.stringify(typeof got === 'bigint' ? String(got) : got)} instead of ${JSON.stringify(typeof want === 'bigint' ? String(want) : want)}`,
        );
    };
    same('exchange', a.exchange, exchange);
    same('symbol', a.symbol, e.symbol);
    same('id', a.id, e.id);
    if (!Number.isSafeInteger(a.price) || BigInt(a.price) !== e.price)
      diffs.push(`price ${a.price} units instead of ${e.price} ("${e.priceText}")`);
    if (!Number.isSafeInteger(a.quantity) || BigInt(a.quantity) !== e.quantity)
      diffs.push(`quantity ${a.quantity} units instead of ${e.quantity} ("${e.quantityText}")`);
    same('side', a.side, e.side);
    if (!Number.isSafeInteger(a.exchangeTimeUs) || BigInt(a.exchangeTimeUs) !== e.exchangeTimeUs)
      diffs.push(`exchangeTimeUs ${a.exchangeTimeUs} instead of ${e.exchangeTimeUs}`);
    same('receiveTimeMs', a.receiveTimeMs, receiveTimeMs);
    if (e.firstTradeId !== undefined) same('firstTradeId', a.firstTradeId, e.firstTradeId);
    if (e.lastTradeId !== undefined) same('lastTradeId', a.lastTradeId, e.lastTradeId);
    if (diffs.length > 0) return `trade ${i}: ${diffs.join(', ')}`;
  }
  return null;
}
