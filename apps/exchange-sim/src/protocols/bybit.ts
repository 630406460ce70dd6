import type { IncomingMessage, ServerResponse } from 'node:http';
import { intParam, sendJson, WindowLimiter, type RateLimitOptions } from '../core/http.js';
import { createMarket, type Market } from '../core/market.js';
import { feedMode, resolveMarkets, type MarketSourceOptions } from '../core/setup.js';
import { SimulatorCore } from '../core/simulator.js';
import type { CommonSimOptions, ProtocolAdapter, SimClient, SimHandle } from '../core/simulator.types.js';
import { hashString } from '../sources/random.js';
import type { SimTrade } from '../trade.js';
import { withDefaults } from './common.js';

/**
 * Bybit v5 public trade protocol (stream.bybit.com + api.bybit.com): WS /v5/public/spot and
 * /v5/public/linear with op subscribe/unsubscribe/ping and `publicTrade.<SYMBOL>` frames that batch
 * the trades of one millisecond; REST /v5/market/recent-trade (newest first),
 * /v5/market/instruments-info and /v5/market/time.
 */
export type BybitCategory = 'spot' | 'linear';

export interface BybitSimOptions extends CommonSimOptions, MarketSourceOptions {
  /** Categories served; each synthetic symbol exists in each (default ["spot", "linear"]). */
  readonly categories?: readonly BybitCategory[];
  /** IP request budget (default 600 requests per 5 s, like Bybit; over it: HTTP 403). `false` disables. */
  readonly rateLimit?: RateLimitOptions | false;
  /** Largest `limit` of recent-trade (Bybit: spot 60, linear 1000). */
  readonly recentTradeMax?: Partial<Record<BybitCategory, number>>;
}

const MAX_TRADES_PER_FRAME = 1024;

export async function startBybitSim(options: BybitSimOptions = {}): Promise<SimHandle> {
  const categories =
    options.categories && options.categories.length > 0 ? options.categories : (['spot', 'linear'] as const);
  for (const c of categories)
    if (c !== 'spot' && c !== 'linear') throw new Error(`unknown Bybit category "${String(c)}"`);
  const resolved = await resolveMarkets(options, {
    categories,
    normalize: (symbol, category) => ({
      symbol: symbol.toUpperCase(),
      category,
    }),
    venue: (category) => (category === 'linear' ? 'bybit-linear' : 'bybit-spot'),
  });
  for (const r of resolved)
    if (!categories.includes(r.category as BybitCategory))
      throw new Error(`replay category "${r.category}" is not served (categories: ${categories.join(', ')})`);
  // Bybit cuts a connection after 10 minutes without ping-pong or data
  const opts = withDefaults<BybitSimOptions>(
    {
      idleTimeoutMs: 600_000,
      pingIntervalMs: 0,
      maxIncomingPerSecond: 0,
      maxConnectionAgeMs: 0,
    },
    { ...options, mode: feedMode(options) },
  );
  const core = new SimulatorCore(opts);
  const markets = resolved.map((r) =>
    createMarket({
      key: `${r.category}:${r.symbol}`,
      symbol: r.symbol,
      category: r.category,
      topic: `${r.category}|publicTrade.${r.symbol}`,
      instrument: r.instrument,
      source: r.source,
      historyLimit: opts.historyLimit ?? 200_000,
    }),
  );
  core.attach(new BybitAdapter(core, categories, markets, opts), markets);
  return core.listen();
}

