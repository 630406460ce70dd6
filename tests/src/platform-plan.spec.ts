/**
 * `npm start`'s command line and restart policy (scripts/lib/platform-plan.mjs, supervisor.mjs):
 * which services it plans for the exchanges named, and when it restarts or gives up on a service.
 */
import { describe, expect, it } from 'vitest';

interface Exchange {
  exchange: string;
  symbols: string[];
  wsUrl?: string;
  restUrl?: string;
}
interface Service {
  name: string;
  feed?: string;
  cmd: string[];
  env?: Record<string, string>;
  readyUrl?: string;
}
interface Plan {
  parseExchangeArgs(argv: string[], known: string[]): Exchange[];
  planServices(list: Service[], exchanges: Exchange[], o: { collectorPort: number }): Service[];
  firstInstrument(services: Service[]): { exchange: string; symbol: string } | null;
  dashboardUrl(host: string, port: number, i: { exchange: string; symbol: string } | null): string;
  PlanError: new (m: string) => Error;
}
interface Policy {
  restartDelayMs: number;
  maxRestartDelayMs: number;
  limit: number;
  windowMs: number;
  failedRetryMs: number;
}
interface SupervisorModule {
  nextRestart(exits: number[], now: number, p: Policy): { failed: boolean; delayMs: number; exits: number };
  policyFromEnv(env: Record<string, string>): Policy;
  DEFAULT_POLICY: Policy;
}

const plan = async () => (await import(new URL('../../scripts/lib/platform-plan.mjs', import.meta.url).href)) as Plan;
const supervisor = async () =>
  (await import(new URL('../../scripts/lib/supervisor.mjs', import.meta.url).href)) as SupervisorModule;
const KNOWN = ['binance', 'bybit', 'okx', 'sim-binance'];

const SERVICES: Service[] = [
  { name: 'exchange-sim', feed: 'simulator', cmd: ['node', 'sim.js'] },
  {
    name: 'collector-sim-binance',
    feed: 'simulator',
    cmd: ['node', 'c.js'],
    env: { COLLECTOR_EXCHANGE: 'sim-binance', COLLECTOR_SYMBOLS: 'BTCUSDT,ETHUSDT' },
  },
  { name: 'aggregator', cmd: ['node', 'a.js'] },
  { name: 'gateway', cmd: ['node', 'g.js'] },
];

describe('npm start -- --exchange ... (platform-plan.mjs)', () => {
  it('reads each --exchange with the options that follow it, in order', async () => {
    const { parseExchangeArgs } = await plan();
    const argv = [
      '--exchange',
      'binance',
      '--symbols',
      'BTCUSDT,ETHUSDT',
      '--exchange=bybit',
      '--symbols',
      'BTCUSDT',
      '--ws-url',
      'ws://127.0.0.1:1/x',
      '--rest-url=http://127.0.0.1:2',
    ];
    expect(parseExchangeArgs(argv, KNOWN)).toEqual([
      { exchange: 'binance', symbols: ['BTCUSDT', 'ETHUSDT'] },
      { exchange: 'bybit', symbols: ['BTCUSDT'], wsUrl: 'ws://127.0.0.1:1/x', restUrl: 'http://127.0.0.1:2' },
    ]);
    expect(parseExchangeArgs([], KNOWN)).toEqual([]);
  });

  it('refuses what it cannot run, saying why', async () => {
    const { parseExchangeArgs, PlanError } = await plan();
    const cases: [string[], RegExp][] = [
      [['--exchange', 'kraken', '--symbols', 'X'], /unknown exchange "kraken"; known: binance, bybit/],
      [['--exchange', 'binance'], /--exchange binance needs --symbols/],
      [['--symbols', 'BTCUSDT'], /--symbols must follow an --exchange/],
      [['--exchange', 'binance', '--symbols', 'BTC USDT'], /not a symbol: BTC USDT/],
      [
        ['--exchange', 'binance', '--symbols', 'A', '--exchange', 'binance', '--symbols', 'B'],
        /binance is named twice/,
      ],
      [['--exchange', 'binance', '--symbols', 'A', '--ws-url', 'http://x'], /--ws-url of binance must be ws: or wss:/],
      [['--exchange', 'binance', '--symbols', 'A', '--rest-url', 'nope'], /--rest-url of binance: not a URL/],
      [['--exchange', 'binance', '--symbols'], /--symbols needs a value/],
      [['--verbose'], /unknown argument "--verbose"/],
    ];
    for (const [argv, why] of cases) {
      let err: unknown = null;
      try {
        parseExchangeArgs(argv, KNOWN);
      } catch (e) {
        err = e;
      }
      expect(err, argv.join(' ')).toBeInstanceOf(PlanError);
      expect((err as Error).message, argv.join(' ')).toMatch(why);
    }
  });

  it('without exchanges runs services.json as it is: the simulator feeds the platform', async () => {
    const { planServices, firstInstrument, dashboardUrl } = await plan();
    const services = planServices(SERVICES, [], { collectorPort: 9300 });
    expect(services.map((s) => s.name)).toEqual(['exchange-sim', 'collector-sim-binance', 'aggregator', 'gateway']);
    expect(firstInstrument(services)).toEqual({ exchange: 'sim-binance', symbol: 'BTCUSDT' });
    expect(dashboardUrl('127.0.0.1', 8080, firstInstrument(services))).toBe(
      'http://127.0.0.1:8080/?exchange=sim-binance&symbol=BTCUSDT',
    );
  });

  it('with exchanges: one collector each on its own port in place of the simulator, and the first one named opens first', async () => {
    const { planServices, firstInstrument } = await plan();
    const services = planServices(
      SERVICES,
      [
        { exchange: 'binance', symbols: ['BTCUSDT', 'ETHUSDT'] },
        { exchange: 'bybit', symbols: ['BTCUSDT'], wsUrl: 'ws://h:1', restUrl: 'http://h:2' },
      ],
      { collectorPort: 9300 },
    );
    expect(services.map((s) => s.name)).toEqual(['collector-binance', 'collector-bybit', 'aggregator', 'gateway']);
    expect(services[0]!.env).toEqual({
      COLLECTOR_EXCHANGE: 'binance',
      COLLECTOR_SYMBOLS: 'BTCUSDT,ETHUSDT',
      COLLECTOR_HTTP_PORT: '9300',
    });
    expect(services[1]!.env).toEqual({
      COLLECTOR_EXCHANGE: 'bybit',
      COLLECTOR_SYMBOLS: 'BTCUSDT',
      COLLECTOR_HTTP_PORT: '9301',
      COLLECTOR_WS_URL: 'ws://h:1',
      COLLECTOR_REST_URL: 'http://h:2',
    });
    expect(services.map((s) => s.readyUrl)).toEqual([
      'http://127.0.0.1:9300/health/ready',
      'http://127.0.0.1:9301/health/ready',
      undefined,
      undefined,
    ]);
    expect(firstInstrument(services)).toEqual({ exchange: 'binance', symbol: 'BTCUSDT' });
  });
});

