import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { natsPermissionViolations } from '@orderflow/nats';

export interface GaugeSources {
  clients(): number;
  subscriptions(): number;
  streams(): number;
  views(): number;
  congestedClients(): number;
  pendingCandles(): number;
  /** The history candle cache (absent: no cache metrics). */
  historyCache?(): {
    bytes: number;
    candles: number;
    hits: number;
    misses: number;
    wireMinutes?: number;
    wireFallbacks?: number;
  };
}

/**
 * The gateway's Prometheus metrics. Counters on the hot path are pre-bound label children (one
 * property increment); gauges are read from the live state at each scrape.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly messagesOut: Record<'snapshot' | 'update' | 'error', ReturnType<Counter['labels']>>;
  readonly conflated: Counter;
  readonly updateEncodings: Counter;
  readonly resyncs: Counter;
  readonly malformedUpdates: Counter;
  readonly refusedRequests: Counter;
  readonly refusedOrigins: Counter;
  readonly slowDisconnects: Counter;
  readonly httpRefused: Counter;
  readonly httpLatency: Histogram;
  readonly snapshotLatency: Histogram;
  readonly updateDelay: Histogram;

  private httpInFlight: () => number = () => 0;

  /** The HTTP API's requests in flight (http/fair-use.ts), for gateway_http_requests_in_flight. */
  trackHttpFairUse(inFlight: () => number): void {
    this.httpInFlight = inFlight;
  }

  constructor(sources: GaugeSources) {
    const r = this.registry;
    collectDefaultMetrics({ register: r });
    new Gauge({
      name: 'nats_permission_violations_total',
      help: "Operations the NATS server refused under this component's user permissions, by operation (publish, subscription) and subject",
      labelNames: ['operation', 'subject'],
      registers: [r],
      collect() {
        this.reset();
        for (const v of natsPermissionViolations()) this.set({ operation: v.operation, subject: v.subject }, v.count);
      },
    });
    const out = new Counter({
      name: 'gateway_messages_out_total',
      help: 'Socket.IO messages sent, by event',
      labelNames: ['event'],
      registers: [r],
    });
    this.messagesOut = { snapshot: out.labels('snapshot'), update: out.labels('update'), error: out.labels('error') };
    this.conflated = new Counter({
      name: 'gateway_updates_conflated_total',
      help: 'Updates merged into one already waiting for a slow or rate-capped client (dropped by conflation)',
      registers: [r],
    });
    this.updateEncodings = new Counter({
      name: 'gateway_update_encodings_total',
      help: 'Updates written, by whether their shared JSON was serialised for this connection (shared=no) or reused from another connection of the same pass (shared=yes)',
      labelNames: ['shared'],
      registers: [r],
    });
    this.resyncs = new Counter({
      name: 'gateway_stream_resyncs_total',
      help: 'Owner snapshots re-requested after a seq gap, an epoch change or an update that could not be applied',
      registers: [r],
    });
    this.malformedUpdates = new Counter({
      name: 'gateway_malformed_updates_total',
      help: 'Live messages that were not LiveUpdates of their subject',
      registers: [r],
    });
    this.refusedRequests = new Counter({
      name: 'gateway_refused_requests_total',
      help: 'Socket.IO requests refused, by code',
      labelNames: ['code'],
      registers: [r],
    });
    this.refusedOrigins = new Counter({
      name: 'gateway_refused_origins_total',
      help: "Socket.IO handshakes refused (HTTP 403) because their Origin is neither the gateway's own nor in GATEWAY_ALLOWED_ORIGINS, by transport",
      labelNames: ['transport'],
      registers: [r],
    });
    this.httpRefused = new Counter({
      name: 'gateway_http_refused_total',
      help: 'HTTP API requests refused with 429 by fair use, by code (rate-limited, too-many-concurrent, gateway-busy)',
      labelNames: ['code'],
      registers: [r],
    });
    this.slowDisconnects = new Counter({
      name: 'gateway_slow_client_disconnects_total',
      help: 'Clients disconnected because they could not keep up',
      registers: [r],
    });
    this.httpLatency = new Histogram({
      name: 'gateway_http_request_duration_seconds',
      help: 'HTTP request latency (to the last byte for streamed responses)',
      labelNames: ['route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30],
      registers: [r],
    });
    this.snapshotLatency = new Histogram({
      name: 'gateway_subscribe_duration_seconds',
      help: 'From a subscribe request to its snapshot sent',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers: [r],
    });
    this.updateDelay = new Histogram({
      name: 'gateway_update_delay_seconds',
      help: 'From the aggregator publishing an update to the gateway writing it to a client (conflation included)',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [r],
    });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(read());
        },
      });
    gauge(
      'gateway_http_requests_in_flight',
      'HTTP API requests being served (GATEWAY_HTTP_MAX_CONCURRENT caps them)',
      () => this.httpInFlight(),
    );
    gauge('gateway_connected_clients', 'Socket.IO connections', () => sources.clients());
    gauge('gateway_subscriptions', 'Live subscriptions', () => sources.subscriptions());
    gauge('gateway_live_streams', 'live.<exchange>.<symbol>.<tf> subjects subscribed on NATS', () => sources.streams());
    gauge('gateway_live_views', 'Shared grouped views (view, timeframe, grouping)', () => sources.views());
    gauge('gateway_congested_clients', 'Clients whose socket holds more than GATEWAY_MAX_BUFFERED_BYTES', () =>
      sources.congestedClients(),
    );
    gauge('gateway_pending_candles', "Candle updates waiting in clients' conflation buffers", () =>
      sources.pendingCandles(),
    );
    const cache = sources.historyCache;
    if (cache) {
      gauge(
        'gateway_history_cache_bytes',
        'Estimated heap held by footprint candles kept from history reads (GATEWAY_HISTORY_CACHE_MB)',
        () => cache().bytes,
      );
      gauge('gateway_history_cache_candles', 'Footprint candles kept from history reads', () => cache().candles);
      // counters that follow the cache's own counts (incremented by the difference when scraped)
      const follow = (name: string, help: string, read: () => number) => {
        let seen = 0;
        return new Counter({
          name,
          help,
          registers: [r],
          collect() {
            const now = read();
            if (now > seen) this.inc(now - seen);
            seen = now;
          },
        });
      };
      follow(
        'gateway_history_cache_hits_total',
        'History candles served from the cache (their stored trade count unchanged)',
        () => cache().hits,
      );
      follow(
        'gateway_history_cache_misses_total',
        'History candles that had to be read from ClickHouse',
        () => cache().misses,
      );
      follow(
        'gateway_history_wire_minutes_total',
        'Native 1m history candles served from their stored wire form (footprint_1m_wire)',
        () => cache().wireMinutes ?? 0,
      );
      follow(
        'gateway_history_wire_fallbacks_total',
        'Native 1m history candles whose stored wire form was missing, of another version or not canonical, read from footprint_1m instead',
        () => cache().wireFallbacks ?? 0,
      );
    }
  }
}
