import type { ClickHouseClient } from '@clickhouse/client';
import type { NatsConnection } from '@nats-io/transport-node';
import { FootprintStore, clickHouseProbe, connectClickHouse } from '@orderflow/clickhouse';
import {
  DependencyProbe,
  type FieldLogger,
  endpointOf,
  errorDetail,
  redactCredentials,
} from '@orderflow/observability';
import { connectNats, drainNats } from '@orderflow/nats';
import type { GatewayConfig } from './config/gateway.config.js';
import { HistoryService } from './history/history.service.js';
import { InstrumentCatalog } from './instruments/instrument.catalog.js';
import type { Scales } from './instruments/instrument.view.js';
import type { ClientSession } from './live/client.session.js';
import { FlushClock } from './live/flush-clock.js';
import { LiveHub } from './live/live.hub.js';
import { SnapshotClient } from './live/snapshot.client.js';
import { GatewayMetrics } from './metrics/gateway.metrics.js';

/** The gateway's log; `fields` (exchange, symbol, client) go on the line beside the message. */
export type GatewayLogger = FieldLogger;

/**
 * Everything a gateway process holds, apart from NestJS: the NATS connection (live subjects), the
 * snapshot client (Nest NATS transport), ClickHouse (history, instruments), the live hub and the
 * connected sessions. Stateless across replicas: nothing here is shared or needs to be.
 */
export class GatewayRuntime {
  readonly ch: ClickHouseClient;
  readonly history: HistoryService;
  readonly catalog: InstrumentCatalog;
  readonly snapshots: SnapshotClient;
  readonly hub: LiveHub;
  readonly metrics: GatewayMetrics;
  readonly sessions = new Set<ClientSession>();
  /** The one flush pass of every connection (GATEWAY_CONFLATION_MS). */
  readonly clock: FlushClock;
  nc: NatsConnection | null = null;
  private readonly ncPromise: Promise<NatsConnection>;
  private resolveNc!: (nc: NatsConnection) => void;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  /** ClickHouse and NATS as a background check sees them: what readiness reports, at once. */
  readonly chProbe: DependencyProbe;
  natsProbe: DependencyProbe | null = null;
  private readonly probeMisses = new Map<string, number>();

  constructor(
    readonly config: GatewayConfig,
    readonly logger: GatewayLogger,
  ) {
    this.ch = connectClickHouse({
      url: config.clickhouse.url,
      username: config.clickhouse.username,
      password: config.clickhouse.password,
      requestTimeoutMs: config.queryTimeoutMs + 5000,
    });
    this.history = new HistoryService(
      this.ch,
      config.clickhouse.database,
      config.queryTimeoutMs,
      config.historyCacheBytes,
      (m) => logger.warn(`history: ${m}`),
    );
    this.snapshots = new SnapshotClient(
      config.natsServers,
      config.natsAuth,
      config.aggShards,
      config.snapshotTimeoutMs,
    );
    this.catalog = new InstrumentCatalog(new FootprintStore(this.ch, config.clickhouse.database), (e, s) =>
      this.probe(e, s),
    );
    this.ncPromise = new Promise((r) => (this.resolveNc = r));
    this.ncPromise.catch(() => undefined);
    this.metrics = new GatewayMetrics({
      clients: () => this.sessions.size,
      subscriptions: () => this.hub.subscriptionCount,
      streams: () => this.hub.streamCount,
      views: () => this.hub.viewCount,
      congestedClients: () => [...this.sessions].filter((s) => s.congestedSince !== null).length,
      pendingCandles: () => [...this.sessions].reduce((n, s) => n + s.outbox.size, 0),
      historyCache: () => ({
        bytes: this.history.cache.bytes,
        candles: this.history.cache.count,
        hits: this.history.cache.hits,
        misses: this.history.cache.misses,
        wireMinutes: this.history.wireMinutes,
        wireFallbacks: this.history.wireFallbacks,
      }),
    });
    this.clock = new FlushClock(config.limits.conflationMs);
    this.hub = new LiveHub({
      config,
      catalog: this.catalog,
      history: this.history,
      snapshots: this.snapshots,
      nats: () => this.ncPromise,
      metrics: this.metrics,
      logger,
    });
    this.chProbe = clickHouseProbe(this.ch, config.clickhouse.url, { logger });
  }

