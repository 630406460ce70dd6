import { DependencyProbe, type FieldLogger, type LogFields, endpointOf } from '@orderflow/observability';
import type { Instrument } from '@orderflow/footprint';
import {
  EventPublisher,
  StoredTradesError,
  TradePublisher,
  connectNats,
  drainNats,
  ensureStreams,
  lastStoredTrades,
} from '@orderflow/nats';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { CollectorConfig } from './config/collector.config.js';
import { BinanceFeed } from './feeds/binance.feed.js';
import { BybitFeed } from './feeds/bybit.feed.js';
import { OkxFeed } from './feeds/okx.feed.js';
import type { Feed } from './feeds/feed.types.js';
import type { ResumeOptions } from './feeds/resume.js';
import { loadInstruments } from './instruments.loader.js';

/**
 * Everything the collector runs, wired together: NATS connection and streams, the publishers, the
 * instruments and the exchange feed. Kept apart from NestJS so tests can run it directly.
 */
export class CollectorRuntime {
  nc: NatsConnection | null = null;
  publisher: TradePublisher | null = null;
  events: EventPublisher | null = null;
  feed: Feed | null = null;
  instruments = new Map<string, Instrument>();
  private started = false;
  /** NATS as a background check sees it: what readiness reports, at once. */
  private natsProbe: DependencyProbe | null = null;

  constructor(
    readonly config: CollectorConfig,
    private readonly logger: FieldLogger,
  ) {}

  async start(): Promise<void> {
    const c = this.config;
    const natsLogger = {
      info: (m: string, f?: LogFields) => this.logger.log(m, f),
      warn: (m: string, f?: LogFields) => this.logger.warn(m, f),
      error: (m: string, f?: LogFields) => this.logger.error(m, f),
    };
    const nc = await connectNats({
      servers: c.natsServers,
      ...c.natsAuth,
      name: `collector-${c.exchange.id}`,
      logger: natsLogger,
    });
    this.nc = nc;
    // a round trip to the server (PING/PONG): a frozen server keeps the connection open but answers nothing
    this.natsProbe = new DependencyProbe(
      'NATS',
      () => (nc.isClosed() ? Promise.reject(new Error('connection closed')) : nc.flush()),
      { logger: this.logger, endpoint: endpointOf(c.natsServers.join(',')) },
    );
    this.natsProbe.start();
    for (const s of await ensureStreams(this.nc, { ...c.stream, storage: 'file' }))
      this.logger.log(`stream ${s.stream}: ${s.action}`);
    const js = jetstream(this.nc);
    this.publisher = new TradePublisher(js, { ...c.publisher, logger: natsLogger });
    this.events = new EventPublisher(js, { logger: natsLogger });
    this.instruments = await loadInstruments(c, this.logger);
    this.feed = this.createFeed(await this.resumeOptions());
    await this.feed.start();
    this.started = true;
  }

  /**
   * Each symbol resumes after its last trade in TRADES. A stored batch that does not decode is
   * logged and that symbol starts as on a first run; JetStream not answering fails the start.
   */
  private async resumeOptions(): Promise<ResumeOptions> {
    const jsm = await jetstreamManager(this.nc!);
    const exchange = this.config.exchange.id;
    return {
      maxCatchUpMs: this.config.resumeMaxMs,
      source: {
        lastStored: async (symbol) => {
          try {
            const tail = await lastStoredTrades(jsm, exchange, symbol);
            return (
              tail && {
                lastId: tail.last.id,
                lastTimeUs: tail.last.exchangeTimeUs,
                idsAtLastTime: tail.atLastTime.map((t) => t.id),
              }
            );
          } catch (e) {
            if (!(e instanceof StoredTradesError)) throw e;
            this.logger.error(
              `${exchange} ${symbol}: cannot resume after the stored trades (${e.message}): starting as on a first run`,
            );
            return null;
          }
        },
      },
    };
  }

  private createFeed(resume: ResumeOptions): Feed {
    const c = this.config;
    const common = {
      exchange: c.exchange.id,
      wsUrl: c.wsUrl,
      restUrl: c.restUrl,
      instruments: this.instruments,
      sink: this.publisher!,
      events: this.events!,
      logger: this.logger,
      resume,
    };
    switch (c.exchange.protocol) {
      case 'binance-spot':
      case 'binance-usdm':
        return new BinanceFeed({
          ...common,
          market: c.exchange.protocol === 'binance-spot' ? 'spot' : 'usdm',
          startupBackfillMinutes: c.startupBackfillMinutes,
          plannedReconnectMs: c.plannedReconnectMs,
          idleTimeoutMs: c.idleTimeoutMs,
          restWeightPerMinute: c.restWeightPerMinute,
        });
      case 'okx':
        return new OkxFeed(
          {
            ...common,
            startupBackfillMinutes: c.startupBackfillMinutes,
            plannedReconnectMs: c.plannedReconnectMs,
            idleTimeoutMs: c.idleTimeoutMs,
            restWeightPerMinute: c.restWeightPerMinute,
          },
          c.okxChannel,
        );
      case 'bybit-spot':
      case 'bybit-linear':
        return new BybitFeed({
          ...common,
          category: c.exchange.protocol === 'bybit-spot' ? 'spot' : 'linear',
          startupBackfillMinutes: c.startupBackfillMinutes,
          plannedReconnectMs: c.plannedReconnectMs,
          idleTimeoutMs: c.idleTimeoutMs,
          restWeightPerMinute: c.restWeightPerMinute,
        });
    }
  }

  /**
   * Ready: NATS connected and answering (the background probe), the exchange connected, the publisher not saturated.
   */
  ready(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (!this.started) reasons.push('starting');
    if (!this.nc || this.nc.isClosed()) reasons.push('NATS not connected');
    if (this.natsProbe && !this.natsProbe.ok) reasons.push(this.natsProbe.problem!);
    if (this.feed && !this.feed.status().connected) reasons.push(`${this.config.exchange.id} not connected`);
    if (this.publisher?.saturated) reasons.push('publisher buffer full');
    return { ready: reasons.length === 0, reasons };
  }

  /** Stops the feed, then waits (bounded) until JetStream acknowledged everything it published. */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.natsProbe?.stop();
    await this.feed?.stop();
    try {
      await this.publisher?.close({ timeoutMs });
      await this.events?.close({ timeoutMs: 5000 });
    } finally {
      if (this.nc) await drainNats(this.nc);
    }
  }
}
