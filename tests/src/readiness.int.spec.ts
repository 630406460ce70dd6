/**
 * Readiness tells the truth quickly, and the services log JSON lines: the built aggregator and
 * gateway (dist/main.js, LOG_FORMAT=json) on a ClickHouse and a NATS of this file's own. Each
 * dependency in turn is frozen with SIGSTOP (its connections stay open and nothing answers, unlike
 * a stopped server whose connections are refused) and then thawed with SIGCONT, while
 * /health/ready of both services is asked every 100 ms: every answer must come within 1 s, and
 * both must report not ready within NOT_READY_WITHIN_MS of the freeze and ready again within
 * READY_AGAIN_WITHIN_MS of the thaw. The measured times are printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGGREGATOR_MAIN, SERVICES_URL } from './aggregator-support.js';
import { type Cleanup, runCleanup, waitFor } from './support.js';

const GATEWAY_MAIN = fileURLToPath(new URL('../../apps/gateway/dist/main.js', import.meta.url));
/** The bound the services promise: the probe asks every 1 s and gives up after 2 s, so about 3 s. */
const NOT_READY_WITHIN_MS = 5000;
const READY_AGAIN_WITHIN_MS = 5000;
/** How long a dependency stays frozen: longer than the bound, so that "stays not ready" is seen. */
const FROZEN_MS = 6000;
const ANSWER_WITHIN_MS = 1000;
const TOKEN = 'readiness-test-token-0123456789';

/** A server of scripts/lib/services.mjs: its pid is what SIGSTOP freezes. */
interface Server {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

interface ServicesModule {
  getFreePort(): Promise<number>;
  startClickHouse(o?: object): Promise<Server>;
  startNats(o?: object): Promise<Server>;
}

interface Sample {
  at: number;
  ms: number;
  status: number | 'no answer';
  body: unknown;
}

/** Asks /health/ready every 100 ms (each request given 3 s) and keeps every answer with its time. */
class ReadyWatch {
  readonly samples: Sample[] = [];
  private stopped = false;
  private loop: Promise<void> | null = null;
  constructor(readonly url: string) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const t0 = performance.now();
        let status: Sample['status'] = 'no answer';
        let body: unknown = null;
        try {
          const r = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(3000) });
          status = r.status;
          body = await r.json().catch(() => null);
        } catch {
          /* no answer within 3 s */
        }
        this.samples.push({ at: Date.now(), ms: performance.now() - t0, status, body });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  get latest(): Sample | undefined {
    return this.samples.at(-1);
  }

  /** The first answer at or after `since` with this status. */
  first(since: number, status: number): Sample | undefined {
    return this.samples.find((s) => s.at >= since && s.status === status);
  }
}

interface Service {
  name: string;
  child: ChildProcess;
  output: string[];
  url: string;
}

function spawnService(cleanup: Cleanup, name: string, main: string, env: Record<string, string>, url: string): Service {
  const child = spawn(process.execPath, [main], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (d: Buffer) => {
    output.push(d.toString());
    if (process.env['SYSTEM_TEST_LOGS']) process.stdout.write(`[${name}] ${d.toString()}`);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { name, child, output, url };
}

/** The service's output as parsed JSON lines (a line that is not JSON fails the parse). */
function jsonLines(s: Service): Record<string, unknown>[] {
  return s.output
    .join('')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`${s.name} wrote a line that is not JSON: ${l}`);
      }
    });
}

