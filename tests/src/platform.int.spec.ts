/**
 * `npm start` as an operator meets it (scripts/platform.mjs): real exchanges named on the command
 * line (here pointed at simulators speaking Binance's and Bybit's protocols), one collector each
 * with no port clash, the printed URL opening on the first instrument named with cells and no
 * error (Chromium), services restarted after kill -9, a crash loop reported while the rest keeps
 * running, and Ctrl-C stopping everything it started. Own NATS (with the platform's NATS users:
 * every service connects as its own user and needs nothing its permissions refuse), ClickHouse and
 * ports.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOwnClickHouse } from './aggregator-support.js';
import { connect } from '@nats-io/transport-node';
import { type Cleanup, runCleanup, waitFor } from './support.js';
import { Proc, reservePorts } from './proof/pipeline.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PLATFORM = join(ROOT, 'scripts/platform.mjs');
const SIM_MAIN = join(ROOT, 'apps/exchange-sim/dist/main.js');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const haveDashboard = existsSync(join(ROOT, 'apps/dashboard/dist/index.html'));

type NatsPasswords = { collector: string; aggregator: string; gateway: string };
const services = (await import(new URL('../../scripts/lib/services.mjs', import.meta.url).href)) as {
  startNats(o: { accounts?: NatsPasswords }): Promise<{ url: string; stop(): Promise<void> }>;
};
const { generatePassword } = (await import(new URL('../../scripts/lib/nats-accounts.mjs', import.meta.url).href)) as {
  generatePassword(): string;
};

interface ServiceStatus {
  name: string;
  state: string;
  pid: number | null;
  restarts: number;
  readyUrl: string | null;
  lastExit: { code: number | null; signal: string | null } | null;
}
interface SupervisorStatus {
  services: ServiceStatus[];
}

async function getJson<T>(url: string): Promise<T | null> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return r.ok ? ((await r.json()) as T) : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** platform.mjs with its own ports; never the started-file of the npm test run that runs this suite. */
function platform(args: string[], env: Record<string, string>): Proc {
  return new Proc('platform', [PLATFORM, ...args], { ORDERFLOW_STARTED_FILE: '', ...env });
}

