import type { IncomingMessage, ServerResponse } from 'node:http';
import { intParam, sendJson, WindowLimiter, type RateLimitOptions } from '../core/http.js';
import { ascii, FrameWriter } from '../core/frames.js';
import { createMarket, type Market } from '../core/market.js';
import { feedMode, resolveMarkets, type MarketSourceOptions } from '../core/setup.js';
import { SimulatorCore } from '../core/simulator.js';
import type { CommonSimOptions, ProtocolAdapter, SimClient, SimHandle } from '../core/simulator.types.js';
import { padDecimal } from '../instruments.js';
import type { SimTrade } from '../trade.js';
import { DAY_MS, withDefaults, type Timing } from './common.js';

/**
 * Binance spot (stream.binance.com + api.binance.com) and USDT-M futures (fstream.binance.com +
 * fapi.binance.com) public trade protocol: aggTrade streams on /ws and /stream, live
 * SUBSCRIBE/UNSUBSCRIBE/LIST_SUBSCRIPTIONS/SET_PROPERTY/GET_PROPERTY, server pings, and the REST
 * aggTrades / exchangeInfo / ping / time endpoints with request-weight accounting.
 */
export type BinanceMarketType = 'spot' | 'usdm';

export interface BinanceSimOptions extends CommonSimOptions, MarketSourceOptions {
  /**
   * REST request-weight budget per window (default: spot 6000, futures 2400 per 60 s, like Binance);
   * `false` disables it. Exceeding it answers HTTP 429 with code -1003 and Retry-After.
   */
  readonly rateLimit?: RateLimitOptions | false;
}

const TIMING: Record<BinanceMarketType, Timing> = {
  // spot: ping every 20 s, disconnect without pong within 1 min, 5 incoming messages/s, 24 h lifetime
  spot: {
    pingIntervalMs: 20_000,
    pongTimeoutMs: 60_000,
    idleTimeoutMs: 0,
    maxConnectionAgeMs: DAY_MS,
    maxIncomingPerSecond: 5,
  },
  // USDT-M: ping every 3 min, disconnect without pong within 10 min, 10 incoming messages/s, 24 h
  usdm: {
    pingIntervalMs: 180_000,
    pongTimeoutMs: 600_000,
    idleTimeoutMs: 0,
    maxConnectionAgeMs: DAY_MS,
    maxIncomingPerSecond: 10,
  },
};

const WEIGHT_LIMIT: Record<BinanceMarketType, number> = {
  spot: 6000,
  usdm: 2400,
};

/** Binance spot simulator: WS /ws, /stream; REST /api/v3/{aggTrades,exchangeInfo,ping,time}. */
export function startBinanceSpotSim(options: BinanceSimOptions = {}): Promise<SimHandle> {
  return startBinance('spot', options);
}

/** Binance USDT-M futures simulator: WS /ws, /stream; REST /fapi/v1/{aggTrades,exchangeInfo,ping,time}. */
export function startBinanceFuturesSim(options: BinanceSimOptions = {}): Promise<SimHandle> {
  return startBinance('usdm', options);
}

async function startBinance(kind: BinanceMarketType, options: BinanceSimOptions): Promise<SimHandle> {
  const resolved = await resolveMarkets(options, {
    categories: [kind],
    normalize: (symbol) => ({ symbol: symbol.toUpperCase(), category: kind }),
    venue: () => (kind === 'spot' ? 'binance-spot' : 'binance-usdm'),
  });
  const opts = withDefaults<BinanceSimOptions>({ ...TIMING[kind] }, { ...options, mode: feedMode(options) });
  const core = new SimulatorCore(opts);
  const markets = resolved.map((r) =>
    createMarket({
      key: r.symbol,
      symbol: r.symbol,
      category: kind,
      topic: streamName(r.symbol),
      instrument: r.instrument,
      source: r.source,
      historyLimit: opts.historyLimit ?? 200_000,
    }),
  );
  core.attach(new BinanceAdapter(core, kind, markets, opts), markets);
  return core.listen();
}

function streamName(symbol: string): string {
  return `${symbol.toLowerCase()}@aggTrade`;
}

