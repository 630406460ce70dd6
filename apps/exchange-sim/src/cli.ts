/**
 * The exchange-sim command line: argument parsing and start-up, separate from main.ts (signals,
 * process exit) so that tests can run it in-process.
 */
import { parseArgs } from 'node:util';
import type { ReplaySpec } from './core/setup.js';
import type { SimHandle } from './core/simulator.types.js';
import {
  DEFAULT_PORTS,
  isSimProtocol,
  SIM_PROTOCOLS,
  startSimulator,
  type AnySimOptions,
  type SimProtocol,
} from './start.js';

export const HELP = `exchange-sim: protocol-true local simulators of exchange public trade feeds

Usage: node dist/main.js --protocol <name> [options]

  --protocol NAME        ${SIM_PROTOCOLS.join(' | ')} (default binance-spot)
  --port N               TCP port (default ${Object.entries(DEFAULT_PORTS)
    .filter(([k]) => !k.includes('futures') && k !== 'bybit-spot' && k !== 'bybit-linear')
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}; 0 = any free port)
  --host ADDR            interface to bind (default 127.0.0.1; 0.0.0.0 for containers)
  --symbols A,B          synthetic markets (default BTCUSDT; OKX accepts BTC-USDT or BTCUSDT)
  --rate N               synthetic trades per second per symbol (default 50)
  --pacing poisson|constant
                         synthetic: poisson (default) = market-like, Poisson arrivals with bursts
                         around --rate on average; constant = load generator, exactly --rate
                         trades/s per symbol, evenly spaced (trade k at start + k*1000/rate ms),
                         cheap enough for 100k trades/s in one process
  --tick-ms N            live flow: release due trades every N ms, one batch (one socket write)
                         per market and client a tick (default 10; 5 with --pacing constant)
  --seed N               synthetic random seed (default 1)
  --mode live|replay     synthetic: live (timestamps = now) or replay (from --start-time, as fast as allowed)
  --start-time ISO|ms    synthetic replay: time of the first trade
  --count N              synthetic: stop after N trades per symbol
  --replay FILE          replay a recorded file (repeatable; formats: see /work/shared/data/README.md)
  --symbol SYM           symbol for --replay (default: from the file)
  --category spot|linear Bybit: category of --replay markets / the only category served
  --inst-type SPOT|SWAP  OKX: instrument type for symbols without dashes (default SPOT)
  --replay-rate N        replay at most N trades/s (default unlimited)
  --speed X              replay with the recorded timing, X times faster
  --wait-clients N       start the flow once N clients have subscribed
  --paused               start paused (POST /__sim/resume starts it)
  --history N            trades kept per market for REST (default 200000)
  --ping-interval MS     Binance: server ping interval (default spot 20000, futures 180000)
  --pong-timeout MS      Binance: drop clients whose pong is this late (default 60000 / 600000)
  --idle-timeout MS      Bybit/OKX: drop clients idle this long (default 600000 / 30000)
  --no-rate-limit        disable REST rate limits
  --exit-after-replay    exit once the replay has been sent
  --quiet                no per-event log lines
  --help
`;

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

function fail(message: string): never {
  throw new CliError(message);
}

function num(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) fail(`--${name} must be a non-negative number, got "${value}"`);
  return n;
}

export interface CliCommand {
  readonly protocol: SimProtocol;
  readonly options: AnySimOptions;
  readonly exitAfterReplay: boolean;
  readonly quiet: boolean;
}

