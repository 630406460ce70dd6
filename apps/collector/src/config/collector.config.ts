import { EnvReader, type Env, type NatsAuth, readNatsAuth, readNatsServers } from '@orderflow/config';
import { type ExchangeInfo, EXCHANGES, exchangeInfo } from '@orderflow/contracts';

/** Endpoints of the real exchanges, per protocol. Simulators must be given theirs explicitly. */
const ENDPOINTS: Record<ExchangeInfo['protocol'], { ws: string; rest: string; restWeightPerMinute: number }> = {
  'binance-spot': { ws: 'wss://stream.binance.com:9443', rest: 'https://api.binance.com', restWeightPerMinute: 6000 },
  'binance-usdm': { ws: 'wss://fstream.binance.com', rest: 'https://fapi.binance.com', restWeightPerMinute: 2400 },
  'bybit-spot': {
    ws: 'wss://stream.bybit.com/v5/public/spot',
    rest: 'https://api.bybit.com',
    restWeightPerMinute: 600,
  },
  'bybit-linear': {
    ws: 'wss://stream.bybit.com/v5/public/linear',
    rest: 'https://api.bybit.com',
    restWeightPerMinute: 600,
  },
  okx: { ws: 'wss://ws.okx.com:8443/ws/v5/business', rest: 'https://www.okx.com', restWeightPerMinute: 600 },
};

export interface CollectorConfig {
  exchange: ExchangeInfo;
  symbols: string[];
  wsUrl: string;
  restUrl: string;
  restWeightPerMinute: number;
  /** "BTCUSDT:0.01:0.00001,..." overrides the exchange's tick size and quantity step. */
  instrumentOverrides: Map<string, { tickSize: string; quantityStep: string }>;
  /** OKX channel: 'trades-all' (every fill, contiguous ids; on /ws/v5/business) or 'trades' (merged fills). */
  okxChannel: 'trades-all' | 'trades';
  /** NATS_URL: the servers (a cluster's members), each nats: or tls:. */
  natsServers: string[];
  /** NATS_USER / NATS_PASSWORD: this component's NATS user (empty: none). */
  natsAuth: NatsAuth;
  httpHost: string;
  httpPort: number;
  startupBackfillMinutes: number;
  /**
   * After a stop, trades missed up to this far back are fetched from REST; older ones are recorded as a gap
   * (COLLECTOR_RESUME_MAX_HOURS).
   */
  resumeMaxMs: number;
  plannedReconnectMs: number;
  idleTimeoutMs: number;
  /**
   * Limits of TRADES and COLLECTOR_EVENTS; `replicas` (TRADES_REPLICAS) is the copies of both in a JetStream cluster.
   */
  stream: { maxAgeMs: number; maxBytes: number; duplicateWindowMs: number; replicas: number };
  publisher: { maxBatchTrades: number; maxBatchDelayMs: number; maxInFlight: number; maxBufferedTrades: number };
}

const SYMBOL = /^[A-Za-z0-9_-]{1,40}$/;
const DECIMAL = /^\d+(\.\d+)?$/;

/** The collector's configuration; throws ConfigError naming every bad variable. */
export function loadCollectorConfig(env: Env): CollectorConfig {
  const r = new EnvReader(env);
  const id = r.oneOf(
    'COLLECTOR_EXCHANGE',
    EXCHANGES.map((e) => e.id),
  );
  const exchange = exchangeInfo(id) ?? EXCHANGES[0]!;
  const defaults = exchange.simulated ? undefined : ENDPOINTS[exchange.protocol];
  const symbols = r.list('COLLECTOR_SYMBOLS', SYMBOL);
  const overrides = new Map<string, { tickSize: string; quantityStep: string }>();
  for (const item of r.optionalString('COLLECTOR_INSTRUMENTS')?.split(',') ?? []) {
    const [symbol, tickSize, quantityStep] = item.trim().split(':');
    if (
      !symbol ||
      !tickSize ||
      !quantityStep ||
      !SYMBOL.test(symbol) ||
      !DECIMAL.test(tickSize) ||
      !DECIMAL.test(quantityStep)
    ) {
      r.problem(
        `COLLECTOR_INSTRUMENTS entries must be SYMBOL:TICK_SIZE:QUANTITY_STEP (e.g. BTCUSDT:0.01:0.00001), got "${item.trim()}"`,
      );
    } else overrides.set(symbol, { tickSize, quantityStep });
  }
  const tradesMaxAgeHours = r.int('TRADES_MAX_AGE_HOURS', 72, 1, 24 * 365);
  const config: CollectorConfig = {
    exchange,
    symbols,
    wsUrl: r.url('COLLECTOR_WS_URL', defaults?.ws, ['ws:', 'wss:']),
    restUrl: r.url('COLLECTOR_REST_URL', defaults?.rest, ['http:', 'https:']),
    restWeightPerMinute: r.int('COLLECTOR_REST_WEIGHT_PER_MINUTE', defaults?.restWeightPerMinute ?? 6000, 1, 1_000_000),
    instrumentOverrides: overrides,
    okxChannel: r.oneOf('COLLECTOR_OKX_CHANNEL', ['trades-all', 'trades'] as const, 'trades-all'),
    natsServers: readNatsServers(r),
    natsAuth: readNatsAuth(r),
    httpHost: r.string('COLLECTOR_HTTP_HOST', '127.0.0.1'),
    httpPort: r.int('COLLECTOR_HTTP_PORT', 9300, 0, 65535),
    startupBackfillMinutes: r.int('COLLECTOR_BACKFILL_MINUTES', 5, 0, 24 * 60),
    // default: as far back as TRADES keeps trades (TRADES_MAX_AGE_HOURS)
    resumeMaxMs: r.int('COLLECTOR_RESUME_MAX_HOURS', tradesMaxAgeHours, 0, 24 * 365) * 3_600_000,
    plannedReconnectMs: r.int('COLLECTOR_PLANNED_RECONNECT_MINUTES', 23 * 60, 1, 24 * 60 - 1) * 60_000,
    idleTimeoutMs: r.int('COLLECTOR_IDLE_TIMEOUT_SECONDS', 60, 5, 3600) * 1000,
    stream: {
      maxAgeMs: tradesMaxAgeHours * 3_600_000,
      maxBytes: r.int('TRADES_MAX_GIB', 10, 1, 100_000) * 1024 ** 3,
      duplicateWindowMs: r.int('TRADES_DUPLICATE_WINDOW_SECONDS', 120, 1, 86_400) * 1000,
      replicas: r.int('TRADES_REPLICAS', 1, 1, 5),
    },
    publisher: {
      maxBatchTrades: r.int('PUBLISH_MAX_BATCH_TRADES', 500, 1, 10_000),
      maxBatchDelayMs: r.int('PUBLISH_MAX_BATCH_DELAY_MS', 5, 0, 1000),
      maxInFlight: r.int('PUBLISH_MAX_IN_FLIGHT', 64, 1, 10_000),
      maxBufferedTrades: r.int('PUBLISH_MAX_BUFFERED_TRADES', 200_000, 1000, 50_000_000),
    },
  };
  if (exchange.simulated && (!env['COLLECTOR_WS_URL'] || !env['COLLECTOR_REST_URL'])) {
    r.problem(`a simulated exchange (${exchange.id}) needs COLLECTOR_WS_URL and COLLECTOR_REST_URL`);
  }
  r.done();
  return config;
}
