/**
 * Bybit v5 public trades (spot: /v5/public/spot, linear perpetuals: /v5/public/linear).
 * - WebSocket: https://bybit-exchange.github.io/docs/v5/websocket/public/trade
 *   subscribe {"op":"subscribe","args":["publicTrade.BTCUSDT",...]} (spot: at most 10 args a
 *   request); Bybit drops a connection without a ping for 10 minutes: {"op":"ping"} every 20 s.
 * - REST: GET /v5/market/recent-trade?category=&symbol=&limit= (spot up to 60, linear up to 1000
 *   of the newest trades). https://bybit-exchange.github.io/docs/v5/market/recent-trade
 *
 * Bybit trade ids are UUIDs (linear) or unordered numbers (spot): there is no id sequence to find
 * gaps in. After a reconnect the feed asks REST for the newest trades and publishes those after the
 * last one it saw, dropping repeats by id; when even the oldest of them is newer than that, the
 * hole between is recorded as an unfilled gap (Bybit offers no REST history further back).
 */
import type { Instrument, Trade } from '@orderflow/footprint';
import { type BybitNormalizeOptions, normalizeBybitRecentTrades, normalizeBybitTrades } from '@orderflow/normalizers';
import { BaseFeed, type BaseFeedOptions, type ConnectionSpec } from './base.feed.js';
import type { FeedStatus } from './feed.types.js';

export interface BybitFeedOptions extends BaseFeedOptions {
  category: 'spot' | 'linear';
  startupBackfillMinutes: number;
  /** Trade ids remembered per symbol to drop repeats (default 50,000). */
  rememberIds?: number;
}

interface BybitSymbol {
  instrument: Instrument;
  seen: Set<string>;
  order: string[];
  lastTimeUs: number | null;
  lastId: string | null;
  lastTradeAtMs: number | null;
  recovering: boolean;
  queue: Trade[];
}

export class BybitFeed extends BaseFeed {
  private readonly symbols = new Map<string, BybitSymbol>();
  private readonly normalize: BybitNormalizeOptions;
  private opened = 0;

  constructor(private readonly b: BybitFeedOptions) {
    super(b);
    this.normalize = { exchange: b.exchange, instruments: b.instruments };
  }

  async start(): Promise<void> {
    for (const [symbol, instrument] of this.b.instruments) {
      this.symbols.set(symbol, { instrument, seen: new Set(), order: [], lastTimeUs: null, lastId: null, lastTradeAtMs: null, recovering: false, queue: [] });
    }
    if (this.b.startupBackfillMinutes > 0) {
      const since = (Date.now() - this.b.startupBackfillMinutes * 60_000) * 1000;
      for (const [symbol, s] of this.symbols) {
        for (const t of await this.recent(symbol)) if (t.exchangeTimeUs >= since) this.accept(s, t);
      }
      this.checkBackpressure();
    }
    const symbols = [...this.symbols.keys()];
    const per = this.b.category === 'spot' ? 10 : 100;
    const requests: string[] = [];
    for (let i = 0; i < symbols.length; i += per) {
      requests.push(JSON.stringify({ op: 'subscribe', req_id: String(i / per + 1), args: symbols.slice(i, i + per).map((s) => `publicTrade.${s}`) }));
    }
    const spec: ConnectionSpec = {
      name: `${this.b.exchange} connection`,
      url: this.b.wsUrl,
      appPing: { intervalMs: 20_000, payload: '{"op":"ping"}' },
      onOpen: (send) => {
        for (const r of requests) send(r);
        if (this.opened++ > 0) void this.recoverAll();
      },
    };
    this.openConnections([spec]);
  }

  protected symbolStatuses(): FeedStatus['symbols'] {
    return [...this.symbols.entries()].map(([symbol, s]) => ({ symbol, nextId: null, filling: s.recovering, queued: s.queue.length, lastTradeAtMs: s.lastTradeAtMs }));
  }

  protected onFrame(text: string, receivedAtMs: number): void {
    this.counters.frames++;
    let result;
    try {
      result = normalizeBybitTrades(text, this.normalize, receivedAtMs);
    } catch (e) {
      this.malformed(text, receivedAtMs, e);
      return;
    }
    if (!Array.isArray(result)) {
      const p = result.payload as { success?: boolean };
      if (p && p.success === false) this.o.logger.warn(`${this.b.exchange}: ${text.slice(0, 300)}`);
      return;
    }
    for (const t of result) {
      const s = this.symbols.get(t.symbol);
      if (!s) continue;
      if (s.recovering) s.queue.push(t);
      else this.accept(s, t);
    }
    this.checkBackpressure();
  }

  private accept(s: BybitSymbol, t: Trade): void {
    if (s.seen.has(t.id)) {
      this.counters.duplicates++;
      return;
    }
    s.seen.add(t.id);
    s.order.push(t.id);
    if (s.order.length > (this.b.rememberIds ?? 50_000)) s.seen.delete(s.order.shift()!);
    s.lastTimeUs = t.exchangeTimeUs;
    s.lastId = t.id;
    s.lastTradeAtMs = t.receiveTimeMs;
    this.emit(s.instrument, t);
  }

  private async recent(symbol: string): Promise<Trade[]> {
    const limit = this.b.category === 'spot' ? 60 : 1000;
    const body = await this.rest.getText(`/v5/market/recent-trade?category=${this.b.category}&symbol=${symbol}&limit=${limit}`, 1);
    return normalizeBybitRecentTrades(body, this.normalize, Date.now());
  }

  /** After a reconnect: what REST still has since the last trade seen, then the queued live ones. */
  private async recoverAll(): Promise<void> {
    await Promise.all(
      [...this.symbols.entries()].map(async ([symbol, s]) => {
        if (s.recovering) return;
        s.recovering = true;
        try {
          const trades = await this.recent(symbol);
          const since = s.lastTimeUs;
          const oldest = trades[0];
          if (since !== null && oldest && oldest.exchangeTimeUs > since && !s.seen.has(oldest.id)) {
            this.counters.gapsDetected++;
            this.counters.gapsUnfilled++;
            this.o.events.gap(
              this.gapEvent(symbol, s.lastId ?? '', oldest.id, 0, 'unfilled', `trades between ${new Date(since / 1000).toISOString()} and ${new Date(oldest.exchangeTimeUs / 1000).toISOString()} are older than Bybit's recent-trade window (count unknown: ids are not sequential)`, { fromTimeUs: since, toTimeUs: oldest.exchangeTimeUs }),
            );
          }
          let recovered = 0;
          for (const t of trades) {
            if (since !== null && t.exchangeTimeUs < since) continue;
            const before = this.counters.trades;
            this.accept(s, t);
            recovered += this.counters.trades - before;
          }
          this.counters.backfilledTrades += recovered;
        } catch (e) {
          this.o.logger.error(`${this.b.exchange} ${symbol}: recovery after reconnect failed: ${(e as Error).message}`);
        } finally {
          s.recovering = false;
          const queued = s.queue;
          s.queue = [];
          for (const t of queued) this.accept(s, t);
          this.checkBackpressure();
        }
      }),
    );
  }
}
