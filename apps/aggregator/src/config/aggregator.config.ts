import { type Env, EnvReader, type NatsAuth, readNatsAuth, readNatsServers } from '@orderflow/config';

export interface AggregatorConfig {
  /** NATS_URL: the servers (a cluster's members), each nats: or tls:. */
  natsServers: string[];
  /** NATS_USER / NATS_PASSWORD: this component's NATS user (empty: none). */
  natsAuth: NatsAuth;
  /** `cluster`: CLICKHOUSE_CLUSTER, the replicated variant of the schema (k8s/clickhouse/README.md). */
  clickhouse: {
    url: string;
    username: string;
    password: string;
    database: string;
    cluster?: string;
    /**
     * CLICKHOUSE_MIGRATIONS_USER / CLICKHOUSE_MIGRATIONS_PASSWORD: the user the schema migrations
     * run as, over a connection of their own (the migrator role, with DDL rights; the service's
     * own user, the writer, has none). Absent: the migrations run as the service's user.
     */
    migrations?: { username: string; password: string };
  };
  /** Number of shards and this process's index (0..shards-1). */
  shards: number;
  shardIndex: number;
  httpHost: string;
  httpPort: number;
  /** Run the schema migrations at start (the Helm chart runs them in a Job and sets 0). */
  migrate: boolean;
  /** Write to ClickHouse at least this often (ms) and whenever this many trades are pending. */
  flushIntervalMs: number;
  flushMaxTrades: number;
  /** Stop pulling from JetStream while this many trades are not yet written (bounded memory). */
  maxPendingTrades: number;
  /** Closed minutes kept in memory with their trade ids (exact dedupe of repeats without a ClickHouse read). */
  windowMinutes: number;
  /** Live updates: at most one per symbol and timeframe per interval; session POC/VA recomputed at most this often. */
  liveIntervalMs: number;
  sessionIntervalMs: number;
  /** How often the TRADES stream is scanned for new symbols (and consumer lag read). */
  discoverIntervalMs: number;
  /**
   * Per-symbol consumer: messages delivered but not acknowledged at most, and the redelivery
   * timeout. Messages held for a write are kept alive (working()) every third of it, so it can be
   * short: it is also how long the messages a crashed shard had in hand wait before they are
   * redelivered to its successor.
   */
  maxAckPending: number;
  ackWaitMs: number;
}

/** A ClickHouse database or cluster name that may go into SQL text as it is. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** `orderflow-aggregator-3` → 3: a StatefulSet pod's ordinal. */
export function ordinalOf(hostname: string | undefined): number | undefined {
  const m = /-(\d+)$/.exec(hostname ?? '');
  return m ? Number(m[1]) : undefined;
}

export function loadAggregatorConfig(env: Env): AggregatorConfig {
  const r = new EnvReader(env);
  const chHost = r.string('CLICKHOUSE_HOST', '127.0.0.1');
  const chPort = r.int('CLICKHOUSE_PORT', 8123, 1, 65535);
  const shards = r.int('AGG_SHARDS', 1, 1, 1024);
  const explicit = r.optionalString('AGG_SHARD_INDEX');
  let shardIndex = 0;
  if (explicit !== undefined) shardIndex = r.int('AGG_SHARD_INDEX', 0, 0, 1023);
  else if (shards > 1) {
    const o = ordinalOf(env['HOSTNAME']);
    if (o === undefined)
      r.problem(
        `AGG_SHARD_INDEX is required when AGG_SHARDS > 1 (or a HOSTNAME ending in -<ordinal>, as in a StatefulSet), HOSTNAME is "${env['HOSTNAME'] ?? ''}"`,
      );
    else shardIndex = o;
  }
  if (shardIndex >= shards) r.problem(`the shard index ${shardIndex} must be below AGG_SHARDS (${shards})`);
  const database = r.string('CLICKHOUSE_DATABASE', 'orderflow');
  if (!IDENTIFIER.test(database))
    r.problem(`CLICKHOUSE_DATABASE must be an identifier (letters, digits, _), got "${database}"`);
  const cluster = r.optionalString('CLICKHOUSE_CLUSTER');
  if (cluster !== undefined && !IDENTIFIER.test(cluster))
    r.problem(`CLICKHOUSE_CLUSTER must be an identifier (letters, digits, _), got "${cluster}"`);
  const migrationsUser = r.optionalString('CLICKHOUSE_MIGRATIONS_USER');
  const migrationsPassword = r.optionalString('CLICKHOUSE_MIGRATIONS_PASSWORD');
  if (migrationsUser !== undefined && !IDENTIFIER.test(migrationsUser))
    r.problem(
      `CLICKHOUSE_MIGRATIONS_USER must be a ClickHouse user name (letters, digits, _), got "${migrationsUser.slice(0, 64)}"`,
    );
  if (migrationsUser === undefined && migrationsPassword !== undefined)
    r.problem('CLICKHOUSE_MIGRATIONS_PASSWORD is set without CLICKHOUSE_MIGRATIONS_USER');
  const config: AggregatorConfig = {
    natsServers: readNatsServers(r),
    natsAuth: readNatsAuth(r),
    clickhouse: {
      url: r.url('CLICKHOUSE_URL', `http://${chHost}:${chPort}`, ['http:', 'https:']),
      username: r.string('CLICKHOUSE_USER', 'default'),
      password: r.optionalString('CLICKHOUSE_PASSWORD') ?? '',
      database,
      ...(cluster === undefined ? {} : { cluster }),
      ...(migrationsUser === undefined
        ? {}
        : { migrations: { username: migrationsUser, password: migrationsPassword ?? '' } }),
    },
    shards,
    shardIndex,
    httpHost: r.string('AGG_HTTP_HOST', '127.0.0.1'),
    httpPort: r.int('AGG_HTTP_PORT', 9400, 0, 65535),
    migrate: r.oneOf('AGG_MIGRATE', ['0', '1'] as const, '1') === '1',
    flushIntervalMs: r.int('AGG_FLUSH_INTERVAL_MS', 1000, 10, 60_000),
    flushMaxTrades: r.int('AGG_FLUSH_MAX_TRADES', 50_000, 100, 5_000_000),
    maxPendingTrades: r.int('AGG_MAX_PENDING_TRADES', 500_000, 1000, 50_000_000),
    windowMinutes: r.int('AGG_WINDOW_MINUTES', 5, 1, 1440),
    liveIntervalMs: r.int('AGG_LIVE_INTERVAL_MS', 50, 5, 60_000),
    sessionIntervalMs: r.int('AGG_SESSION_INTERVAL_MS', 1000, 50, 600_000),
    discoverIntervalMs: r.int('AGG_DISCOVER_INTERVAL_MS', 5000, 100, 600_000),
    maxAckPending: r.int('AGG_MAX_ACK_PENDING', 20_000, 10, 1_000_000),
    ackWaitMs: r.int('AGG_ACK_WAIT_SECONDS', 10, 3, 3600) * 1000,
  };
  r.done();
  return config;
}
