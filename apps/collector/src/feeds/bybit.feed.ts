/**
 * Bybit v5 public trades (spot: /v5/public/spot, linear perpetuals: /v5/public/linear).
 * - WebSocket: https://bybit-exchange.github.io/docs/v5/websocket/public/trade
 *   subscribe {"op":"subscribe","args":["publicTrade.BTCUSDT",...]} (spot: at most 10 args a
 *   request); Bybit drops a connection without a ping for 10 minutes: {"op":"ping"} every 20 s.
 * - REST: GET /v5/market/recent-trade?category=&symbol=&limit= (spot up to 60, linear up to 1000
 *   of the newest trades). https://bybit-exchange.github.io/docs/v5/market/recent-trade
 *
 * Bybit trade ids are UUIDs (linear) or unordered numbers (spot): there is no id sequence to find
 * gaps in, and REST keeps no history beyond the newest trades. Once a subscription is confirmed
 * (after a start, and after each reconnect) the feed asks REST for the newest trades and publishes
 * those after the last trade it kept, dropping repeats by id: at a start, the last trade stored in
 * JetStream (the ids of the stored trades of that millisecond are remembered), or the
 * COLLECTOR_BACKFILL_MINUTES window when nothing is stored. When REST's window does not reach back
 * to the last trade kept, the hole between is recorded as an unfilled gap with its time range.
 * Live trades arriving meanwhile wait and follow.
 */
import type { GapEvent } from '@orderflow/contracts';
import type { Instrument, Trade } from '@orderflow/footprint';
import { type BybitNormalizeOptions, normalizeBybitRecentTrades, normalizeBybitTrades } from '@orderflow/normalizers';
import { BaseFeed, type BaseFeedOptions, type ConnectionSpec } from './base.feed.js';
import type { FeedStatus, StartStatus } from './feed.types.js';
import { bybitRecovery } from './resume.js';

export interface BybitFeedOptions extends BaseFeedOptions {
  category: 'spot' | 'linear';
  startupBackfillMinutes: number;
  /** Trade ids remembered per symbol to drop repeats (default 50,000). */
  rememberIds?: number;
  /** Recover from REST this long after a (re)connect when no subscription confirmation came (default 5,000 ms). */
  subscribeAckTimeoutMs?: number;
}

/** Why a symbol recovers from REST at the next confirmed subscription, and since when (µs). */
interface Due {
  kind: 'resume' | 'backfill' | 'reconnect';
  sinceUs: number | null;
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
  due: Due | null;
  start: StartStatus;
}

export class BybitFeed extends BaseFeed {
  private readonly symbols = new Map<string, BybitSymbol>();
  private readonly normalize: BybitNormalizeOptions;
  /** The symbols of each subscription request, by req_id. */
  private readonly requestSymbols = new Map<string, string[]>();
  private opened = 0;
  private ackTimer: NodeJS.Timeout | undefined;
  private readonly recoveries = new Set<Promise<void>>();

  constructor(private readonly b: BybitFeedOptions) {
    super(b);
    this.normalize = { exchange: b.exchange, instruments: b.instruments };
  }

