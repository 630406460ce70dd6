/**
 * What every exchange feed shares: its WebSocket connections (shared reconnect policy, planned
 * replacement, idle detection), the REST client, counters, malformed frames to the dead-letter
 * subject with their reason, publishing to the sink, and backpressure from the publisher to the
 * sockets. Exchange feeds add how they subscribe, parse and recover what a disconnect missed.
 */
import { type GapEvent } from '@orderflow/contracts';
import type { Instrument, Trade } from '@orderflow/footprint';
import { NormalizeError } from '@orderflow/normalizers';
import {
  type EventSink,
  type Feed,
  type FeedCounters,
  type FeedLogger,
  type FeedStatus,
  type TradeSink,
  newCounters,
} from './feed.types.js';
import type { ResumeOptions } from './resume.js';
import { RestClient } from './rest.client.js';
import { WsConnection, type WsConnectionOptions } from './ws.connection.js';

export interface BaseFeedOptions {
  exchange: string;
  wsUrl: string;
  restUrl: string;
  instruments: ReadonlyMap<string, Instrument>;
  plannedReconnectMs: number;
  idleTimeoutMs: number;
  restWeightPerMinute: number;
  /** Seconds of REST weight saved up for a burst (see RestClient; default 10). */
  restBurstSeconds?: number;
  sink: TradeSink;
  events: EventSink;
  logger: FeedLogger;
  /** Resume each symbol after its last stored trade (absent: every start is a first run). */
  resume?: ResumeOptions;
  /** How often a running catch-up's progress is logged (default 5,000 ms). */
  progressLogMs?: number;
}

export type ConnectionSpec = Pick<WsConnectionOptions, 'name' | 'url' | 'onOpen' | 'appPing'>;

export abstract class BaseFeed implements Feed {
  protected readonly counters: FeedCounters = newCounters();
  protected readonly connections: WsConnection[] = [];
  protected readonly rest: RestClient;
  protected stopped = false;
  private pausedForBackpressure = false;

  constructor(protected readonly o: BaseFeedOptions) {
    this.rest = new RestClient({
      baseUrl: o.restUrl,
      weightPerMinute: o.restWeightPerMinute,
      ...(o.restBurstSeconds !== undefined ? { burstSeconds: o.restBurstSeconds } : {}),
      logger: o.logger,
      onRequest: () => this.counters.restRequests++,
    });
  }

  abstract start(): Promise<void>;
  protected abstract symbolStatuses(): FeedStatus['symbols'];
  protected abstract onFrame(text: string, receivedAtMs: number): void;

  /** Opens the connections; `onReconnected` runs each time one comes back after a loss. */
  protected openConnections(specs: ConnectionSpec[], onReconnected?: () => void): void {
    for (const spec of specs) {
      const conn = new WsConnection({
        ...spec,
        logger: this.o.logger,
        idleTimeoutMs: this.o.idleTimeoutMs,
        plannedReconnectMs: this.o.plannedReconnectMs,
        onMessage: (text, at) => this.onFrame(text, at),
        onReconnect: () => {
          this.counters.reconnects++;
          onReconnected?.();
        },
      });
      this.connections.push(conn);
      conn.start();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.connections.map((c) => c.stop()));
  }

  status(): FeedStatus {
    return {
      exchange: this.o.exchange,
      connected: this.connections.length > 0 && this.connections.every((c) => c.connected),
      connections: this.connections.filter((c) => c.connected).length,
      symbols: this.symbolStatuses(),
      counters: this.counters,
    };
  }

  protected malformed(text: string, receivedAtMs: number, e: unknown): void {
    const code = e instanceof NormalizeError ? e.code : 'INTERNAL';
    const reason = e instanceof NormalizeError ? e.reason : String(e);
    this.counters.malformed[code] = (this.counters.malformed[code] ?? 0) + 1;
    this.o.logger.warn(`${this.o.exchange}: malformed frame (${code}): ${reason}`);
    this.o.events.deadLetter({ exchange: this.o.exchange, receivedAtMs, code, reason, raw: text.slice(0, 65_536) });
  }

  /** Hands one trade to the sink; what the sink refuses is dead-lettered. */
  protected emit(instrument: Instrument, trade: Trade): void {
    try {
      this.o.sink.add(instrument, trade);
      this.counters.trades++;
    } catch (e) {
      this.malformed(JSON.stringify(trade), trade.receiveTimeMs, e);
    }
  }

  /** After a burst of emits: pause the sockets while the publisher's buffer is full. */
  protected checkBackpressure(): void {
    if (!this.o.sink.saturated || this.pausedForBackpressure) return;
    this.pausedForBackpressure = true;
    this.o.logger.warn(`${this.o.exchange}: publisher buffer full, pausing the exchange sockets until it drains`);
    for (const c of this.connections) c.pause();
    void this.o.sink.onceDrained().then(() => {
      this.pausedForBackpressure = false;
      this.o.logger.log(`${this.o.exchange}: publisher drained, resuming`);
      for (const c of this.connections) c.resume();
    });
  }

  /** `times`: exchange times (µs) of the trades on either side of the gap, when known. */
  protected gapEvent(
    symbol: string,
    fromId: string,
    toId: string,
    missing: number,
    status: GapEvent['status'],
    reason: string,
    times?: { fromTimeUs?: number | null; toTimeUs?: number | null },
  ): GapEvent {
    const e: GapEvent = {
      exchange: this.o.exchange,
      symbol,
      fromId,
      toId,
      missing,
      detectedAtMs: Date.now(),
      status,
      reason,
    };
    if (times?.fromTimeUs != null) e.fromTimeUs = times.fromTimeUs;
    if (times?.toTimeUs != null) e.toTimeUs = times.toTimeUs;
    return e;
  }
}
