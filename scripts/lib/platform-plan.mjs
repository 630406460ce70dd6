// What `npm start` runs: the services of scripts/services.json, with the exchanges named on the
// command line in place of the built-in simulator. Pure functions (no I/O) so that the tests can
// check the plan without starting anything.
//
//   npm start -- --exchange binance --symbols BTCUSDT,ETHUSDT --exchange bybit --symbols BTCUSDT
//
// Each --exchange starts one collector; its --symbols (and optional --ws-url / --rest-url, which
// point it at another server speaking that exchange's protocol, e.g. a simulator) follow it.

const SYMBOL = /^[A-Za-z0-9_-]{1,40}$/;

export const USAGE = `usage: npm start [-- --exchange ID --symbols SYM[,SYM...] [--ws-url URL] [--rest-url URL] ...]

  With no --exchange, the built-in market simulator feeds the platform (no internet needed).
  Each --exchange runs one collector for that exchange; the options after it apply to it:
    --symbols    the exchange's own symbols, comma-separated (BTCUSDT; OKX: BTC-USDT, BTC-USDT-SWAP)
    --ws-url     the exchange's WebSocket base URL (default: the exchange's public endpoint)
    --rest-url   the exchange's REST base URL (default: the exchange's public endpoint)
  e.g. npm start -- --exchange binance --symbols BTCUSDT,ETHUSDT --exchange bybit --symbols BTCUSDT`;

export class PlanError extends Error {}

/**
 * The command line's exchanges: [{ exchange, symbols, wsUrl?, restUrl? }], in the order given.
 * `known` lists the valid exchange ids. Throws PlanError with the reason on anything it does not accept.
 */
export function parseExchangeArgs(argv, known) {
  const out = [];
  const seen = new Set();
  let current = null;
  const value = (i, flag) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new PlanError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const take = () => {
      if (inline !== undefined) return inline;
      const v = value(i, flag);
      i++;
      return v;
    };
    if (flag === '--exchange') {
      const id = take();
      if (!known.includes(id)) throw new PlanError(`unknown exchange "${id}"; known: ${known.join(', ')}`);
      if (seen.has(id))
        throw new PlanError(`--exchange ${id} is named twice; give all its symbols once: --symbols A,B`);
      seen.add(id);
      current = { exchange: id, symbols: [] };
      out.push(current);
    } else if (flag === '--symbols' || flag === '--ws-url' || flag === '--rest-url') {
      if (!current) throw new PlanError(`${flag} must follow an --exchange`);
      const v = take();
      if (flag === '--symbols') {
        const symbols = v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const bad = symbols.filter((s) => !SYMBOL.test(s));
        if (bad.length) throw new PlanError(`--symbols of ${current.exchange}: not a symbol: ${bad.join(', ')}`);
        for (const s of symbols) if (!current.symbols.includes(s)) current.symbols.push(s);
      } else {
        let url;
        try {
          url = new URL(v);
        } catch {
          throw new PlanError(`${flag} of ${current.exchange}: not a URL: ${v}`);
        }
        const allowed = flag === '--ws-url' ? ['ws:', 'wss:'] : ['http:', 'https:'];
        if (!allowed.includes(url.protocol))
          throw new PlanError(`${flag} of ${current.exchange} must be ${allowed.join(' or ')}, got ${v}`);
        current[flag === '--ws-url' ? 'wsUrl' : 'restUrl'] = v;
      }
    } else if (flag === '--help' || flag === '-h') {
      throw new PlanError('help');
    } else {
      throw new PlanError(`unknown argument "${arg}"`);
    }
  }
  for (const e of out) if (e.symbols.length === 0) throw new PlanError(`--exchange ${e.exchange} needs --symbols`);
  return out;
}

/**
 * The services to run: services.json's list with every entry marked `"feed": "simulator"` (the
 * simulator and its collector) replaced, when exchanges are named, by one collector per exchange
 * on consecutive HTTP ports from `collectorPort`, inserted where the simulator's entries stood,
 * each with the simulator's collector's NATS_USER / NATS_PASSWORD.
 */
export function planServices(list, exchanges, { collectorPort }) {
  if (exchanges.length === 0) return list;
  const at = list.findIndex((s) => s.feed === 'simulator');
  const rest = list.filter((s) => s.feed !== 'simulator');
  // the collectors' NATS user: the one services.json gives the simulator's collector
  const simCollector = list.find((s) => s.feed === 'simulator' && s.env?.COLLECTOR_EXCHANGE);
  const natsEnv = Object.fromEntries(
    Object.entries(simCollector?.env ?? {}).filter(([k]) => k === 'NATS_USER' || k === 'NATS_PASSWORD'),
  );
  const collectors = exchanges.map((e, i) => {
    const port = collectorPort + i;
    const env = {
      COLLECTOR_EXCHANGE: e.exchange,
      COLLECTOR_SYMBOLS: e.symbols.join(','),
      COLLECTOR_HTTP_PORT: String(port),
      ...natsEnv,
    };
    if (e.wsUrl) env.COLLECTOR_WS_URL = e.wsUrl;
    if (e.restUrl) env.COLLECTOR_REST_URL = e.restUrl;
    return {
      name: `collector-${e.exchange}`,
      cmd: ['node', 'apps/collector/dist/main.js'],
      env,
      readyUrl: `http://127.0.0.1:${port}/health/ready`,
    };
  });
  const index = at < 0 ? 0 : at;
  return [...rest.slice(0, index), ...collectors, ...rest.slice(index)];
}

/** The instrument the printed URL opens on: the first one named, else the first the simulator's collector collects. */
export function firstInstrument(services) {
  for (const s of services) {
    const ex = s.env?.COLLECTOR_EXCHANGE;
    const sym = s.env?.COLLECTOR_SYMBOLS?.split(',')[0]?.trim();
    if (ex && sym) return { exchange: ex, symbol: sym };
  }
  return null;
}

/** The dashboard URL for `instrument` (or the dashboard's root without one). */
export function dashboardUrl(host, port, instrument) {
  const base = `http://${host}:${port}/`;
  return instrument
    ? `${base}?${new URLSearchParams({ exchange: instrument.exchange, symbol: instrument.symbol })}`
    : base;
}
