import type { IncomingMessage, ServerResponse } from 'node:http';
import { intParam, sendJson, WindowLimiter, type RateLimitOptions } from '../core/http.js';
import { createMarket, type Market } from '../core/market.js';
import { feedMode, resolveMarkets, type MarketSourceOptions } from '../core/setup.js';
import { SimulatorCore } from '../core/simulator.js';
import type { CommonSimOptions, ProtocolAdapter, SimClient, SimHandle } from '../core/simulator.types.js';
import { okxInstType, toOkxInstId } from '../instruments.js';
import type { SimTrade } from '../trade.js';
import { withDefaults } from './common.js';

/**
 * OKX v5 public trade protocol (ws.okx.com/ws/v5/public and /ws/v5/business + www.okx.com/api/v5):
 * `trades` (public) and `trades-all` (business) channel subscriptions by instId, text ping/pong, and REST
 * market/trades, market/history-trades (tradeId or
 * timestamp pagination, newest first), public/instruments and public/time.
 */
export interface OkxSimOptions extends CommonSimOptions, MarketSourceOptions {
  /** Instrument type for symbols given without dashes ("BTCUSDT" -> "BTC-USDT" or "BTC-USDT-SWAP"); default SPOT. */
  readonly instType?: 'SPOT' | 'SWAP';
  /**
   * Per-endpoint request budget; default like OKX per IP: trades 100, history-trades 20,
   * instruments 20, time 10 requests per 2 s. A value here applies to every endpoint. `false` disables.
   */
  readonly rateLimit?: RateLimitOptions | false;
}

const ENDPOINT_LIMITS: Record<string, number> = {
  '/api/v5/market/trades': 100,
  '/api/v5/market/history-trades': 20,
  '/api/v5/public/instruments': 20,
  '/api/v5/public/time': 10,
};

export async function startOkxSim(options: OkxSimOptions = {}): Promise<SimHandle> {
  const instType = options.instType ?? 'SPOT';
  const resolved = await resolveMarkets(options, {
    categories: [instType],
    normalize: (symbol) => {
      const instId = toOkxInstId(symbol, instType);
      return { symbol: instId, category: okxInstType(instId) };
    },
    venue: (category) => (category === 'SWAP' ? 'okx-swap' : 'okx-spot'),
  });
  // OKX: "the connection will break if no data is pushed or received for 30 seconds"
  const opts = withDefaults<OkxSimOptions>(
    {
      idleTimeoutMs: 30_000,
      pingIntervalMs: 0,
      maxIncomingPerSecond: 0,
      maxConnectionAgeMs: 0,
    },
    { ...options, mode: feedMode(options) },
  );
  const core = new SimulatorCore(opts);
  const markets = resolved.map((r) =>
    createMarket({
      key: r.symbol,
      symbol: r.symbol,
      category: r.category,
      topic: `trades-all:${r.symbol}`,
      instrument: r.instrument,
      source: r.source,
      historyLimit: opts.historyLimit ?? 200_000,
    }),
  );
  core.attach(new OkxAdapter(core, markets, opts), markets);
  return core.listen();
}

class OkxAdapter implements ProtocolAdapter {
  readonly protocol = 'okx';
  readonly idleClose = { code: 4004, reason: 'No data received in 30s.' };
  private readonly byInstId = new Map<string, Market>();
  private readonly limiter: WindowLimiter | undefined;
  private readonly limits: Record<string, number>;

  constructor(
    private readonly core: SimulatorCore,
    private readonly markets: readonly Market[],
    options: OkxSimOptions,
  ) {
    for (const m of markets) this.byInstId.set(m.symbol, m);
    const rl = options.rateLimit;
    this.limits = { ...ENDPOINT_LIMITS };
    if (rl && rl.limit !== undefined) for (const k of Object.keys(this.limits)) this.limits[k] = rl.limit;
    this.limiter = rl === false ? undefined : new WindowLimiter(Number.MAX_SAFE_INTEGER, (rl && rl.windowMs) ?? 2000);
  }

  endpoints(wsOrigin: string): Record<string, string> {
    return {
      public: `${wsOrigin}/ws/v5/public`,
      business: `${wsOrigin}/ws/v5/business`,
    };
  }

  acceptPath(url: URL): boolean {
    return /^\/ws\/v5\/(public|business)\/?$/.test(url.pathname);
  }