/** Parses the command line (without node and script); null for --help. Throws CliError. */
export function parseCli(argv: readonly string[], log: (line: string) => void = () => undefined): CliCommand | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        protocol: { type: 'string', default: 'binance-spot' },
        port: { type: 'string' },
        host: { type: 'string' },
        symbols: { type: 'string' },
        rate: { type: 'string' },
        pacing: { type: 'string' },
        'tick-ms': { type: 'string' },
        seed: { type: 'string' },
        mode: { type: 'string' },
        'start-time': { type: 'string' },
        count: { type: 'string' },
        replay: { type: 'string', multiple: true },
        symbol: { type: 'string' },
        category: { type: 'string' },
        'inst-type': { type: 'string' },
        'replay-rate': { type: 'string' },
        speed: { type: 'string' },
        'wait-clients': { type: 'string' },
        paused: { type: 'boolean' },
        history: { type: 'string' },
        'ping-interval': { type: 'string' },
        'pong-timeout': { type: 'string' },
        'idle-timeout': { type: 'string' },
        'no-rate-limit': { type: 'boolean' },
        'exit-after-replay': { type: 'boolean' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    fail((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) return null;
  const protocol = v.protocol ?? 'binance-spot';
  if (!isSimProtocol(protocol)) fail(`unknown protocol "${protocol}" (expected ${SIM_PROTOCOLS.join(', ')})`);
  if (v.mode !== undefined && v.mode !== 'live' && v.mode !== 'replay') fail('--mode must be live or replay');
  if (v.pacing !== undefined && v.pacing !== 'poisson' && v.pacing !== 'constant')
    fail('--pacing must be poisson or constant');
  if (v.pacing === 'constant' && v.rate !== undefined && !(Number(v.rate) > 0))
    fail('--rate must be positive with --pacing constant');
  const tickMs = num(v['tick-ms'], 'tick-ms');
  if (tickMs !== undefined && !(tickMs >= 1)) fail('--tick-ms must be at least 1');
  if (v.category !== undefined && v.category !== 'spot' && v.category !== 'linear')
    fail('--category must be spot or linear');
  if (v['inst-type'] !== undefined && v['inst-type'] !== 'SPOT' && v['inst-type'] !== 'SWAP')
    fail('--inst-type must be SPOT or SWAP');
  let startTime: number | undefined;
  if (v['start-time'] !== undefined) {
    startTime = /^\d+$/.test(v['start-time']) ? Number(v['start-time']) : Date.parse(v['start-time']);
    if (!Number.isFinite(startTime)) fail(`--start-time "${v['start-time']}" is neither ms nor an ISO date`);
  }
  const replay: ReplaySpec[] | undefined = v.replay?.map((file) => ({
    file,
    ...(v.symbol !== undefined ? { symbol: v.symbol } : {}),
    ...(v.category !== undefined ? { category: v.category } : {}),
  }));
  const quiet = v.quiet === true;
  const options: AnySimOptions = {
    port: num(v.port, 'port') ?? DEFAULT_PORTS[protocol],
    ...(v.host !== undefined ? { host: v.host } : {}),
    ...(v.symbols !== undefined
      ? {
          symbols: v.symbols
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        }
      : {}),
    rate: num(v.rate, 'rate'),
    ...(v.pacing !== undefined ? { pacing: v.pacing } : {}),
    ...(tickMs !== undefined ? { tickMs } : v.pacing === 'constant' ? { tickMs: 5 } : {}),
    seed: num(v.seed, 'seed'),
    ...(v.mode !== undefined ? { mode: v.mode } : {}),
    startTime,
    count: num(v.count, 'count'),
    ...(replay ? { replay } : {}),
    ...(v.category !== undefined && !replay ? { categories: [v.category] } : {}),
    ...(v['inst-type'] !== undefined ? { instType: v['inst-type'] } : {}),
    replayRate: num(v['replay-rate'], 'replay-rate'),
    replaySpeed: num(v.speed, 'speed'),
    startAfterClients: num(v['wait-clients'], 'wait-clients'),
    paused: v.paused === true,
    historyLimit: num(v.history, 'history'),
    pingIntervalMs: num(v['ping-interval'], 'ping-interval'),
    pongTimeoutMs: num(v['pong-timeout'], 'pong-timeout'),
    idleTimeoutMs: num(v['idle-timeout'], 'idle-timeout'),
    ...(v['no-rate-limit'] ? { rateLimit: false as const } : {}),
    log: (m) => {
      if (!quiet) log(`exchange-sim[${protocol}] ${m}`);
    },
  };
  return {
    protocol,
    options,
    exitAfterReplay: v['exit-after-replay'] === true,
    quiet,
  };
}

/** Starts the simulator of a parsed command line and prints its URLs. */
export async function runCli(command: CliCommand, print: (line: string) => void): Promise<SimHandle> {
  const { protocol, options } = command;
  const sim = await startSimulator(protocol, options);
  const replay = options.replay as ReplaySpec[] | undefined;
  const mode = replay
    ? `replay of ${replay.map((r) => r.file).join(', ')}`
    : options.pacing === 'constant'
      ? `synthetic ${options.mode ?? 'live'} market at a constant ${options.rate ?? 50} trades/s per symbol`
      : `synthetic ${options.mode ?? 'live'} market, ${options.rate ?? 50} trades/s per symbol`;
  const out = (line: string) => print(`exchange-sim[${protocol}] ${line}`);
  out(`SIMULATED ${mode}; markets: ${sim.markets.join(', ')}`);
  out(`ws   ${sim.wsUrl}`);
  for (const [name, url] of Object.entries(sim.endpoints)) out(`ws   ${name.padEnd(9)} ${url}`);
  out(`rest ${sim.restUrl}`);
  out(`health ${sim.restUrl}/health   control POST ${sim.restUrl}/__sim/<action>`);
  return sim;
}