describe('readiness with a frozen dependency (SIGSTOP), and the JSON log', () => {
  const cleanup: Cleanup = [];
  let ch: Server;
  let nats: Server;
  let agg: Service;
  let gw: Service;
  const watches = new Map<string, ReadyWatch>();
  const measured: string[] = [];

  beforeAll(async () => {
    const services = (await import(SERVICES_URL)) as ServicesModule;
    ch = await services.startClickHouse();
    cleanup.push(() => ch.stop());
    // runs before stop(): a stopped process would not see stop()'s SIGTERM
    cleanup.push(async () => void process.kill(ch.pid, 'SIGCONT'));
    nats = await services.startNats();
    cleanup.push(() => nats.stop());
    cleanup.push(async () => void process.kill(nats.pid, 'SIGCONT'));
    const aggPort = await services.getFreePort();
    let gwPort = await services.getFreePort();
    while (gwPort === aggPort) gwPort = await services.getFreePort();
    const common = { NATS_URL: nats.url, CLICKHOUSE_URL: ch.url, CLICKHOUSE_DATABASE: 'readiness', LOG_FORMAT: 'json' };
    agg = spawnService(
      cleanup,
      'aggregator',
      AGGREGATOR_MAIN,
      { ...common, AGG_HTTP_HOST: '127.0.0.1', AGG_HTTP_PORT: String(aggPort) },
      `http://127.0.0.1:${aggPort}`,
    );
    gw = spawnService(
      cleanup,
      'gateway',
      GATEWAY_MAIN,
      {
        ...common,
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: String(gwPort),
        GATEWAY_METRICS_PORT: '0',
        GATEWAY_AUTH_TOKEN: TOKEN,
      },
      `http://127.0.0.1:${gwPort}`,
    );
    for (const s of [agg, gw]) {
      await waitFor(
        `${s.name} ready`,
        async () => (await fetch(`${s.url}/health/ready`).catch(() => null))?.status === 200,
        60_000,
      );
      const w = new ReadyWatch(s.url);
      w.start();
      watches.set(s.name, w);
    }
  }, 90_000);

  afterAll(async () => {
    for (const w of watches.values()) await w.stop();
    if (measured.length > 0) console.log(`readiness (asked every 100 ms):\n  ${measured.join('\n  ')}`);
    await runCleanup(cleanup);
  }, 60_000);

  /**
   * Freezes `pid`, measures how long until both services say not ready, holds, thaws, measures how long until ready.
   */
  async function freeze(what: string, pid: number, reason: RegExp): Promise<void> {
    const frozenAt = Date.now();
    process.kill(pid, 'SIGSTOP');
    let thawedAt = 0;
    try {
      await waitFor(
        `both not ready with ${what} frozen`,
        () => [...watches.values()].every((w) => w.first(frozenAt, 503) !== undefined),
        NOT_READY_WITHIN_MS + 3000,
      );
      await new Promise((r) => setTimeout(r, Math.max(0, frozenAt + FROZEN_MS - Date.now())));
    } finally {
      process.kill(pid, 'SIGCONT');
      thawedAt = Date.now();
    }
    await waitFor(
      `both ready after ${what} thawed`,
      () => [...watches.values()].every((w) => w.first(thawedAt, 200) !== undefined),
      READY_AGAIN_WITHIN_MS + 5000,
    );
    for (const [name, w] of watches) {
      const down = w.first(frozenAt, 503)!;
      const up = w.first(thawedAt, 200)!;
      const during = w.samples.filter((s) => s.at >= frozenAt && s.at <= thawedAt);
      const slowest = Math.max(...during.map((s) => s.ms));
      measured.push(
        `${what} frozen: ${name} not ready after ${down.at - frozenAt} ms, ready ${up.at - thawedAt} ms after the thaw; slowest answer while frozen ${Math.round(slowest)} ms (${during.length} asked)`,
      );
      expect(
        down.at - frozenAt,
        `${name}: not ready within ${NOT_READY_WITHIN_MS} ms of the freeze`,
      ).toBeLessThanOrEqual(NOT_READY_WITHIN_MS);
      expect(up.at - thawedAt, `${name}: ready within ${READY_AGAIN_WITHIN_MS} ms of the thaw`).toBeLessThanOrEqual(
        READY_AGAIN_WITHIN_MS,
      );
      // once down it stays down while frozen, and says why
      const afterDown = during.filter((s) => s.at > down.at);
      expect(
        afterDown.every((s) => s.status === 503),
        `${name}: stays not ready while ${what} is frozen`,
      ).toBe(true);
      expect(JSON.stringify(down.body)).toMatch(reason);
      expect(
        during.every((s) => s.status !== 'no answer' && s.ms < ANSWER_WITHIN_MS),
        `${name}: every answer within ${ANSWER_WITHIN_MS} ms while ${what} is frozen`,
      ).toBe(true);
    }
  }

  it('ClickHouse frozen: both answer within 1 s every time, turn not ready within 5 s, and are ready again within 5 s of the thaw', async () => {
    await freeze('ClickHouse', ch.pid, /ClickHouse: no answer within 2000 ms/);
  }, 40_000);

  it('NATS frozen: the same', async () => {
    await freeze('NATS', nats.pid, /NATS: no answer within 2000 ms/);
  }, 40_000);

  it('every answer, frozen or not, came within 1 s', () => {
    for (const [name, w] of watches) {
      expect(w.samples.length, name).toBeGreaterThan(50);
      const slow = w.samples.filter((s) => s.status === 'no answer' || s.ms >= ANSWER_WITHIN_MS);
      expect(slow, `${name}: answers slower than ${ANSWER_WITHIN_MS} ms`).toEqual([]);
    }
  });

  it('the services log JSON lines (time, level, service, shard), the probes log the freeze and the thaw, and the access log has no secrets', async () => {
    // a request with the token in the query and in the header: the access log names neither
    const r = await fetch(`${gw.url}/api/instruments?token=query-secret-7`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    await r.text();
    await waitFor(
      'the access line',
      () => jsonLines(gw).some((l) => l['context'] === 'http' && String(l['path']).startsWith('/api/instruments')),
      5000,
    );

    const a = jsonLines(agg);
    const g = jsonLines(gw);
    for (const [lines, service] of [
      [a, 'aggregator'],
      [g, 'gateway'],
    ] as const) {
      expect(lines.length).toBeGreaterThan(5);
      for (const l of lines) {
        expect(l['time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(['fatal', 'error', 'warn', 'info', 'debug', 'verbose']).toContain(l['level']);
        expect(l['service']).toBe(service);
        expect(typeof l['message']).toBe('string');
        if (service === 'aggregator') expect(l['shard']).toBe(0);
      }
      expect(
        lines.some(
          (l) =>
            l['level'] === 'warn' && l['dependency'] === 'ClickHouse' && /does not answer/.test(String(l['message'])),
        ),
      ).toBe(true);
      expect(
        lines.some((l) => l['dependency'] === 'ClickHouse' && /answers again after/.test(String(l['message']))),
      ).toBe(true);
      expect(
        lines.some(
          (l) => l['level'] === 'warn' && l['dependency'] === 'NATS' && /does not answer/.test(String(l['message'])),
        ),
      ).toBe(true);
    }

    const access = g.find((l) => l['context'] === 'http' && String(l['path']).startsWith('/api/instruments'))!;
    expect(access).toMatchObject({
      level: 'info',
      method: 'GET',
      path: '/api/instruments?token=[redacted]',
      status: r.status,
      client: '127.0.0.1',
    });
    expect(typeof access['durationMs']).toBe('number');
    const everything = [...agg.output, ...gw.output].join('');
    expect(everything).not.toContain('query-secret-7');
    expect(everything).not.toContain(TOKEN);
  });
});