  /** `trades` lives on /ws/v5/public, `trades-all` on /ws/v5/business, like OKX. */
  onOpen(client: SimClient): void {
    client.state['channel'] = client.url.pathname.startsWith('/ws/v5/business') ? 'trades-all' : 'trades';
  }

  private connId(client: SimClient): string {
    return client.id.replace(/-/g, '').slice(0, 8);
  }

  onMessage(client: SimClient, text: string): void {
    if (text === 'ping') {
      if (!this.core.pingsStalled) this.core.send(client, 'pong');
      return;
    }
    const connId = this.connId(client);
    const error = (code: string, msg: string, id?: string) =>
      this.core.send(
        client,
        JSON.stringify({
          ...(id !== undefined ? { id } : {}),
          event: 'error',
          code,
          msg,
          connId,
        }),
      );
    let msg: Record<string, unknown>;
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error();
      msg = parsed as Record<string, unknown>;
    } catch {
      error('60012', `Illegal request: ${text}`);
      return;
    }
    const id = typeof msg['id'] === 'string' ? msg['id'] : undefined;
    const op = msg['op'];
    if (op !== 'subscribe' && op !== 'unsubscribe') {
      error('60012', `Illegal request: ${text}`, id);
      return;
    }
    const args = msg['args'];
    if (!Array.isArray(args) || args.length === 0) {
      error('60012', `Illegal request: ${text}`, id);
      return;
    }
    for (const raw of args) {
      const arg = raw as Record<string, unknown> | null;
      const channel = arg?.['channel'];
      const instId = arg?.['instId'];
      const served = client.state['channel'] as string;
      const market = channel === served && typeof instId === 'string' ? this.byInstId.get(instId) : undefined;
      if (!market) {
        error(
          '60018',
          `Wrong URL or channel:${String(channel)},instId:${String(instId)} doesn't exist. Please use the correct URL, channel and parameters referring to API document.`,
          id,
        );
        continue;
      }
      const topic = `${served}:${market.symbol}`;
      if (op === 'subscribe') this.core.subscribe(client, topic);
      else this.core.unsubscribe(client, topic);
      this.core.send(
        client,
        JSON.stringify({
          ...(id !== undefined ? { id } : {}),
          event: op,
          arg: { channel: served, instId: market.symbol },
          connId,
        }),
      );
    }
  }

  /**
   * One trade a frame on both channels: `trades` (with count "1": the simulated fills are never
   * merged, so its ids stay contiguous too) and `trades-all`.
   */
  publish(market: Market, trades: readonly SimTrade[]): void {
    const inst = market.symbol;
    const merged = this.core.subscribers(`trades:${inst}`);
    if (merged && merged.size > 0) {
      const frames = trades.map(
        (t) =>
          `{"arg":{"channel":"trades","instId":"${inst}"},"data":[{"instId":"${inst}","tradeId":"${t.id}","px":"${t.price}","sz":"${t.quantity}","side":"${t.side}","ts":"${t.time}","count":"1","source":"0","seqId":${t.id}}]}`,
      );
      for (const c of merged) this.core.sendMany(c, frames);
    }
    const all = this.core.subscribers(`trades-all:${inst}`);
    if (all && all.size > 0) {
      const frames = trades.map(
        (t) =>
          `{"arg":{"channel":"trades-all","instId":"${inst}"},"data":[{"instId":"${inst}","tradeId":"${t.id}","px":"${t.price}","sz":"${t.quantity}","side":"${t.side}","source":"0","ts":"${t.time}"}]}`,
      );
      for (const c of all) this.core.sendMany(c, frames);
    }
  }

  // ---- REST --------------------------------------------------------------------------------

  handleRest(req: IncomingMessage, url: URL, res: ServerResponse): boolean {
    const route = url.pathname;
    const limit = this.limits[route];
    if (limit === undefined) return false;
    if (this.limiter && this.limiter.take(route, 1).used > limit) {
      sendJson(res, 429, { msg: 'Too Many Requests', code: '50011' });
      return true;
    }
    const ok = (data: unknown[]) => sendJson(res, 200, { code: '0', msg: '', data });
    const fail = (code: string, msg: string) => sendJson(res, 400, { code, msg, data: [] });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, {
        code: '50000',
        msg: 'Body can not be empty.',
        data: [],
      });
      return true;
    }
    if (route === '/api/v5/public/time') {
      ok([{ ts: String(Date.now()) }]);
      return true;
    }
    if (route === '/api/v5/public/instruments') {
      const instType = url.searchParams.get('instType');
      if (!instType) return (fail('50014', 'Parameter instType can not be empty.'), true);
      if (!['SPOT', 'MARGIN', 'SWAP', 'FUTURES', 'OPTION'].includes(instType))
        return (fail('51000', 'Parameter instType error'), true);
      const instId = url.searchParams.get('instId');
      ok(
        this.markets
          .filter((m) => m.category === instType && (!instId || m.symbol === instId))
          .map((m) => instrument(m)),
      );
      return true;
    }
    const instId = url.searchParams.get('instId');
    if (!instId) return (fail('50014', 'Parameter instId can not be empty.'), true);
    const market = this.byInstId.get(instId);
    if (!market) return (fail('51001', "Instrument ID, Instrument ID code, or Spread ID doesn't exist."), true);
    const requested = intParam(url, 'limit');
    if (requested !== undefined && (Number.isNaN(requested) || requested < 1))
      return (fail('51000', 'Parameter limit error'), true);
    const h = market.history;
    if (route === '/api/v5/market/trades') {
      const n = Math.min(500, requested ?? 100);
      const out: unknown[] = [];
      for (let i = h.size - 1; i >= 0 && out.length < n; i--) out.push(restTrade(market.symbol, h.at(i)!));
      ok(out);
      return true;
    }
    // history-trades: type 1 (default) paginates by tradeId, type 2 by timestamp; newest first
    const type = url.searchParams.get('type') ?? '1';
    if (type !== '1' && type !== '2') return (fail('51000', 'Parameter type error'), true);
    const after = intParam(url, 'after');
    const before = intParam(url, 'before');
    if (after !== undefined && Number.isNaN(after)) return (fail('51000', 'Parameter after error'), true);
    if (before !== undefined && Number.isNaN(before)) return (fail('51000', 'Parameter before error'), true);
    const n = Math.min(100, requested ?? 100);
    let hi = h.size; // exclusive
    let lo = 0;
    if (type === '1') {
      if (after !== undefined) hi = h.lowerBoundId(after);
      if (before !== undefined) lo = h.lowerBoundId(before + 1);
    } else {
      if (after !== undefined) hi = h.lowerBoundTime(after);
      if (before !== undefined) lo = h.lowerBoundTime(before + 1);
    }
    const out: unknown[] = [];
    for (let i = hi - 1; i >= lo && out.length < n; i--) out.push(restTrade(market.symbol, h.at(i)!));
    ok(out);
    return true;
  }
}

