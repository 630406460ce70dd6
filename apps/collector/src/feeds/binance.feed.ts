/**
 * Binance spot and USDT-M futures aggTrade feed.
 * - Spot streams: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
 *   (a connection lives 24 h; the server pings every 20 s and wants a pong within a minute; at most
 *   1024 streams and 5 incoming messages a second per connection, pings and pongs included:
 *   we subscribe in the URL, so we send nothing but pongs).
 * - Futures streams: https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
 * - REST aggTrades (backfill): spot GET /api/v3/aggTrades (weight 4 when fromId is used), futures
 *   GET /fapi/v1/aggTrades (weight 20); 1000 trades a request.
 *
 * Aggregate ids `a` are contiguous per symbol, and `f` = previous `l` + 1. A gap (after a reconnect
 * or in-stream) is filled from REST before the live trades behind it are published, so every
 * symbol's trades go out in id order exactly once. Every gap is recorded with its outcome.
 */
import { type GapEvent } from '@orderflow/contracts';
import { IdSequencer } from '@orderflow/feeds';
import type { Instrument } from '@orderflow/footprint';
import {
  type BinanceAggTrade,
  type BinanceNormalizeOptions,
  NormalizeError,
  normalizeBinanceAggTrade,
  normalizeBinanceRestAggTrades,
} from '@orderflow/normalizers';
import { type EventSink, type Feed, type FeedCounters, type FeedLogger, type FeedStatus, type TradeSink, newCounters } from './feed.types.js';
import { RestClient, sleep } from './rest.client.js';
import { WsConnection } from './ws.connection.js';

export interface BinanceFeedOptions {
  exchange: string;
  market: 'spot' | 'usdm';
  /** WebSocket base, e.g. wss://stream.binance.com:9443 or wss://fstream.binance.com. */
  wsUrl: string;
  /** REST base, e.g. https://api.binance.com or https://fapi.binance.com. */
  restUrl: string;
  instruments: ReadonlyMap<string, Instrument>;
  /** Backfill this many minutes of history from REST at start (0: start with the live stream). */
  startupBackfillMinutes: number;
  plannedReconnectMs: number;
  idleTimeoutMs: number;
  restWeightPerMinute: number;
  /** Streams per connection (Binance allows 1024). */
  streamsPerConnection?: number;
  /** REST attempts for one gap before it is recorded as unfilled. */
  backfillAttempts?: number;
  sink: TradeSink;
  events: EventSink;
  logger: FeedLogger;
}

interface Seq {
  readonly seq: number;
  readonly trade: BinanceAggTrade;
}

interface SymbolState {
  instrument: Instrument;
  sequencer: IdSequencer<Seq>;
  lastUnderlying: number | null;
  lastTradeAtMs: number | null;
  backfilling: Promise<void> | null;
}

export class BinanceFeed implements Feed {
  private readonly counters: FeedCounters = newCounters();
  private readonly symbols = new Map<string, SymbolState>();
  private readonly connections: WsConnection[] = [];
  private readonly rest: RestClient;
  private readonly normalize: BinanceNormalizeOptions;
  private stopped = false;

  constructor(private readonly o: BinanceFeedOptions) {
    this.rest = new RestClient({
      baseUrl: o.restUrl,
      weightPerMinute: o.restWeightPerMinute,
      logger: o.logger,
      onRequest: () => this.counters.restRequests++,
    });
    this.normalize = { exchange: o.exchange, instruments: o.instruments };
  }

  async start(): Promise<void> {
    const symbols = [...this.o.instruments.keys()];
    for (const s of symbols) {
      let startAt: number | null = null;
      if (this.o.startupBackfillMinutes > 0) startAt = await this.firstIdSince(s, Date.now() - this.o.startupBackfillMinutes * 60_000);
      this.symbols.set(s, { instrument: this.o.instruments.get(s)!, sequencer: new IdSequencer<Seq>(startAt), lastUnderlying: null, lastTradeAtMs: null, backfilling: null });
    }
    const per = this.o.streamsPerConnection ?? 200;
    for (let i = 0; i < symbols.length; i += per) {
      const streams = symbols.slice(i, i + per).map((s) => `${s.toLowerCase()}@aggTrade`);
      const conn = new WsConnection({
        name: `${this.o.exchange} connection ${i / per + 1}`,
        url: `${this.o.wsUrl}/stream?streams=${streams.join('/')}`,
        logger: this.o.logger,
        idleTimeoutMs: this.o.idleTimeoutMs,
        plannedReconnectMs: this.o.plannedReconnectMs,
        onMessage: (text, at) => this.onFrame(text, at),
        onReconnect: () => this.counters.reconnects++,
      });
      this.connections.push(conn);
      conn.start();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.connections.map((c) => c.stop()));
    await Promise.all([...this.symbols.values()].map((s) => s.backfilling?.catch(() => undefined)));
  }

