import { statSync } from 'node:fs';
import { isIP } from 'node:net';
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
  /**
   * GATEWAY_METRICS_HOST/PORT: /metrics, /status and the health probes on a listener of their own,
   * which the public port (and so an Ingress routing it) does not serve.
   */
  metricsHost: string;
  metricsPort: number;
  /**
   * GATEWAY_TRUST_PROXY, Express's `trust proxy`: which peers' X-Forwarded-For names the client
   * (a hop count, or addresses, CIDRs and the names loopback, linklocal, uniquelocal); false: the
   * peer's address is the client.
   */
  trustProxy: number | string[] | false;
  /** Fair use of the HTTP API (http/fair-use.ts). */
  http: HttpLimits;
  /** When set, Socket.IO handshakes need `auth.token` equal to it and /api/* needs `Authorization: Bearer`. */
  authToken: string | null;
  /** The dashboard's build, served at / (absolute path), or null. */
  staticDir: string | null;
  /** Engine.IO transports: websocket only unless GATEWAY_SOCKET_POLLING=1. */
  socketPolling: boolean;
  /**
   * GATEWAY_ALLOWED_ORIGINS: pages of these origins may connect over Socket.IO besides the gateway's own (see
   * live/origin.ts).
   */
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

export interface HttpLimits {
  /** /api requests one client may have in flight at once. */
  maxConcurrentPerClient: number;
  /** /api requests one client may start per minute (a bucket refilled continuously)... */
  ratePerMinute: number;
  /** ...of this many requests (the burst a client may send at once). */
  burst: number;
  /** /api requests in flight in this process at once, all clients together (each may read ClickHouse). */
  maxConcurrent: number;
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
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** GATEWAY_TRUST_PROXY: empty (trust none), a hop count 1..10, or addresses / CIDRs / names. */
export function parseTrustProxy(raw: string | undefined): { value: number | string[] | false; problem: string | null } {
  const text = (raw ?? '').trim();
  if (text === '' || text === '0') return { value: false, problem: null };
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= 1 && n <= 10
      ? { value: n, problem: null }
      : { value: false, problem: `GATEWAY_TRUST_PROXY must be a hop count from 0 to 10 (or addresses), got "${text}"` };
  }
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = entries.filter((e) => {
    if (PROXY_NAMES.has(e)) return false;
    const [addr, bits, extra] = e.split('/');
    if (extra !== undefined || !addr || isIP(addr) === 0) return true;
    if (bits === undefined) return false;
    return !/^\d{1,3}$/.test(bits) || Number(bits) > (isIP(addr) === 4 ? 32 : 128);
  });
  if (bad.length > 0)
    return {
      value: false,
      problem: `GATEWAY_TRUST_PROXY must be a hop count (0-10) or IP addresses, CIDRs and loopback, linklocal, uniquelocal separated by commas, got "${bad[0]!.slice(0, 100)}"`,
    };
  return { value: entries, problem: null };
}

export function loadGatewayConfig(env: Env): GatewayConfig {
  const r = new EnvReader(env);
  const chHost = r.string('CLICKHOUSE_HOST', '127.0.0.1');
  const chPort = r.int('CLICKHOUSE_PORT', 8123, 1, 65535);
  const database = r.string('CLICKHOUSE_DATABASE', 'orderflow');
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(database))
    r.problem(`CLICKHOUSE_DATABASE must be an identifier (letters, digits, _), got "${database}"`);
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
    if (!isDir)
      r.problem(`GATEWAY_STATIC_DIR must be an existing directory (the dashboard's build), got "${staticDir}"`);
  }
  const origins = parseAllowedOrigins(r.optionalString('GATEWAY_ALLOWED_ORIGINS'));
  for (const p of origins.problems) r.problem(p);
  const trust = parseTrustProxy(r.optionalString('GATEWAY_TRUST_PROXY'));
  if (trust.problem) r.problem(trust.problem);
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
    metricsHost: r.string('GATEWAY_METRICS_HOST', '127.0.0.1'),
    metricsPort: 9600,
    trustProxy: trust.value,
    http: {
      maxConcurrentPerClient: r.int('GATEWAY_HTTP_MAX_CONCURRENT_PER_CLIENT', 4, 1, 1000),
      ratePerMinute: r.int('GATEWAY_HTTP_RATE_PER_MINUTE', 120, 1, 1_000_000),
      burst: r.int('GATEWAY_HTTP_BURST', 30, 1, 1_000_000),
      maxConcurrent: r.int('GATEWAY_HTTP_MAX_CONCURRENT', 16, 1, 10_000),
    },
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
  // a gateway told to take any free port (tests) takes any free one for its metrics too
  config.metricsPort = r.int('GATEWAY_METRICS_PORT', config.port === 0 ? 0 : 9600, 0, 65535);
  if (config.port !== 0 && config.port === config.metricsPort)
    r.problem(
      `GATEWAY_METRICS_PORT must differ from GATEWAY_PORT (${config.port}): the metrics are not served on the public port`,
    );
  r.done();
  return config;
}
