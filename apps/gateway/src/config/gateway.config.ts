import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Env, EnvReader, type NatsAuth, readNatsAuth, readNatsServers } from '@orderflow/config';
import { type AllowedOrigins, parseAllowedOrigins } from '../live/origin.js';

/**
 * The gateway's configuration, read once at start-up (main.ts passes process.env; tests pass a
 * record). Every problem is reported at once, each naming its variable and the allowed range.
 */
export interface GatewayConfig {
  /** NATS_URL: the servers (a cluster's members), each nats: or tls:. */
  natsServers: string[];
  /** NATS_USER / NATS_PASSWORD: this component's NATS user (empty: none). */
  natsAuth: NatsAuth;
  clickhouse: { url: string; username: string; password: string; database: string };
  /** Aggregator shard count: the owner of (exchange, symbol) is shardOf(exchange, symbol, aggShards). */
  aggShards: number;
  host: string;
  port: number;
  /** When set, Socket.IO handshakes need `auth.token` equal to it and /api/* needs `Authorization: Bearer`. */
  authToken: string | null;
  /** The dashboard's build, served at / (absolute path), or null. */
  staticDir: string | null;
  /** Engine.IO transports: websocket only unless GATEWAY_SOCKET_POLLING=1. */
  socketPolling: boolean;
  /** GATEWAY_ALLOWED_ORIGINS: pages of these origins may connect over Socket.IO besides the gateway's own (see live/origin.ts). */
  allowedOrigins: AllowedOrigins;
  limits: GatewayLimits;
  /** Owner snapshot request timeout (ms). */
  snapshotTimeoutMs: number;
  /** ClickHouse query timeout (ms). */
  queryTimeoutMs: number;
  /** How often the instrument list is re-read from ClickHouse (ms). */
  instrumentsRefreshMs: number;
  /** A live stream nobody subscribes to any more is kept this long (ms) before it is dropped. */
  streamLingerMs: number;
  /** Budget of the footprint candles kept from history reads (bytes; 0 = none kept). */
  historyCacheBytes: number;
}

export interface GatewayLimits {
  /** Concurrent Socket.IO connections per gateway process. */
  maxClients: number;
  /** Live subscriptions per connection. */
  subscriptionsPerClient: number;
  /** Messages a connection may send per second (bucket of the same size: bursts up to one second's worth). */
  messagesPerSecond: number;
  /** Upper bound of `candles` in a subscription (past candles in its snapshot). */
  maxCandles: number;
  /** Candles per HTTP history request (JSON and CSV, both streamed). */
  maxExportCandles: number;
  /** A connection gets at most one flush of its pending updates per interval (ms); 0 = as fast as it reads. */
  conflationMs: number;
  /** Bytes waiting in a connection's socket above which nothing more is written to it (its updates wait, conflated). */
  maxBufferedBytes: number;
  /** A connection that stays above maxBufferedBytes this long (ms) is disconnected. */
  slowClientTimeoutMs: number;
  /** Distinct candles waiting for one connection above which it is disconnected (it cannot keep up). */
  maxPendingCandles: number;
}

const TOKEN_CHARS = /^[\x21-\x7e]{16,256}$/;

export function loadGatewayConfig(env: Env): GatewayConfig {
  const r = new EnvReader(env);
  const chHost = r.string('CLICKHOUSE_HOST', '127.0.0.1');
  const chPort = r.int('CLICKHOUSE_PORT', 8123, 1, 65535);
  const database = r.string('CLICKHOUSE_DATABASE', 'orderflow');
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(database)) r.problem(`CLICKHOUSE_DATABASE must be an identifier (letters, digits, _), got "${database}"`);
  const authToken = r.optionalString('GATEWAY_AUTH_TOKEN') ?? null;
  if (authToken !== null && !TOKEN_CHARS.test(authToken)) {
    r.problem('GATEWAY_AUTH_TOKEN must be 16-256 printable ASCII characters without spaces (the value is not shown)');
  }
  let staticDir = r.optionalString('GATEWAY_STATIC_DIR') ?? null;
  if (staticDir !== null) {
    staticDir = resolve(staticDir);
    let isDir: boolean;
    try {
      isDir = statSync(staticDir).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) r.problem(`GATEWAY_STATIC_DIR must be an existing directory (the dashboard's build), got "${staticDir}"`);
  }
  const origins = parseAllowedOrigins(r.optionalString('GATEWAY_ALLOWED_ORIGINS'));
  for (const p of origins.problems) r.problem(p);
  const config: GatewayConfig = {
    natsServers: readNatsServers(r),
    natsAuth: readNatsAuth(r),
    clickhouse: {
      url: r.url('CLICKHOUSE_URL', `http://${chHost}:${chPort}`, ['http:', 'https:']),
      username: r.string('CLICKHOUSE_USER', 'default'),
      password: r.optionalString('CLICKHOUSE_PASSWORD') ?? '',
      database,
    },
    aggShards: r.int('AGG_SHARDS', 1, 1, 1024),
    host: r.string('GATEWAY_HOST', '127.0.0.1'),
    port: r.int('GATEWAY_PORT', 8080, 0, 65535),
    authToken,
    staticDir,
    socketPolling: r.oneOf('GATEWAY_SOCKET_POLLING', ['0', '1'] as const, '0') === '1',
    allowedOrigins: origins.allowed,
    limits: {
      maxClients: r.int('GATEWAY_MAX_CLIENTS', 10_000, 1, 1_000_000),
      subscriptionsPerClient: r.int('GATEWAY_MAX_SUBSCRIPTIONS_PER_CLIENT', 20, 1, 1000),
      messagesPerSecond: r.int('GATEWAY_MAX_MESSAGES_PER_SECOND', 20, 1, 10_000),
      maxCandles: r.int('GATEWAY_MAX_CANDLES', 2000, 1, 2000),
      maxExportCandles: r.int('GATEWAY_MAX_EXPORT_CANDLES', 100_000, 1, 10_000_000),
      conflationMs: r.int('GATEWAY_CONFLATION_MS', 50, 0, 10_000),
      maxBufferedBytes: r.int('GATEWAY_MAX_BUFFERED_BYTES', 262_144, 16_384, 268_435_456),
      slowClientTimeoutMs: r.int('GATEWAY_SLOW_CLIENT_TIMEOUT_MS', 30_000, 1000, 3_600_000),
      maxPendingCandles: r.int('GATEWAY_MAX_PENDING_CANDLES', 512, 8, 100_000),
    },
    snapshotTimeoutMs: r.int('GATEWAY_SNAPSHOT_TIMEOUT_MS', 3000, 100, 60_000),
    queryTimeoutMs: r.int('GATEWAY_QUERY_TIMEOUT_MS', 30_000, 1000, 600_000),
    instrumentsRefreshMs: r.int('GATEWAY_INSTRUMENTS_REFRESH_MS', 30_000, 1000, 3_600_000),
    streamLingerMs: r.int('GATEWAY_STREAM_LINGER_MS', 30_000, 0, 3_600_000),
    historyCacheBytes: r.int('GATEWAY_HISTORY_CACHE_MB', 256, 0, 65_536) * 1024 * 1024,
  };
  r.done();
  return config;
}