/** Murmur3 finaliser: a bijection on 32-bit integers. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A stable UUID-shaped execution id for a linear trade (the same on the WebSocket and in REST). */
export function bybitExecId(seed: number, id: number): string {
  const lo = id >>> 0;
  const hi = Math.floor(id / 4294967296) >>> 0;
  const words = [
    fmix32(lo ^ seed),
    fmix32(hi ^ 0x5bd1e995 ^ seed),
    fmix32((lo + seed) ^ 0x27d4eb2f),
    fmix32(lo ^ hi ^ 0x165667b1),
  ];
  const hex = words.map((w) => w.toString(16).padStart(8, '0')).join('');
  const variant = ((parseInt(hex[16]!, 16) & 3) | 8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

type TickDirection = 'PlusTick' | 'ZeroPlusTick' | 'MinusTick' | 'ZeroMinusTick';

class BybitAdapter implements ProtocolAdapter {
  readonly protocol = 'bybit';
  private readonly byKey = new Map<string, Market>();
  private readonly limiter: WindowLimiter | undefined;
  private readonly live: boolean;
  private readonly seeds = new Map<Market, number>();
  private readonly direction = new WeakMap<SimTrade, TickDirection>();
  private readonly lastTick = new Map<Market, { price: string; dir: TickDirection }>();
  private readonly recentMax: Record<BybitCategory, number>;

  constructor(
    private readonly core: SimulatorCore,
    private readonly categories: readonly BybitCategory[],
    private readonly markets: readonly Market[],
    options: BybitSimOptions,
  ) {
    for (const m of markets) {
      this.byKey.set(`${m.category}:${m.symbol}`, m);
      this.seeds.set(m, hashString(`${m.category}:${m.symbol}`));
    }
    this.live = (options.mode ?? 'live') === 'live';
    const rl = options.rateLimit;
    this.limiter = rl === false ? undefined : new WindowLimiter(rl?.limit ?? 600, rl?.windowMs ?? 5000);
    this.recentMax = {
      spot: options.recentTradeMax?.spot ?? 60,
      linear: options.recentTradeMax?.linear ?? 1000,
    };
  }

  endpoints(wsOrigin: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const c of this.categories) out[c] = `${wsOrigin}/v5/public/${c}`;
    return out;
  }

  acceptPath(url: URL): boolean {
    const m = /^\/v5\/public\/(spot|linear)\/?$/.exec(url.pathname);
    return m !== null && this.categories.includes(m[1] as BybitCategory);
  }

  onOpen(client: SimClient): void {
    client.state['category'] = /\/v5\/public\/(spot|linear)/.exec(client.url.pathname)![1];
  }

  private execId(market: Market, t: SimTrade): string {
    return market.category === 'spot' ? String(t.id) : bybitExecId(this.seeds.get(market)!, t.id);
  }

  onMessage(client: SimClient, text: string): void {
    const category = client.state['category'] as BybitCategory;
    const spot = category === 'spot';
    let msg: Record<string, unknown>;
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error();
      msg = parsed as Record<string, unknown>;
    } catch {
      this.core.send(
        client,
        JSON.stringify({
          success: false,
          ret_msg: 'error:request is not a JSON object',
          conn_id: client.id,
          op: '',
        }),
      );
      return;
    }
    const op = typeof msg['op'] === 'string' ? msg['op'] : '';
    const reqId =
      typeof msg['req_id'] === 'string'
        ? msg['req_id']
        : msg['req_id'] === undefined
          ? undefined
          : String(msg['req_id']);
    const respond = (success: boolean, retMsg: string) => {
      const body: Record<string, unknown> = {
        success,
        ret_msg: retMsg,
        conn_id: client.id,
      };
      if (!spot || reqId !== undefined) body['req_id'] = reqId ?? '';
      body['op'] = op;
      this.core.send(client, JSON.stringify(body));
    };
    if (op === 'ping') {
      if (!this.core.pingsStalled) respond(true, 'pong');
      return;
    }
    if (op !== 'subscribe' && op !== 'unsubscribe') {
      respond(false, `error:invalid op "${op}"`);
      return;
    }
    const args = msg['args'];
    if (!Array.isArray(args) || args.length === 0 || args.some((a) => typeof a !== 'string')) {
      respond(false, 'error:args must be a non-empty array of topics');
      return;
    }
    if (spot && args.length > 10) {
      respond(false, 'error:args size >10');
      return;
    }
    const topics: string[] = [];
    for (const arg of args as string[]) {
      const m = /^publicTrade\.([A-Z0-9]+)$/.exec(arg);
      const market = m ? this.byKey.get(`${category}:${m[1]}`) : undefined;
      if (!market) {
        respond(false, spot ? `Invalid symbol :[${arg}]` : `error:handler not found,topic:${arg}`);
        return;
      }
      if (op === 'subscribe' && client.topics.has(market.topic)) {
        respond(false, `error:already subscribed,topic:${arg}`);
        return;
      }
      topics.push(market.topic);
    }
    for (const t of topics) {
      if (op === 'subscribe') this.core.subscribe(client, t);
      else this.core.unsubscribe(client, t);
    }
    respond(true, spot ? op : '');
  }

  observe(market: Market, trades: readonly SimTrade[]): void {
    let last = this.lastTick.get(market);
    for (const t of trades) {
      let dir: TickDirection;
      if (!last) dir = 'ZeroPlusTick';
      else {
        const c = comparePrices(t.price, last.price);
        dir =
          c > 0
            ? 'PlusTick'
            : c < 0
              ? 'MinusTick'
              : last.dir === 'PlusTick' || last.dir === 'ZeroPlusTick'
                ? 'ZeroPlusTick'
                : 'ZeroMinusTick';
      }
      this.direction.set(t, dir);
      last = { price: t.price, dir };
    }
    if (last) this.lastTick.set(market, last);
  }

  publish(market: Market, trades: readonly SimTrade[]): void {
    const subs = this.core.subscribers(market.topic);
    if (!subs || subs.size === 0) return;
    const frames: string[] = [];
    const head = `{"topic":"publicTrade.${market.symbol}","type":"snapshot","ts":`;
    let i = 0;
    while (i < trades.length) {
      let j = i + 1;
      while (j < trades.length && j - i < MAX_TRADES_PER_FRAME && trades[j]!.time === trades[i]!.time) j++;
      const items: string[] = [];
      for (let k = i; k < j; k++) {
        const t = trades[k]!;
        items.push(
          `{"T":${t.time},"s":"${market.symbol}","S":"${t.side === 'buy' ? 'Buy' : 'Sell'}","v":"${t.quantity}","p":"${t.price}","L":"${this.direction.get(t) ?? 'ZeroPlusTick'}","i":"${this.execId(market, t)}","BT":false,"seq":${t.id}}`,
        );
      }
      const lastT = trades[j - 1]!;
      const ts = this.live ? this.core.now : (lastT.eventTime ?? lastT.time);
      frames.push(`${head}${ts},"data":[${items.join(',')}]}`);
      i = j;
    }
    for (const c of subs) this.core.sendMany(c, frames);
  }

  // ---- REST --------------------------------------------------------------------------------

  handleRest(req: IncomingMessage, url: URL, res: ServerResponse): boolean {
    const route = url.pathname;
    if (route !== '/v5/market/recent-trade' && route !== '/v5/market/instruments-info' && route !== '/v5/market/time')
      return false;
    if (this.limiter && !this.limiter.take('ip', 1).ok) {
      sendJson(res, 403, {
        retCode: 10006,
        retMsg: 'Too many visits. Exceeded the API Rate Limit.',
        result: {},
        retExtInfo: {},
        time: Date.now(),
      });
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, {
        retCode: 10004,
        retMsg: `method ${req.method ?? ''} not allowed`,
        result: {},
        retExtInfo: {},
        time: Date.now(),
      });
      return true;
    }
    const ok = (result: unknown) =>
      sendJson(res, 200, {
        retCode: 0,
        retMsg: 'OK',
        result,
        retExtInfo: {},
        time: Date.now(),
      });
    const fail = (retMsg: string) =>
      sendJson(res, 200, {
        retCode: 10001,
        retMsg,
        result: {},
        retExtInfo: {},
        time: Date.now(),
      });
    if (route === '/v5/market/time') {
      const now = Date.now();
      ok({
        timeSecond: String(Math.floor(now / 1000)),
        timeNano: `${now}000000`,
      });
      return true;
    }
    const category = url.searchParams.get('category');
    if (category !== 'spot' && category !== 'linear') {
      fail(category ? 'params error: Category is invalid' : 'params error: category is required');
      return true;
    }
    const symbol = url.searchParams.get('symbol');
    if (route === '/v5/market/instruments-info') {
      const list = this.markets
        .filter((m) => m.category === category && (!symbol || m.symbol === symbol))
        .map((m) => instrumentInfo(m));
      ok(category === 'spot' ? { category, list } : { category, list, nextPageCursor: '' });
      return true;
    }
    if (!symbol) {
      fail('params error: symbol is required');
      return true;
    }
    const market = this.byKey.get(`${category}:${symbol}`);
    if (!market) {
      fail('params error: symbol invalid');
      return true;
    }
    const max = this.recentMax[category];
    const requested = intParam(url, 'limit');
    if (requested !== undefined && (Number.isNaN(requested) || requested < 1)) {
      fail('params error: limit invalid');
      return true;
    }
    const limit = Math.min(max, requested ?? (category === 'spot' ? 60 : 500));
    const h = market.history;
    const list: unknown[] = [];
    for (let i = h.size - 1; i >= 0 && list.length < limit; i--) {
      const t = h.at(i)!;
      list.push({
        execId: this.execId(market, t),
        symbol: market.symbol,
        price: t.price,
        size: t.quantity,
        side: t.side === 'buy' ? 'Buy' : 'Sell',
        time: String(t.time),
        isBlockTrade: false,
        isRPITrade: false,
        seq: String(t.id),
      });
    }
    ok({ category, list });
    return true;
  }
}