/** "BTCUSDT@aggTrade" -> "btcusdt@aggTrade"; undefined when it is not a stream name. */
function normalizeStream(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  const at = name.indexOf('@');
  if (at <= 0 || at === name.length - 1) return undefined;
  const sym = name.slice(0, at).toLowerCase();
  const rest = name.slice(at + 1);
  if (!/^[a-z0-9_]+$/.test(sym) || !/^[A-Za-z0-9_@]+$/.test(rest)) return undefined;
  return `${sym}@${rest}`;
}

function aggTradeRest(t: SimTrade, withM: boolean): string {
  return `{"a":${t.id},"p":"${t.price}","q":"${t.quantity}","f":${t.firstId},"l":${t.lastId},"T":${t.time},"m":${t.side === 'sell'}${withM ? `,"M":${t.bestMatch ?? true}` : ''}}`;
}

const P_PRICE = ascii(',"p":"');
const P_QTY = ascii('","q":"');
const P_FIRST = ascii('","f":');
const P_LAST = ascii(',"l":');
const P_TIME = ascii(',"T":');
const P_MAKER_TRUE = ascii(',"m":true');
const P_MAKER_FALSE = ascii(',"m":false');
const P_BEST_TRUE = ascii(',"M":true');
const P_BEST_FALSE = ascii(',"M":false');
const P_CLOSE1 = ascii('}');
const P_CLOSE2 = ascii('}}');

class BinanceAdapter implements ProtocolAdapter {
  readonly protocol: string;
  private readonly writer = new FrameWriter();
  private readonly pieces = new Map<Market, { head: Buffer; bare: Buffer; symbol: Buffer }>();
  private readonly bySymbol = new Map<string, Market>();
  private readonly limiter: WindowLimiter | undefined;
  private readonly live: boolean;
  private readonly prefix: string;

  constructor(
    private readonly core: SimulatorCore,
    private readonly kind: BinanceMarketType,
    private readonly markets: readonly Market[],
    options: BinanceSimOptions,
  ) {
    this.protocol = kind === 'spot' ? 'binance-spot' : 'binance-usdm';
    for (const m of markets) this.bySymbol.set(m.symbol, m);
    this.live = (options.mode ?? 'live') === 'live';
    this.prefix = kind === 'spot' ? '/api/v3/' : '/fapi/v1/';
    const rl = options.rateLimit;
    this.limiter =
      rl === false ? undefined : new WindowLimiter(rl?.limit ?? WEIGHT_LIMIT[kind], rl?.windowMs ?? 60_000);
  }

  endpoints(wsOrigin: string): Record<string, string> {
    const first = this.markets[0] ? streamName(this.markets[0].symbol) : 'btcusdt@aggTrade';
    return {
      raw: `${wsOrigin}/ws`,
      combined: `${wsOrigin}/stream`,
      example: `${wsOrigin}/ws/${first}`,
    };
  }

  acceptPath(url: URL): boolean {
    const p = url.pathname;
    return p === '/ws' || p.startsWith('/ws/') || p === '/stream' || p === '/stream/';
  }

  onOpen(client: SimClient): void {
    const p = client.url.pathname;
    let streams: string[] = [];
    if (p.startsWith('/stream')) {
      client.combined = true;
      streams = (client.url.searchParams.get('streams') ?? '').split('/');
    } else if (p.startsWith('/ws/')) {
      streams = p.slice(4).split('/');
    }
    for (const s of streams) {
      const name = normalizeStream(decodeURIComponent(s));
      if (name) this.core.subscribe(client, name);
    }
  }