function restTrade(instId: string, t: SimTrade): unknown {
  return {
    instId,
    side: t.side,
    sz: t.quantity,
    px: t.price,
    source: '0',
    tradeId: String(t.id),
    ts: String(t.time),
  };
}

function instrument(m: Market): unknown {
  const s = m.instrument;
  const swap = m.category === 'SWAP';
  return {
    alias: '',
    baseCcy: swap ? '' : s.base,
    category: '1',
    ctMult: swap ? '1' : '',
    ctType: swap ? 'linear' : '',
    ctVal: swap ? s.contractValue : '',
    ctValCcy: swap ? s.base : '',
    expTime: '',
    instFamily: swap ? `${s.base}-${s.quote}` : '',
    instId: m.symbol,
    instType: m.category,
    lever: swap ? '100' : '10',
    listTime: '1606468572000',
    lotSz: s.stepSize,
    maxIcebergSz: '9999999999.0000000000000000',
    maxLmtAmt: '20000000',
    maxLmtSz: '9999999999',
    maxMktAmt: '1000000',
    maxMktSz: swap ? '12000' : '',
    maxStopSz: swap ? '12000' : '',
    maxTriggerSz: '9999999999.0000000000000000',
    maxTwapSz: '9999999999.0000000000000000',
    minSz: s.stepSize,
    optType: '',
    quoteCcy: swap ? '' : s.quote,
    settleCcy: swap ? s.quote : '',
    state: 'live',
    stk: '',
    tickSz: s.tickSize,
    uly: swap ? `${s.base}-${s.quote}` : '',
  };
}