  async start(): Promise<void> {
    const nowUs = Date.now() * 1000;
    const stored = await Promise.all(
      [...this.b.instruments.keys()].map(
        async (symbol) => [symbol, this.b.resume ? await this.b.resume.source.lastStored(symbol) : null] as const,
      ),
    );
    for (const [symbol, tail] of stored) {
      const s: BybitSymbol = {
        instrument: this.b.instruments.get(symbol)!,
        seen: new Set(),
        order: [],
        lastTimeUs: null,
        lastId: null,
        lastTradeAtMs: null,
        recovering: false,
        queue: [],
        due: null,
        start: { from: 'live' },
      };
      if (tail) {
        for (const id of tail.idsAtLastTime) this.remember(s, id);
        this.remember(s, tail.lastId);
        s.lastTimeUs = tail.lastTimeUs;
        s.lastId = tail.lastId;
        s.due = { kind: 'resume', sinceUs: tail.lastTimeUs };
        s.start = { from: 'stored', lastStoredId: tail.lastId, lastStoredTimeUs: tail.lastTimeUs };
      } else if (this.b.startupBackfillMinutes > 0) {
        s.due = { kind: 'backfill', sinceUs: nowUs - this.b.startupBackfillMinutes * 60_000_000 };
        s.start = { from: 'backfill' };
      }
      this.symbols.set(symbol, s);
    }
    const symbols = [...this.symbols.keys()];
    const per = this.b.category === 'spot' ? 10 : 100;
    const requests: string[] = [];
    for (let i = 0; i < symbols.length; i += per) {
      const reqId = String(i / per + 1);
      this.requestSymbols.set(reqId, symbols.slice(i, i + per));
      requests.push(
        JSON.stringify({
          op: 'subscribe',
          req_id: reqId,
          args: symbols.slice(i, i + per).map((s) => `publicTrade.${s}`),
        }),
      );
    }
    const spec: ConnectionSpec = {
      name: `${this.b.exchange} connection`,
      url: this.b.wsUrl,
      appPing: { intervalMs: 20_000, payload: '{"op":"ping"}' },
      onOpen: (send) => {
        if (this.opened++ > 0)
          for (const s of this.symbols.values()) s.due ??= { kind: 'reconnect', sinceUs: s.lastTimeUs };
        for (const r of requests) send(r);
        // recover at each confirmation (trades then flow); without one, after a while all the same
        clearTimeout(this.ackTimer);
        this.ackTimer = setTimeout(() => this.recoverDue(symbols), this.b.subscribeAckTimeoutMs ?? 5000);
        this.ackTimer.unref();
      },
    };
    this.openConnections([spec]);
  }

  override async stop(): Promise<void> {
    clearTimeout(this.ackTimer);
    await super.stop();
    await Promise.all([...this.recoveries]);
  }