  status(): FeedStatus {
    return {
      exchange: this.o.exchange,
      connected: this.connections.length > 0 && this.connections.every((c) => c.connected),
      connections: this.connections.filter((c) => c.connected).length,
      symbols: [...this.symbols.entries()].map(([symbol, s]) => ({
        symbol,
        nextId: s.sequencer.nextId === null ? null : String(s.sequencer.nextId),
        filling: s.sequencer.filling,
        queued: s.sequencer.queued,
        lastTradeAtMs: s.lastTradeAtMs,
      })),
      counters: this.counters,
    };
  }

  private onFrame(text: string, receivedAtMs: number): void {
    this.counters.frames++;
    let result;
    try {
      result = normalizeBinanceAggTrade(text, this.normalize, receivedAtMs);
    } catch (e) {
      this.malformed(text, receivedAtMs, e);
      return;
    }
    if ('control' in result) {
      this.o.logger.log(`${this.o.exchange}: control frame ${text.slice(0, 200)}`);
      return;
    }
    const state = this.symbols.get(result.symbol);
    if (!state) return; // configured instruments only reach here; defensive
    const r = state.sequencer.offer({ seq: Number(result.id), trade: result });
    this.counters.duplicates += r.duplicates;
    this.publish(state, r.publish);
    if (r.gap) this.startBackfill(result.symbol, state, r.gap);
  }

  private malformed(text: string, receivedAtMs: number, e: unknown): void {
    const code = e instanceof NormalizeError ? e.code : 'INTERNAL';
    const reason = e instanceof NormalizeError ? e.reason : String(e);
    this.counters.malformed[code] = (this.counters.malformed[code] ?? 0) + 1;
    this.o.logger.warn(`${this.o.exchange}: malformed frame (${code}): ${reason}`);
    this.o.events.deadLetter({ exchange: this.o.exchange, receivedAtMs, code, reason, raw: text.slice(0, 65_536) });
  }

  private publish(state: SymbolState, items: Seq[]): void {
    for (const { trade } of items) {
      const f = Number(trade.firstTradeId);
      if (state.lastUnderlying !== null && f !== state.lastUnderlying + 1) {
        // Aggregate ids are contiguous but the underlying trade ids are not: nothing to backfill,
        // but the record says the stream was not what Binance documents.
        this.o.events.gap(this.gapEvent(trade.symbol, String(state.lastUnderlying + 1), String(f - 1), f - state.lastUnderlying - 1, 'unfilled', 'underlying trade ids: f != previous l + 1'));
      }
      state.lastUnderlying = Number(trade.lastTradeId);
      state.lastTradeAtMs = trade.receiveTimeMs;
      try {
        this.o.sink.add(state.instrument, trade);
        this.counters.trades++;
      } catch (e) {
        // The publisher refuses what could not be decoded downstream: set it aside, go on.
        this.malformed(JSON.stringify(trade), trade.receiveTimeMs, e);
      }
    }
    if (this.o.sink.saturated) this.applyBackpressure();
  }

  private pausedForBackpressure = false;

  private applyBackpressure(): void {
    if (this.pausedForBackpressure) return;
    this.pausedForBackpressure = true;
    this.o.logger.warn(`${this.o.exchange}: publisher buffer full, pausing the exchange sockets until it drains`);
    for (const c of this.connections) c.pause();
    void this.o.sink.onceDrained().then(() => {
      this.pausedForBackpressure = false;
      this.o.logger.log(`${this.o.exchange}: publisher drained, resuming`);
      for (const c of this.connections) c.resume();
    });
  }