  onMessage(client: SimClient, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.core.send(
        client,
        JSON.stringify({
          error: {
            code: 3,
            msg: 'Invalid JSON: expected value at line 1 column 1',
          },
        }),
      );
      return;
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      this.core.send(
        client,
        JSON.stringify({
          error: {
            code: 2,
            msg: 'Invalid request: request must be a JSON object',
          },
          id: null,
        }),
      );
      return;
    }
    const req = msg as Record<string, unknown>;
    const id = req['id'] ?? null;
    if (id !== null && typeof id !== 'string' && !(typeof id === 'number' && Number.isInteger(id) && id >= 0)) {
      this.core.send(
        client,
        JSON.stringify({
          error: {
            code: 1,
            msg: 'Invalid value type: expected unsigned integer, string or null for "id"',
          },
          id: null,
        }),
      );
      return;
    }
    const reply = (result: unknown) => this.core.send(client, JSON.stringify({ result, id }));
    const error = (code: number, m: string) => this.core.send(client, JSON.stringify({ error: { code, msg: m }, id }));
    const params = req['params'];
    switch (req['method']) {
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE': {
        if (!Array.isArray(params) || params.length === 0)
          return error(2, 'Invalid request: "params" must be a non-empty array of stream names');
        const names: string[] = [];
        for (const p of params) {
          const name = normalizeStream(p);
          if (!name) return error(2, `Invalid request: invalid stream name ${JSON.stringify(p)}`);
          names.push(name);
        }
        for (const name of names) {
          if (req['method'] === 'SUBSCRIBE') this.core.subscribe(client, name);
          else this.core.unsubscribe(client, name);
        }
        return reply(null);
      }
      case 'LIST_SUBSCRIPTIONS':
        return reply([...client.topics]);
      case 'SET_PROPERTY':
        if (!Array.isArray(params) || params[0] !== 'combined' || typeof params[1] !== 'boolean')
          return error(2, 'Invalid request: expected params ["combined", true|false]');
        client.combined = params[1];
        return reply(null);
      case 'GET_PROPERTY':
        if (!Array.isArray(params) || params[0] !== 'combined')
          return error(2, 'Invalid request: expected params ["combined"]');
        return reply(client.combined);
      default:
        return error(
          2,
          `Invalid request: unknown method ${JSON.stringify(req['method'])}, expected one of SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY`,
        );
    }
  }

  publish(market: Market, trades: readonly SimTrade[]): void {
    const subs = this.core.subscribers(market.topic);
    if (!subs || subs.size === 0) return;
    let raw: Buffer | undefined;
    let wrapped: Buffer | undefined;
    for (const c of subs)
      this.core.sendEncoded(
        c,
        c.combined ? (wrapped ??= this.encode(market, trades, true)) : (raw ??= this.encode(market, trades, false)),
        trades.length,
      );
  }

  /**
   * The aggTrade frames of a batch, written straight into one buffer (FrameWriter): the same bytes
   * as the template `{"e":"aggTrade","E":..,"s":..,...}` (wrapped as {"stream":..,"data":..} for
   * combined clients), without a string per frame.
   */
  private encode(market: Market, trades: readonly SimTrade[], combined: boolean): Buffer {
    let p = this.pieces.get(market);
    if (!p) {
      p = {
        head: ascii(`{"stream":"${market.topic}","data":{"e":"aggTrade","E":`),
        bare: ascii('{"e":"aggTrade","E":'),
        symbol: ascii(`,"s":"${market.symbol}","a":`),
      };
      this.pieces.set(market, p);
    }
    const w = this.writer;
    const now = this.core.now;
    const spot = this.kind === 'spot';
    const live = this.live;
    for (let i = 0; i < trades.length; i++) {
      const t = trades[i]!;
      w.begin();
      w.bytes(combined ? p.head : p.bare);
      w.int(live ? now : (t.eventTime ?? t.time));
      w.bytes(p.symbol);
      w.int(t.id);
      w.bytes(P_PRICE);
      w.string(t.price);
      w.bytes(P_QTY);
      w.string(t.quantity);
      w.bytes(P_FIRST);
      w.int(t.firstId);
      w.bytes(P_LAST);
      w.int(t.lastId);
      w.bytes(P_TIME);
      w.int(t.time);
      w.bytes(t.side === 'sell' ? P_MAKER_TRUE : P_MAKER_FALSE);
      if (spot) w.bytes((t.bestMatch ?? true) ? P_BEST_TRUE : P_BEST_FALSE);
      w.bytes(combined ? P_CLOSE2 : P_CLOSE1);
      w.end();
    }
    return w.take();
  }

  // ---- REST --------------------------------------------------------------------------------

  handleRest(req: IncomingMessage, url: URL, res: ServerResponse): boolean {
    if (!url.pathname.startsWith(this.prefix)) return false;
    const endpoint = url.pathname.slice(this.prefix.length);
    const spot = this.kind === 'spot';
    const weights: Record<string, number> = spot
      ? { ping: 1, time: 1, exchangeInfo: 20, aggTrades: 4 }
      : { ping: 1, time: 1, exchangeInfo: 1, aggTrades: 20 };
    const weight = weights[endpoint];
    if (weight === undefined) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, {
        code: -1000,
        msg: `${req.method ?? ''} is not supported for ${url.pathname}`,
      });
      return true;
    }
    const headers: Record<string, string | number> = {};
    if (this.limiter) {
      const { used, ok, retryAfterMs } = this.limiter.take('ip', weight);
      if (spot) headers['x-mbx-used-weight'] = used;
      headers['x-mbx-used-weight-1m'] = used;
      if (!ok) {
        headers['retry-after'] = Math.max(1, Math.ceil(retryAfterMs / 1000));
        sendJson(
          res,
          429,
          {
            code: -1003,
            msg: `Too much request weight used; current limit is ${this.limiter.limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
          },
          headers,
        );
        return true;
      }
    }
    switch (endpoint) {
      case 'ping':
        sendJson(res, 200, '{}', headers);
        return true;
      case 'time':
        sendJson(res, 200, { serverTime: Date.now() }, headers);
        return true;
      case 'exchangeInfo':
        this.exchangeInfo(url, res, headers);
        return true;
      default:
        this.aggTrades(url, res, headers);
        return true;
    }
  }

  private aggTrades(url: URL, res: ServerResponse, headers: Record<string, string | number>): void {
    const fail = (code: number, msg: string) => sendJson(res, 400, { code, msg }, headers);
    const symbol = url.searchParams.get('symbol');
    if (!symbol) return fail(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    const market = this.bySymbol.get(symbol);
    if (!market) return fail(-1121, 'Invalid symbol.');
    const nums: Record<string, number | undefined> = {};
    for (const name of ['fromId', 'startTime', 'endTime', 'limit']) {
      const v = intParam(url, name);
      if (v !== undefined && (Number.isNaN(v) || v < 0))
        return fail(-1100, `Illegal characters found in parameter '${name}'; legal range is '^[0-9]{1,20}$'.`);
      nums[name] = v;
    }
    const { fromId, startTime, endTime } = nums;
    const limit = Math.min(1000, Math.max(1, nums['limit'] ?? 500));
    if (startTime !== undefined && endTime !== undefined) {
      if (endTime < startTime) return fail(-1104, 'startTime must be less than or equal to endTime.');
      if (endTime - startTime > 3_600_000) return fail(-1127, 'More than 1 hours between startTime and endTime.');
    }
    const h = market.history;
    let lo: number;
    let hi = h.size;
    if (endTime !== undefined) hi = h.lowerBoundTime(endTime + 1);
    if (fromId !== undefined) {
      lo = h.lowerBoundId(fromId);
      if (startTime !== undefined) lo = Math.max(lo, h.lowerBoundTime(startTime));
    } else if (startTime !== undefined) {
      lo = h.lowerBoundTime(startTime);
    } else {
      lo = Math.max(0, hi - limit);
    }
    hi = Math.min(hi, lo + limit);
    const withM = this.kind === 'spot';
    const parts: string[] = [];
    for (let i = lo; i < hi; i++) parts.push(aggTradeRest(h.at(i)!, withM));
    sendJson(res, 200, `[${parts.join(',')}]`, headers);
  }

  private exchangeInfo(url: URL, res: ServerResponse, headers: Record<string, string | number>): void {
    let selected: readonly Market[] = this.markets;
    if (this.kind === 'spot') {
      const one = url.searchParams.get('symbol');
      const many = url.searchParams.get('symbols');
      let wanted: string[] | undefined;
      if (one) wanted = [one];
      else if (many) {
        try {
          const parsed = JSON.parse(many) as unknown;
          if (!Array.isArray(parsed)) throw new Error();
          wanted = parsed.map(String);
        } catch {
          sendJson(
            res,
            400,
            {
              code: -1100,
              msg: "Illegal characters found in parameter 'symbols'.",
            },
            headers,
          );
          return;
        }
      }
      if (wanted) {
        const found = wanted.map((s) => this.bySymbol.get(s));
        if (found.some((m) => m === undefined)) {
          sendJson(res, 400, { code: -1121, msg: 'Invalid symbol.' }, headers);
          return;
        }
        selected = found as Market[];
      }
      sendJson(res, 200, this.spotInfo(selected), headers);
    } else {
      sendJson(res, 200, this.futuresInfo(selected), headers);
    }
  }

  private spotInfo(markets: readonly Market[]): unknown {
    return {
      timezone: 'UTC',
      serverTime: Date.now(),
      rateLimits: [
        {
          rateLimitType: 'REQUEST_WEIGHT',
          interval: 'MINUTE',
          intervalNum: 1,
          limit: this.limiter?.limit ?? 6000,
        },
        {
          rateLimitType: 'ORDERS',
          interval: 'SECOND',
          intervalNum: 10,
          limit: 100,
        },
        {
          rateLimitType: 'ORDERS',
          interval: 'DAY',
          intervalNum: 1,
          limit: 200000,
        },
        {
          rateLimitType: 'RAW_REQUESTS',
          interval: 'MINUTE',
          intervalNum: 5,
          limit: 61000,
        },
      ],
      exchangeFilters: [],
      symbols: markets.map((m) => {
        const s = m.instrument;
        return {
          symbol: m.symbol,
          status: 'TRADING',
          baseAsset: s.base,
          baseAssetPrecision: 8,
          quoteAsset: s.quote,
          quotePrecision: 8,
          quoteAssetPrecision: 8,
          baseCommissionPrecision: 8,
          quoteCommissionPrecision: 8,
          orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
          icebergAllowed: true,
          ocoAllowed: true,
          otoAllowed: true,
          quoteOrderQtyMarketAllowed: true,
          allowTrailingStop: true,
          cancelReplaceAllowed: true,
          isSpotTradingAllowed: true,
          isMarginTradingAllowed: false,
          filters: [
            {
              filterType: 'PRICE_FILTER',
              minPrice: padDecimal(s.tickSize, 8),
              maxPrice: '1000000.00000000',
              tickSize: padDecimal(s.tickSize, 8),
            },
            {
              filterType: 'LOT_SIZE',
              minQty: padDecimal(s.stepSize, 8),
              maxQty: '9000000.00000000',
              stepSize: padDecimal(s.stepSize, 8),
            },
          ],
          permissions: [],
          permissionSets: [['SPOT']],
          defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
          allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
        };
      }),
    };
  }

  private futuresInfo(markets: readonly Market[]): unknown {
    return {
      timezone: 'UTC',
      serverTime: Date.now(),
      futuresType: 'U_MARGINED',
      rateLimits: [
        {
          rateLimitType: 'REQUEST_WEIGHT',
          interval: 'MINUTE',
          intervalNum: 1,
          limit: this.limiter?.limit ?? 2400,
        },
        {
          rateLimitType: 'ORDERS',
          interval: 'MINUTE',
          intervalNum: 1,
          limit: 1200,
        },
        {
          rateLimitType: 'ORDERS',
          interval: 'SECOND',
          intervalNum: 10,
          limit: 300,
        },
      ],
      exchangeFilters: [],
      assets: [{ asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' }],
      symbols: markets.map((m) => {
        const s = m.instrument;
        return {
          symbol: m.symbol,
          pair: m.symbol,
          contractType: 'PERPETUAL',
          deliveryDate: 4133404800000,
          onboardDate: 1569398400000,
          status: 'TRADING',
          baseAsset: s.base,
          quoteAsset: s.quote,
          marginAsset: s.quote,
          pricePrecision: s.priceDecimals,
          quantityPrecision: s.qtyDecimals,
          baseAssetPrecision: 8,
          quotePrecision: 8,
          underlyingType: 'COIN',
          underlyingSubType: [],
          filters: [
            {
              filterType: 'PRICE_FILTER',
              maxPrice: '4529764',
              tickSize: s.tickSize,
              minPrice: s.tickSize,
            },
            {
              filterType: 'LOT_SIZE',
              stepSize: s.stepSize,
              maxQty: '1000000',
              minQty: s.stepSize,
            },
            {
              filterType: 'MARKET_LOT_SIZE',
              stepSize: s.stepSize,
              maxQty: '1000000',
              minQty: s.stepSize,
            },
          ],
          orderTypes: [
            'LIMIT',
            'MARKET',
            'STOP',
            'STOP_MARKET',
            'TAKE_PROFIT',
            'TAKE_PROFIT_MARKET',
            'TRAILING_STOP_MARKET',
          ],
          timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
        };
      }),
    };
  }
}