function instrumentInfo(m: Market): unknown {
  const s = m.instrument;
  if (m.category === 'spot') {
    return {
      symbol: m.symbol,
      baseCoin: s.base,
      quoteCoin: s.quote,
      innovation: '0',
      status: 'Trading',
      marginTrading: 'none',
      stTag: '0',
      lotSizeFilter: {
        basePrecision: s.stepSize,
        quotePrecision: '0.00000001',
        minOrderQty: s.stepSize,
        maxOrderQty: '1000000',
        minOrderAmt: '1',
        maxOrderAmt: '2000000',
      },
      priceFilter: { tickSize: s.tickSize },
      riskParameters: { priceLimitRatioX: '0.01', priceLimitRatioY: '0.02' },
    };
  }
  return {
    symbol: m.symbol,
    contractType: 'LinearPerpetual',
    status: 'Trading',
    baseCoin: s.base,
    quoteCoin: s.quote,
    launchTime: '1585526400000',
    deliveryTime: '0',
    deliveryFeeRate: '',
    priceScale: String(s.priceDecimals),
    leverageFilter: {
      minLeverage: '1',
      maxLeverage: '100.00',
      leverageStep: '0.01',
    },
    priceFilter: {
      minPrice: s.tickSize,
      maxPrice: '1999999.80',
      tickSize: s.tickSize,
    },
    lotSizeFilter: {
      maxOrderQty: '1000000',
      minOrderQty: s.stepSize,
      qtyStep: s.stepSize,
      postOnlyMaxOrderQty: '1000000',
      maxMktOrderQty: '100000',
      minNotionalValue: '5',
    },
    unifiedMarginTrade: true,
    fundingInterval: 480,
    settleCoin: s.quote,
    copyTrading: 'both',
    upperFundingRate: '0.005',
    lowerFundingRate: '-0.005',
    isPreListing: false,
    preListingInfo: null,
  };
}

/** Compares two plain decimal strings numerically, exactly. */
export function comparePrices(a: string, b: string): number {
  if (a === b) return 0;
  const [ai = '', af = ''] = a.split('.');
  const [bi = '', bf = ''] = b.split('.');
  const aInt = ai.replace(/^0+(?=\d)/, '');
  const bInt = bi.replace(/^0+(?=\d)/, '');
  if (aInt.length !== bInt.length) return aInt.length < bInt.length ? -1 : 1;
  if (aInt !== bInt) return aInt < bInt ? -1 : 1;
  const n = Math.max(af.length, bf.length);
  const x = af.padEnd(n, '0');
  const y = bf.padEnd(n, '0');
  return x === y ? 0 : x < y ? -1 : 1;
}