describe('restart policy (supervisor.mjs nextRestart)', () => {
  const policy: Policy = {
    restartDelayMs: 1000,
    maxRestartDelayMs: 30_000,
    limit: 5,
    windowMs: 60_000,
    failedRetryMs: 300_000,
  };

  it('restarts after 1, 2, 4, 8 s and gives up on the 5th exit within a minute', async () => {
    const { nextRestart } = await supervisor();
    // a service that exits as soon as it is restarted: exit k happens after the k-th delay
    const exits: number[] = [];
    let now = 0;
    const seen: { failed: boolean; delayMs: number }[] = [];
    for (let k = 0; k < 5; k++) {
      const r = nextRestart(exits, now, policy);
      seen.push({ failed: r.failed, delayMs: r.delayMs });
      exits.push(now);
      now += r.delayMs + 100;
    }
    expect(seen).toEqual([
      { failed: false, delayMs: 1000 },
      { failed: false, delayMs: 2000 },
      { failed: false, delayMs: 4000 },
      { failed: false, delayMs: 8000 },
      { failed: true, delayMs: 300_000 },
    ]);
  });

  it('forgets exits older than the window, and caps the delay', async () => {
    const { nextRestart } = await supervisor();
    // four exits long ago, then one now: a first restart again
    expect(nextRestart([0, 1000, 2000, 3000], 200_000, policy)).toEqual({ failed: false, delayMs: 1000, exits: 1 });
    // four exits within the window with a low cap: the cap holds
    expect(nextRestart([0, 1000, 2000], 3000, { ...policy, maxRestartDelayMs: 5000 })).toEqual({
      failed: false,
      delayMs: 5000,
      exits: 4,
    });
  });

  it('reads its knobs from the environment and refuses nonsense', async () => {
    const { policyFromEnv, DEFAULT_POLICY } = await supervisor();
    expect(policyFromEnv({})).toEqual(DEFAULT_POLICY);
    expect(
      policyFromEnv({
        ORDERFLOW_RESTART_DELAY_MS: '100',
        ORDERFLOW_RESTART_LIMIT: '3',
        ORDERFLOW_RESTART_WINDOW_SECONDS: '10',
      }),
    ).toMatchObject({ restartDelayMs: 100, limit: 3, windowMs: 10_000 });
    expect(() => policyFromEnv({ ORDERFLOW_RESTART_LIMIT: '0' })).toThrow(
      /ORDERFLOW_RESTART_LIMIT must be an integer >= 1, got "0"/,
    );
  });
});