  /** Starts connecting (NATS in the background: the HTTP API works without it) and reads the instruments. */
  async start(): Promise<void> {
    const c = this.config;
    this.logger.log(
      `NATS ${redactCredentials(c.natsServers.join(','))}; ClickHouse ${redactCredentials(c.clickhouse.url)} database ${c.clickhouse.database}; ${c.aggShards} aggregator shard(s)`,
    );
    this.chProbe.start();
    void connectNats({
      servers: c.natsServers,
      ...c.natsAuth,
      name: 'gateway',
      logger: {
        info: (m, f) => this.logger.log(m, f),
        warn: (m, f) => this.logger.warn(m, f),
        error: (m, f) => this.logger.error(m, f),
      },
    }).then(
      (nc) => {
        if (this.stopped) {
          void nc.close();
          return;
        }
        this.nc = nc;
        // a round trip to the server (PING/PONG): a frozen server keeps the connection open but answers nothing
        this.natsProbe = new DependencyProbe(
          'NATS',
          () => (nc.isClosed() ? Promise.reject(new Error('connection closed')) : nc.flush()),
          { logger: this.logger, endpoint: endpointOf(this.config.natsServers.join(',')) },
        );
        this.natsProbe.start();
        this.resolveNc(nc);
      },
      (e: unknown) => this.logger.error(`NATS: ${(e as Error).message}`),
    );
    // the schema probe with the instruments, at start and then again (a gateway may start before the aggregator
    // migrated the database)
    await Promise.all([
      this.catalog
        .refresh()
        .catch((e: unknown) =>
          this.logger.warn(`instruments: ${errorDetail(e)} (retrying every ${c.instrumentsRefreshMs} ms)`),
        ),
      this.history
        .refreshColumns()
        .catch((e: unknown) =>
          this.logger.warn(`history schema: ${(e as Error).message} (retrying every ${c.instrumentsRefreshMs} ms)`),
        ),
    ]);
    const t = setInterval(() => {
      void this.catalog.refresh().catch(() => undefined);
      void this.history.refreshColumns().catch(() => undefined);
    }, c.instrumentsRefreshMs);
    t.unref();
    this.timers.push(t);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.chProbe.stop();
    this.natsProbe?.stop();
    for (const s of this.sessions) s.close();
    this.clock.stop();
    await this.hub.stop();
    await this.snapshots.close().catch(() => undefined);
    if (this.nc) await drainNats(this.nc).catch(() => undefined);
    await this.ch.close().catch(() => undefined);
  }

  /** An instrument ClickHouse does not list yet but its owning shard trades (negative answers cached 10 s). */
  private async probe(exchange: string, symbol: string): Promise<Scales | null> {
    const k = `${exchange}\t${symbol}`;
    const missed = this.probeMisses.get(k);
    if (missed !== undefined && Date.now() - missed < 10_000) return null;
    if (this.probeMisses.size > 10_000) this.probeMisses.clear();
    const snap = await this.snapshots.request(exchange, symbol, ['1m']).catch(() => null);
    if (snap === null || 'error' in snap) {
      this.probeMisses.set(k, Date.now());
      return null;
    }
    const s = snap.scales;
    const ok =
      [s.priceScale, s.quantityScale].every((x) => Number.isInteger(x) && x >= 0 && x <= 15) &&
      Number.isSafeInteger(s.tick) &&
      s.tick > 0;
    return ok ? { priceScale: s.priceScale, quantityScale: s.quantityScale, tick: s.tick } : null;
  }

  /**
   * Ready: NATS connected, and NATS and ClickHouse answering the background probes. Reads state
   * only: it answers at once whatever the dependencies do.
   */
  ready(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (!this.nc || this.nc.isClosed()) reasons.push('not connected to NATS');
    for (const p of [this.chProbe, this.natsProbe]) if (p && !p.ok) reasons.push(p.problem!);
    return { ready: reasons.length === 0, reasons };
  }

  /** The probes' state, for /status. */
  dependencies(): Record<string, ReturnType<DependencyProbe['status']> | null> {
    return { clickhouse: this.chProbe.status(), nats: this.natsProbe?.status() ?? null };
  }
}