  private gapEvent(symbol: string, fromId: string, toId: string, missing: number, status: GapEvent['status'], reason: string): GapEvent {
    return { exchange: this.o.exchange, symbol, fromId, toId, missing, detectedAtMs: Date.now(), status, reason };
  }

  private startBackfill(symbol: string, state: SymbolState, gap: { from: number; to: number }): void {
    this.counters.gapsDetected++;
    this.o.logger.warn(`${this.o.exchange} ${symbol}: gap of ${gap.to - gap.from + 1} aggregate ids (${gap.from}..${gap.to}), backfilling from REST`);
    this.o.events.gap(this.gapEvent(symbol, String(gap.from), String(gap.to), gap.to - gap.from + 1, 'detected', 'id gap in the live stream'));
    if (state.backfilling) return; // the running loop continues with the sequencer's open gap
    state.backfilling = this.backfillLoop(symbol, state).finally(() => {
      state.backfilling = null;
    });
  }

  private async backfillLoop(symbol: string, state: SymbolState): Promise<void> {
    const path = this.o.market === 'spot' ? '/api/v3/aggTrades' : '/fapi/v1/aggTrades';
    const weight = this.o.market === 'spot' ? 4 : 20;
    let failures = 0;
    while (!this.stopped && state.sequencer.filling) {
      const gap = state.sequencer.openGap!;
      try {
        const body = await this.rest.getText(`${path}?symbol=${symbol}&fromId=${gap.from}&limit=1000`, weight);
        const page = normalizeBinanceRestAggTrades(body, symbol, this.normalize, Date.now());
        const r = state.sequencer.backfilled(page.map((t) => ({ seq: Number(t.id), trade: t })));
        this.counters.duplicates += r.duplicates;
        const fromRest = r.publish.filter((x) => x.seq <= gap.to).length;
        this.counters.backfilledTrades += fromRest;
        this.publish(state, r.publish);
        if (r.publish.length === 0) {
          failures++;
          if (failures >= (this.o.backfillAttempts ?? 5)) throw new Error(`REST returned nothing from id ${gap.from}`);
          await sleep(500 * failures);
          continue;
        }
        failures = 0;
        if (r.filled || (state.sequencer.openGap?.from ?? Infinity) > gap.to) {
          this.counters.gapsFilled++;
          this.o.events.gap(this.gapEvent(symbol, String(gap.from), String(gap.to), gap.to - gap.from + 1, 'filled', 'backfilled from REST'));
          this.o.logger.log(`${this.o.exchange} ${symbol}: gap ${gap.from}..${gap.to} filled from REST`);
        }
        if (r.gap) {
          this.counters.gapsDetected++;
          this.o.events.gap(this.gapEvent(symbol, String(r.gap.from), String(r.gap.to), r.gap.to - r.gap.from + 1, 'detected', 'id gap in the live stream'));
        }
      } catch (e) {
        if (this.stopped) return;
        const g = state.sequencer.giveUp();
        this.counters.gapsUnfilled++;
        if (g.skipped) {
          this.o.logger.error(`${this.o.exchange} ${symbol}: gap ${g.skipped.from}..${g.skipped.to} could not be filled: ${(e as Error).message}`);
          this.o.events.gap(this.gapEvent(symbol, String(g.skipped.from), String(g.skipped.to), g.skipped.to - g.skipped.from + 1, 'unfilled', (e as Error).message));
        }
        this.publish(state, g.publish);
      }
    }
  }

  /** The first aggregate id at or after `sinceMs` (start-up backfill), or null when REST has none. */
  private async firstIdSince(symbol: string, sinceMs: number): Promise<number | null> {
    const path = this.o.market === 'spot' ? '/api/v3/aggTrades' : '/fapi/v1/aggTrades';
    const body = await this.rest.getText(`${path}?symbol=${symbol}&startTime=${sinceMs}&endTime=${sinceMs + 3_600_000}&limit=1`, this.o.market === 'spot' ? 4 : 20);
    const rows = normalizeBinanceRestAggTrades(body, symbol, this.normalize, Date.now());
    return rows.length > 0 ? Number(rows[0]!.id) : null;
  }
}