  protected symbolStatuses(): FeedStatus['symbols'] {
    return [...this.symbols.entries()].map(([symbol, s]) => ({
      symbol,
      nextId: null,
      filling: s.recovering,
      queued: s.queue.length,
      lastTradeAtMs: s.lastTradeAtMs,
      start: s.start,
      catchUp: null,
    }));
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
      const p = result.payload as { success?: boolean; op?: string; req_id?: string };
      if (p && p.success === false) this.o.logger.warn(`${this.b.exchange}: ${text.slice(0, 300)}`);
      else if (p && p.success === true && p.op === 'subscribe')
        this.recoverDue(this.requestSymbols.get(String(p.req_id)) ?? [...this.symbols.keys()]);
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

  private remember(s: BybitSymbol, id: string): void {
    if (s.seen.has(id)) return;
    s.seen.add(id);
    s.order.push(id);
    if (s.order.length > (this.b.rememberIds ?? 50_000)) s.seen.delete(s.order.shift()!);
  }

  private accept(s: BybitSymbol, t: Trade): void {
    if (s.seen.has(t.id)) {
      this.counters.duplicates++;
      return;
    }
    this.remember(s, t.id);
    s.lastTimeUs = t.exchangeTimeUs;
    s.lastId = t.id;
    s.lastTradeAtMs = t.receiveTimeMs;
    this.emit(s.instrument, t);
  }

  private async recent(symbol: string): Promise<Trade[]> {
    const limit = this.b.category === 'spot' ? 60 : 1000;
    const body = await this.rest.getText(
      `/v5/market/recent-trade?category=${this.b.category}&symbol=${symbol}&limit=${limit}`,
      1,
    );
    return normalizeBybitRecentTrades(body, this.normalize, Date.now());
  }

  private recoverDue(symbols: readonly string[]): void {
    for (const symbol of symbols) {
      const s = this.symbols.get(symbol);
      if (!s?.due || s.recovering || this.stopped) continue;
      const due = s.due;
      s.due = null;
      // recover() records what REST could not give as a gap; anything else it throws is logged here
      const run = this.recover(symbol, s, due).catch((e: unknown) => {
        if (!this.stopped)
          this.o.logger.error(`${this.o.exchange} ${symbol}: recovery failed: ${(e as Error).message}`);
      });
      this.recoveries.add(run);
      void run.finally(() => this.recoveries.delete(run));
    }
  }

  /** What REST still has since `due.sinceUs`, the hole before it recorded, then the queued live trades. */
  private async recover(symbol: string, s: BybitSymbol, due: Due): Promise<void> {
    s.recovering = true;
    try {
      const trades = await this.recent(symbol);
      let since = due.sinceUs;
      const newest = trades[trades.length - 1];
      if (due.kind === 'resume' && since !== null && newest && newest.exchangeTimeUs < since) {
        // REST's newest trade is older than the stored one: not this exchange's history
        const note = `stored trade ${s.lastId} (${iso(since)}) not resumed after: REST's newest trade is older (${iso(newest.exchangeTimeUs)}): another history, e.g. a restarted simulator`;
        this.o.logger.warn(`${this.b.exchange} ${symbol}: ${note}; starting as on a first run`);
        s.start = { from: this.b.startupBackfillMinutes > 0 ? 'backfill' : 'live', note };
        since =
          this.b.startupBackfillMinutes > 0
            ? (Date.now() - this.b.startupBackfillMinutes * 60_000) * 1000
            : newest.exchangeTimeUs + 1;
        due = { kind: 'backfill', sinceUs: since };
      }
      const { publish, holeBefore } = bybitRecovery(trades, since, (id) => s.seen.has(id));
      if (holeBefore && due.kind !== 'backfill' && since !== null) {
        const window = `Bybit's recent-trade window (the newest ${this.b.category === 'spot' ? 60 : 1000} trades)`;
        const reason =
          due.kind === 'resume'
            ? `resume after stored trade ${s.lastId}: trades between ${iso(since)} and ${iso(holeBefore.exchangeTimeUs)} are older than ${window} (count unknown: ids are not sequential; fromId/toId are the trades either side)`
            : `trades between ${iso(since)} and ${iso(holeBefore.exchangeTimeUs)} are older than ${window} (count unknown: ids are not sequential)`;
        const g = this.recordHole(symbol, s, holeBefore, reason);
        if (due.kind === 'resume')
          s.start.unfilled = {
            fromId: g.fromId,
            toId: g.toId,
            fromTimeUs: g.fromTimeUs ?? since,
            toTimeUs: holeBefore.exchangeTimeUs,
            reason,
          };
      }
      const before = this.counters.trades;
      for (const t of publish) this.accept(s, t);
      const recovered = this.counters.trades - before;
      this.counters.backfilledTrades += recovered;
      if (due.kind === 'resume') {
        s.start.recovered = recovered;
        this.o.logger.log(
          `${this.b.exchange} ${symbol}: resumed after stored trade ${s.start.lastStoredId}: ${recovered} trades from REST${holeBefore ? ', the older ones recorded as an unfilled gap' : ''}`,
        );
      }
    } catch (e) {
      this.o.logger.error(`${this.b.exchange} ${symbol}: recovery from REST failed: ${(e as Error).message}`);
      const next = s.queue[0];
      if (due.kind !== 'backfill' && due.sinceUs !== null && next)
        this.recordHole(
          symbol,
          s,
          next,
          `trades between ${iso(due.sinceUs)} and ${iso(next.exchangeTimeUs)} could not be recovered: REST failed (${(e as Error).message})`,
        );
    } finally {
      s.recovering = false;
      const queued = s.queue;
      s.queue = [];
      for (const t of queued) this.accept(s, t);
      this.checkBackpressure();
      if (s.due) this.recoverDue([symbol]);
    }
  }

  private recordHole(symbol: string, s: BybitSymbol, before: Trade, reason: string): GapEvent {
    this.counters.gapsDetected++;
    this.counters.gapsUnfilled++;
    this.o.logger.error(`${this.b.exchange} ${symbol}: ${reason}`);
    const g = this.gapEvent(symbol, s.lastId ?? before.id, before.id, 0, 'unfilled', reason, {
      fromTimeUs: s.lastTimeUs,
      toTimeUs: before.exchangeTimeUs,
    });
    this.o.events.gap(g);
    return g;
  }
}

function iso(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
}