describe('npm start: real exchanges in one command, supervised', () => {
  const cleanup: Cleanup = [];
  let natsUrl = '';
  let natsPasswords: NatsPasswords;
  let chUrl = '';
  const chRoleEnv: Record<string, string> = {};
  let ports: number[] = [];
  let browser: Browser | null = null;

  beforeAll(async () => {
    natsPasswords = { collector: generatePassword(), aggregator: generatePassword(), gateway: generatePassword() };
    const nats = await services.startNats({ accounts: natsPasswords });
    cleanup.push(() => nats.stop());
    natsUrl = nats.url;
    const ch = await startOwnClickHouse(cleanup);
    cleanup.push(() => ch.stop());
    chUrl = ch.url;
    // the services run as the role users, as the set-up gives them (platformEnv)
    for (const [role, c] of Object.entries(ch.roles!)) {
      chRoleEnv[`ORDERFLOW_CLICKHOUSE_${role.toUpperCase()}_USER`] = c.user;
      chRoleEnv[`ORDERFLOW_CLICKHOUSE_${role.toUpperCase()}_PASSWORD`] = c.password;
    }
    // binance sim, bybit sim, dashboard, collector ports (2), aggregator, status, the crash-loop run's status, the
    // gateway's metrics
    ports = await reservePorts(9);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await runCleanup(cleanup);
  }, 60_000);

  it('--exchange binance --symbols BTCUSDT,ETHUSDT --exchange bybit --symbols BTCUSDT: a collector each, the URL opens on binance BTCUSDT, a killed service comes back, Ctrl-C stops all', async () => {
    const [binancePort, bybitPort, dashboardPort, collectorPort, , aggregatorPort, statusPort] = ports as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const binance = new Proc(
      'sim-binance',
      [
        SIM_MAIN,
        '--protocol',
        'binance-spot',
        '--port',
        String(binancePort),
        '--symbols',
        'BTCUSDT,ETHUSDT',
        '--rate',
        '20',
        '--quiet',
      ],
      {},
    );
    const bybit = new Proc(
      'sim-bybit',
      [SIM_MAIN, '--protocol', 'bybit', '--port', String(bybitPort), '--symbols', 'BTCUSDT', '--rate', '20', '--quiet'],
      {},
    );
    cleanup.push(
      () => binance.kill(),
      () => bybit.kill(),
    );
    const args = [
      '--exchange',
      'binance',
      '--symbols',
      'BTCUSDT,ETHUSDT',
      '--ws-url',
      `ws://127.0.0.1:${binancePort}`,
      '--rest-url',
      `http://127.0.0.1:${binancePort}`,
      '--exchange',
      'bybit',
      '--symbols',
      'BTCUSDT',
      '--ws-url',
      `ws://127.0.0.1:${bybitPort}/v5/public/spot`,
      '--rest-url',
      `http://127.0.0.1:${bybitPort}`,
    ];
    const p = platform(args, {
      NATS_URL: natsUrl,
      NATS_COLLECTOR_PASSWORD: natsPasswords.collector,
      NATS_AGGREGATOR_PASSWORD: natsPasswords.aggregator,
      NATS_GATEWAY_PASSWORD: natsPasswords.gateway,
      CLICKHOUSE_URL: chUrl,
      CLICKHOUSE_DATABASE: 'platform_cli',
      ...chRoleEnv,
      DASHBOARD_PORT: String(dashboardPort),
      ORDERFLOW_COLLECTOR_PORT: String(collectorPort),
      ORDERFLOW_AGGREGATOR_PORT: String(aggregatorPort),
      ORDERFLOW_STATUS_PORT: String(statusPort),
      ORDERFLOW_GATEWAY_METRICS_PORT: String(ports[8]),
      ORDERFLOW_RESTART_DELAY_MS: '200',
    });
    let stopped = false;
    cleanup.push(async () => {
      if (!stopped) await p.kill('SIGTERM');
    });
    await waitFor(
      'the platform to print its URL',
      () => p.output.join('').includes('Order-flow platform ready') || !p.alive,
      120_000,
    );
    expect(p.alive, p.tail(60)).toBe(true);
    // the aggregator migrated as the migrator; as the writer it could not have (no DDL)
    expect(p.output.join('')).toMatch(/migrations as orderflow_migrator: applied \[1, 2, 3, 4, 5, 6, 7\]/);
    const ready = /Order-flow platform ready: dashboard at (\S+)/.exec(p.output.join(''));
    expect(ready, p.tail(30)).not.toBeNull();
    const url = ready![1]!;
    expect(url).toBe(`http://127.0.0.1:${dashboardPort}/?exchange=binance&symbol=BTCUSDT`);

    // one collector per exchange, on its own port, beside the aggregator and the gateway; no simulator of its own
    const status = (await getJson<SupervisorStatus>(`http://127.0.0.1:${statusPort}/status`))!;
    expect(status.services.map((s) => [s.name, s.state, s.readyUrl])).toEqual([
      ['collector-binance', 'ready', `http://127.0.0.1:${collectorPort}/health/ready`],
      ['collector-bybit', 'ready', `http://127.0.0.1:${collectorPort + 1}/health/ready`],
      ['aggregator', 'ready', `http://127.0.0.1:${aggregatorPort}/health/ready`],
      ['gateway', 'ready', `http://127.0.0.1:${dashboardPort}/health/ready`],
    ]);
    // the instruments come from each exchange's own listing (exchangeInfo, instruments-info)
    await waitFor(
      'all three instruments listed',
      async () => {
        const r = await getJson<{ instruments: { exchange: string; symbol: string }[] }>(
          `http://127.0.0.1:${dashboardPort}/api/instruments`,
        );
        const names = new Set(r?.instruments.map((i) => `${i.exchange} ${i.symbol}`));
        return ['binance BTCUSDT', 'binance ETHUSDT', 'bybit BTCUSDT'].every((n) => names.has(n));
      },
      30_000,
    );

    // the printed URL, as a user opens it: cells of binance BTCUSDT within seconds, no error
    if (haveDashboard && existsSync(CHROMIUM)) {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu'],
      });
      const page = await browser.newPage();
      const opened = Date.now();
      await page.goto(url);
      await page.waitForFunction(
        () => {
          const w = globalThis as unknown as {
            __orderflow?: { state(): { error: unknown; candles: number }; cells(): unknown[] };
          };
          const s = w.__orderflow?.state();
          return s !== undefined && s.error === null && s.candles > 0 && w.__orderflow!.cells().length > 0;
        },
        undefined,
        { timeout: 15_000 },
      );
      console.log(
        `[platform] the printed URL showed binance BTCUSDT cells ${Date.now() - opened} ms after it was opened`,
      );
      expect(await page.locator('[role=alert]').count()).toBe(0);
      await page.close();
    } else console.warn('[platform] the dashboard or Chromium is missing: the printed URL is not opened');

    // kill -9: the supervisor starts it again, ready, without a hand (every service under a running
    // replay, with exactness: src/proof/faults.int.spec.ts, "under npm start's supervisor")
    for (const name of ['aggregator']) {
      const before = (await getJson<SupervisorStatus>(`http://127.0.0.1:${statusPort}/status`))!.services.find(
        (s) => s.name === name,
      )!;
      const killedAt = Date.now();
      process.kill(before.pid!, 'SIGKILL');
      await waitFor(
        `${name} restarted and ready`,
        async () => {
          const s = (await getJson<SupervisorStatus>(`http://127.0.0.1:${statusPort}/status`))?.services.find(
            (x) => x.name === name,
          );
          return s?.state === 'ready' && s.restarts === before.restarts + 1 && s.pid !== before.pid;
        },
        60_000,
      );
      console.log(`[platform] ${name} killed with -9: ready again ${Date.now() - killedAt} ms later`);
      const after = (await getJson<SupervisorStatus>(`http://127.0.0.1:${statusPort}/status`))!.services.find(
        (s) => s.name === name,
      )!;
      expect(after.lastExit).toMatchObject({ signal: 'SIGKILL' });
    }
    expect(p.output.join('')).toMatch(
      /service aggregator exited unexpectedly \(signal SIGKILL\); restarting it in 200 ms/,
    );
    // the NATS server took only its users, and no service met a refusal of its permissions
    await expect(connect({ servers: natsUrl, name: 'anonymous' })).rejects.toThrow(/Authorization Violation/i);
    expect(p.output.join('')).not.toMatch(/permission refused|Permissions Violation|Authorization Violation/i);

    // Ctrl-C: every service it started is gone, and it exits 0
    const pids = (await getJson<SupervisorStatus>(`http://127.0.0.1:${statusPort}/status`))!.services.map(
      (s) => s.pid!,
    );
    expect(pids.every(alive)).toBe(true);
    p.child.kill('SIGINT');
    await waitFor('the platform to stop', () => !p.alive, 60_000);
    stopped = true;
    expect(p.child.exitCode, p.tail(20)).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
  }, 300_000);

  it('a service that cannot stay up is reported as failed after 5 exits in a minute; the others keep running', async () => {
    const statusPort = ports[7]!;
    const dir = mkdtempSync(join(tmpdir(), 'orderflow-platform-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'services.json');
    writeFileSync(
      file,
      JSON.stringify([
        { name: 'steady', cmd: ['node', '-e', 'setInterval(() => {}, 1000)'] },
        {
          name: 'crashing',
          cmd: ['node', '-e', 'console.log("crashing: cannot open the thing"); setTimeout(() => process.exit(3), 100)'],
        },
      ]),
    );
    const p = platform([], {
      ORDERFLOW_SERVICES_FILE: file,
      ORDERFLOW_STATUS_PORT: String(statusPort),
      ORDERFLOW_RESTART_DELAY_MS: '50',
      NATS_URL: natsUrl,
      CLICKHOUSE_URL: chUrl,
    });
    cleanup.push(() => p.kill('SIGTERM'));
    await waitFor(
      'the crash loop to be reported',
      () => p.output.join('').includes('cannot stay up') || !p.alive,
      30_000,
    );
    const out = p.output.join('');
    expect(out).toMatch(
      /service crashing cannot stay up: 5 exits within 60 s \(last: exit code 3\)\. The other services keep running; crashing is tried again in 300 s/,
    );
    expect(out).toMatch(/crashing: cannot open the thing/);
    const status = (await getJson<SupervisorStatus>(`http://127.0.0.1:${statusPort}/status`))!;
    const crashing = status.services.find((s) => s.name === 'crashing')!;
    const steady = status.services.find((s) => s.name === 'steady')!;
    expect(crashing).toMatchObject({ state: 'failed', pid: null, restarts: 4, lastExit: { code: 3, signal: null } });
    expect(steady.state).toBe('running');
    expect(alive(steady.pid!)).toBe(true);
    expect(p.alive).toBe(true);
    p.child.kill('SIGTERM');
    await waitFor('the platform to stop', () => !p.alive, 30_000);
    expect(alive(steady.pid!)).toBe(false);
  }, 60_000);
});
