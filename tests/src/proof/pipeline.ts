/**
 * The platform as `npm start` runs it, on spare ports in temp dirs: nats-server (JetStream) and
 * ClickHouse (scripts/lib/services.mjs), and the services as separate processes: the exchange
 * simulator's CLI replaying the proof stream over the Binance spot protocol (WebSocket + REST), the
 * collector, two aggregator shards and the gateway. Faults are applied to those processes; `measure()`
 * compares ClickHouse with the reference and counts what was lost or counted twice. With `live`
 * views, a live Socket.IO client (live-client.ts) follows them through the gateway from the first
 * trades on, and `compareLive()` checks what it holds against ClickHouse.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { TRADES_STREAM } from '@orderflow/contracts';
import {
  type ClickHouseRoleUsers,
  type Recording,
  SERVICES_URL,
  readRawAggregation,
  readViews,
  reference,
} from '../aggregator-support.js';
import { type Cleanup, connectTo, waitFor } from '../support.js';
import { type LiveComparison, type LiveView, ResilientLiveClient } from './live-client.js';
import { EXCHANGE, STEP, TICK, type StreamTrade, asRecording, writeReplayFile } from './stream.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SIM_MAIN = join(ROOT, 'apps/exchange-sim/dist/main.js');
const COLLECTOR_MAIN = join(ROOT, 'apps/collector/dist/main.js');
const AGGREGATOR_MAIN = join(ROOT, 'apps/aggregator/dist/main.js');
const GATEWAY_MAIN = join(ROOT, 'apps/gateway/dist/main.js');
const PLATFORM = join(ROOT, 'scripts/platform.mjs');
const LOGS = Boolean(process.env['SYSTEM_TEST_LOGS']);

/** Passwords of the platform's NATS users (scripts/lib/nats-accounts.mjs); admin: the proof's own inspection. */
export type NatsPasswords = { collector: string; aggregator: string; gateway: string; admin: string };
interface Services {
  startNats(o?: {
    port?: number;
    storeDir?: string;
    accounts?: NatsPasswords;
  }): Promise<{ url: string; port: number; pid: number; stop(): Promise<void> }>;
  getFreePort(): Promise<number>;
}
export const services = async () => (await import(SERVICES_URL)) as Services;
const natsAccounts = async () =>
  (await import(new URL('../../../scripts/lib/nats-accounts.mjs', import.meta.url).href)) as {
    generatePassword(): string;
  };

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port }, () => server.close(() => resolve(true)));
  });
}

/**
 * Free ports for the services' own HTTP servers, below the kernel's ephemeral range: a port from
 * that range (getFreePort) can be taken by any outgoing connection of the machine between the
 * choice and the service's listen, or while a killed service is down before its restart on the
 * same port (seen: a shard's EADDRINUSE while other suites ran).
 */
export async function reservePorts(n: number): Promise<number[]> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    /* not Linux: the usual range */
  }
  const from = Math.max(1024, low - 12_000);
  const out: number[] = [];
  for (let i = 0; out.length < n && i < 1000; i++) {
    const port = from + Math.floor(Math.random() * (low - from));
    if (!out.includes(port) && (await canListen(port))) out.push(port);
  }
  if (out.length < n) throw new Error(`no ${n} free ports in [${from}, ${low})`);
  return out;
}

export class Proc {
  readonly output: string[] = [];
  readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  constructor(
    readonly name: string,
    args: string[],
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => {
      const s = d.toString();
      this.output.push(s);
      if (this.output.length > 2000) this.output.splice(0, 1000);
      if (LOGS) process.stdout.write(`[${name}] ${s}`);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((r) => this.child.once('exit', () => r()));
  }
  get pid(): number {
    return this.child.pid!;
  }
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.alive) this.child.kill(signal);
    const t = setTimeout(() => this.alive && this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(t);
  }
  tail(n = 20): string {
    return this.output.join('').split('\n').slice(-n).join('\n');
  }
}

async function get<T = unknown>(url: string): Promise<{ status: number; body: T | null }> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return { status: r.status, body: (await r.json().catch(() => null)) as T | null };
  } catch {
    return { status: 0, body: null };
  }
}

interface SimStats {
  state: string;
  tradesProduced: number;
  tradesSent: number;
  tradesSkipped: number;
}

interface CollectorStatus {
  publisher?: { buffered: number };
  feed?: { symbols?: { filling: boolean; queued: number }[] };
}

export interface Market {
  symbol: string;
  trades: StreamTrade[];
}

export interface PipelineOptions {
  db: string;
  clickhouseUrl: string;
  /**
   * The ClickHouse users the services run as (the aggregator as writer, its migrations as
   * migrator, the gateway as reader), so that the proof also proves those rights suffice; absent:
   * the server's `default`.
   */
  clickhouseRoles?: ClickHouseRoleUsers | null;
  markets: Market[];
  /** --replay-rate of the simulator (trades/s) */
  rate: number;
  cleanup: Cleanup;
  aggEnv?: Record<string, string>;
  /** Views a live Socket.IO client follows through the gateway from the first trades on (none: no client). */
  live?: LiveView[];
  /** NATS_URL of servers to use instead of starting one (a cluster's comma-separated URLs); the caller runs them. */
  natsUrl?: string;
  /** The passwords of the platform's NATS users on the servers of natsUrl, if they run with them. */
  natsPasswords?: NatsPasswords;
  /** TRADES_REPLICAS of the collector: the copies of TRADES and COLLECTOR_EVENTS (default 1). */
  streamReplicas?: number;
  /**
   * Run the collector, the shards and the gateway under `npm start`'s supervisor (scripts/platform.mjs
   * with a services file of their own): a killed service is restarted by it, with the same settings.
   */
  supervised?: boolean;
}

interface SupervisorStatus {
  services: { name: string; state: string; pid: number | null; restarts: number }[];
}

export interface Measurement {
  symbol: string;
  tradesIn: number;
  tradesInClickHouse: number;
  lost: number;
  countedTwice: number;
  foreign: number;
  cellDiffs: number;
  candleDiffs: number;
  rawDiffs: number;
  volumeDiff: string;
}

export class Pipeline {
  sim!: Proc;
  collector!: Proc;
  shards: Proc[] = [];
  gateway!: Proc;
  live: ResilientLiveClient | null = null;
  nats!: { url: string; port: number; stop(): Promise<void> };
  nc!: NatsConnection;
  simPort = 0;
  collectorPort = 0;
  aggPorts: number[] = [];
  gatewayPort = 0;
  /** The gateway's metrics port (/metrics, /status). */
  gatewayMetricsPort = 0;
  /**
   * What the gateway and the live client cost a run (ms): the wait for the gateway once the rest was ready, the replay
   * held while the client subscribed, the final comparisons.
   */
  readonly liveCosts = { gatewayWait: 0, subscribeHold: 0, check: 0 };
  dir = '';
  natsStore = '';
  /**
   * The NATS users of a server the pipeline starts (each service connects as its own, within its
   * permissions: the proof also proves they suffice); with the caller's servers (natsUrl), theirs.
   */
  natsPasswords: NatsPasswords | null = null;
  readonly recordings: Recording[];

  constructor(readonly o: PipelineOptions) {
    this.recordings = o.markets.map((m) => asRecording(m.symbol, m.trades));
  }

  get total(): number {
    return this.o.markets.reduce((n, m) => n + m.trades.length, 0);
  }

  async start(): Promise<void> {
    const svc = await services();
    const { cleanup } = this.o;
    this.dir = mkdtempSync(join(tmpdir(), 'orderflow-proof-'));
    cleanup.push(async () => rmSync(this.dir, { recursive: true, force: true }));
    if (this.o.natsUrl) {
      this.nats = { url: this.o.natsUrl, port: 0, stop: async () => undefined };
      this.natsPasswords = this.o.natsPasswords ?? null;
    } else {
      this.natsStore = join(this.dir, 'nats');
      const { generatePassword } = await natsAccounts();
      this.natsPasswords = {
        collector: generatePassword(),
        aggregator: generatePassword(),
        gateway: generatePassword(),
        admin: generatePassword(),
      };
      this.nats = await svc.startNats({ storeDir: this.natsStore, accounts: this.natsPasswords });
      cleanup.push(() => this.nats.stop());
    }
    this.nc = this.natsPasswords
      ? await connect({ servers: this.nats.url, user: 'admin', pass: this.natsPasswords.admin, name: 'system-test' })
      : await connectTo(this.nats.url);
    cleanup.push(() => this.nc.close().catch(() => undefined));
    const ports = await reservePorts(6);
    [this.simPort, this.collectorPort, this.gatewayPort, this.gatewayMetricsPort] = [
      ports[0]!,
      ports[1]!,
      ports[2]!,
      ports[5]!,
    ];
    this.aggPorts = ports.slice(3, 5);
    const files = this.o.markets.map((m) => writeReplayFile(this.dir, m.symbol, m.trades));
    this.sim = new Proc(
      'exchange-sim',
      [
        SIM_MAIN,
        '--protocol',
        'binance-spot',
        '--port',
        String(this.simPort),
        ...files.flatMap((f) => ['--replay', f]),
        '--replay-rate',
        String(this.o.rate),
        '--paused',
        '--history',
        String(Math.max(200_000, ...this.o.markets.map((m) => m.trades.length + 1000))),
        '--no-rate-limit',
        '--quiet',
      ],
      {},
    );
    cleanup.push(() => this.sim.kill('SIGKILL'));
    await waitFor(
      'the simulator',
      async () => (await get(`http://127.0.0.1:${this.simPort}/health`)).status === 200 || !this.sim.alive,
      60_000,
    );
    if (!this.sim.alive) throw new Error(`simulator exited:\n${this.sim.tail()}`);
    if (this.o.supervised) await this.startSupervised();
    else {
      await this.startCollector();
      cleanup.push(() => this.collector.kill('SIGKILL'));
      for (const i of [0, 1]) {
        await this.startShard(i);
        cleanup.push(() => this.shards[i]!.kill('SIGKILL'));
      }
      this.startGateway();
      cleanup.push(() => this.gateway.kill('SIGKILL'));
    }
    await this.waitReady();
    if (!this.o.live) {
      await this.simControl('resume');
      return;
    }
    // the gateway knows a symbol once the aggregator has seen it: let the first trades through, hold
    // the replay (paused time does not count in its pacing) while the client subscribes, go on
    await this.simControl('resume');
    await waitFor('the first trades', async () => (await this.simStats()).tradesProduced > 0, 60_000);
    await this.simControl('pause');
    const held = Date.now();
    this.live = new ResilientLiveClient(this.gatewayUrl, this.o.live);
    cleanup.push(async () => this.live?.close());
    await this.live.ready(90_000);
    await this.simControl('resume');
    this.liveCosts.subscribeHold = Date.now() - held;
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.gatewayPort}`;
  }

  /** The gateway as scripts/services.json runs it (one process, its own port), reading both shards. */
  startGateway(): void {
    this.gateway = new Proc('gateway', [GATEWAY_MAIN], this.gatewayEnv());
  }

  /** NATS_USER / NATS_PASSWORD of a component, when the pipeline runs its server with the users. */
  natsUserEnv(component: 'collector' | 'aggregator' | 'gateway'): Record<string, string> {
    return this.natsPasswords ? { NATS_USER: component, NATS_PASSWORD: this.natsPasswords[component] } : {};
  }

  gatewayEnv(): Record<string, string> {
    const roles = this.o.clickhouseRoles;
    return {
      NATS_URL: this.nats.url,
      ...this.natsUserEnv('gateway'),
      CLICKHOUSE_URL: this.o.clickhouseUrl,
      CLICKHOUSE_DATABASE: this.o.db,
      ...(roles ? { CLICKHOUSE_USER: roles.reader.user, CLICKHOUSE_PASSWORD: roles.reader.password } : {}),
      AGG_SHARDS: '2',
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(this.gatewayPort),
      GATEWAY_METRICS_PORT: String(this.gatewayMetricsPort),
      // the replay runs the recording up to ~250x faster than it traded (at full size a second closes
      // ~250 1m candles per view): the default of 512 candles waiting, sized for a live market, would
      // disconnect the proof's client whenever its process waits a second or two for the shared CPU
      GATEWAY_MAX_PENDING_CANDLES: '20000',
    };
  }

  collectorEnv(): Record<string, string> {
    return {
      NATS_URL: this.nats.url,
      ...this.natsUserEnv('collector'),
      COLLECTOR_EXCHANGE: EXCHANGE,
      COLLECTOR_SYMBOLS: this.o.markets.map((m) => m.symbol).join(','),
      COLLECTOR_WS_URL: `ws://127.0.0.1:${this.simPort}`,
      COLLECTOR_REST_URL: `http://127.0.0.1:${this.simPort}`,
      COLLECTOR_INSTRUMENTS: this.o.markets.map((m) => `${m.symbol}:${TICK}:${STEP}`).join(','),
      COLLECTOR_HTTP_PORT: String(this.collectorPort),
      // nothing before its first trade: a restarted collector resumes from its last stored trade
      COLLECTOR_BACKFILL_MINUTES: '0',
      COLLECTOR_REST_WEIGHT_PER_MINUTE: '1000000',
      ...(this.o.streamReplicas ? { TRADES_REPLICAS: String(this.o.streamReplicas) } : {}),
    };
  }

  async startCollector(): Promise<void> {
    this.collector = new Proc('collector', [COLLECTOR_MAIN], this.collectorEnv());
  }

  async startShard(i: number): Promise<void> {
    this.shards[i] = new Proc(`aggregator-${i}`, [AGGREGATOR_MAIN], this.shardEnv(i));
    // shard 0 applies the migrations first; the other waits for it (no concurrent DDL on a new database)
    if (i === 0) await this.waitUrl(`http://127.0.0.1:${this.aggPorts[0]}/health/live`, this.shards[0]!);
  }

  shardEnv(i: number): Record<string, string> {
    const roles = this.o.clickhouseRoles;
    return {
      NATS_URL: this.nats.url,
      ...this.natsUserEnv('aggregator'),
      CLICKHOUSE_URL: this.o.clickhouseUrl,
      CLICKHOUSE_DATABASE: this.o.db,
      ...(roles
        ? {
            CLICKHOUSE_USER: roles.writer.user,
            CLICKHOUSE_PASSWORD: roles.writer.password,
            CLICKHOUSE_MIGRATIONS_USER: roles.migrator.user,
            CLICKHOUSE_MIGRATIONS_PASSWORD: roles.migrator.password,
          }
        : {}),
      AGG_SHARDS: '2',
      AGG_SHARD_INDEX: String(i),
      AGG_HTTP_PORT: String(this.aggPorts[i]),
      AGG_DISCOVER_INTERVAL_MS: '500',
      AGG_FLUSH_INTERVAL_MS: '500',
      AGG_ACK_WAIT_SECONDS: '5',
      ...this.o.aggEnv,
    };
  }

  /**
   * The collector, both shards and the gateway under `npm start`'s supervisor, in that order (each
   * ready before the next: shard 0 migrates before shard 1 starts). `collector`, `shards` and
   * `gateway` then all name the supervisor's process, whose output carries every service's lines.
   */
  private async startSupervised(): Promise<void> {
    const ready = (port: number) => `http://127.0.0.1:${port}/health/ready`;
    const node = process.execPath;
    const file = join(this.dir, 'services.json');
    writeFileSync(
      file,
      JSON.stringify([
        {
          name: 'collector',
          cmd: [node, COLLECTOR_MAIN],
          env: this.collectorEnv(),
          readyUrl: ready(this.collectorPort),
        },
        {
          name: 'aggregator-0',
          cmd: [node, AGGREGATOR_MAIN],
          env: this.shardEnv(0),
          readyUrl: ready(this.aggPorts[0]!),
        },
        {
          name: 'aggregator-1',
          cmd: [node, AGGREGATOR_MAIN],
          env: this.shardEnv(1),
          readyUrl: ready(this.aggPorts[1]!),
        },
        { name: 'gateway', cmd: [node, GATEWAY_MAIN], env: this.gatewayEnv(), readyUrl: ready(this.gatewayPort) },
      ]),
    );
    this.statusPort = (await reservePorts(1))[0]!;
    const supervisor = new Proc('platform', [PLATFORM], {
      ORDERFLOW_SERVICES_FILE: file,
      ORDERFLOW_STATUS_PORT: String(this.statusPort),
      // never the started-file of an npm test run: this supervisor stops only its own services
      ORDERFLOW_STARTED_FILE: '',
      ORDERFLOW_RESTART_DELAY_MS: '500',
      NATS_URL: this.nats.url,
      CLICKHOUSE_URL: this.o.clickhouseUrl,
      CLICKHOUSE_DATABASE: this.o.db,
      DASHBOARD_PORT: String(this.gatewayPort),
    });
    this.o.cleanup.push(async () => {
      // Ctrl-C's path: the supervisor stops its services; any it could not stop are killed here
      // (each runs in a process group of its own, which outlives a killed supervisor)
      const pids =
        (await get<SupervisorStatus>(`http://127.0.0.1:${this.statusPort}/status`)).body?.services.map((s) => s.pid) ??
        [];
      supervisor.child.kill('SIGTERM');
      await waitFor('the supervisor to stop its services', () => !supervisor.alive, 60_000).catch(() => undefined);
      for (const pid of pids) {
        try {
          if (pid) process.kill(-pid, 'SIGKILL');
        } catch {
          /* stopped */
        }
      }
      if (supervisor.alive) await supervisor.kill('SIGKILL');
    });
    this.collector = supervisor;
    this.shards = [supervisor, supervisor];
    this.gateway = supervisor;
  }

  statusPort = 0;

  /** The supervisor's view of its services (supervised runs). */
  async supervisorStatus(): Promise<SupervisorStatus> {
    const r = await get<SupervisorStatus>(`http://127.0.0.1:${this.statusPort}/status`);
    if (!r.body) throw new Error(`the supervisor's /status did not answer:\n${this.collector.tail(40)}`);
    return r.body;
  }

  /**
   * kill -9 one supervised service; resolves with the kill's time and, once the supervisor has
   * started it again and it is ready, the time that took.
   */
  async killSupervised(name: string, timeoutMs = 120_000): Promise<{ killedAt: number; readyMs: number }> {
    const before = (await this.supervisorStatus()).services.find((s) => s.name === name);
    if (!before?.pid) throw new Error(`${name} is not running under the supervisor: ${JSON.stringify(before)}`);
    const killedAt = Date.now();
    process.kill(before.pid, 'SIGKILL');
    await waitFor(
      `${name} restarted by the supervisor and ready`,
      async () => {
        const s = (await this.supervisorStatus()).services.find((x) => x.name === name);
        return s !== undefined && s.state === 'ready' && s.restarts === before.restarts + 1;
      },
      timeoutMs,
    );
    return { killedAt, readyMs: Date.now() - killedAt };
  }

  private async waitUrl(url: string, p: Proc, timeoutMs = 90_000): Promise<void> {
    await waitFor(`${p.name} at ${url}`, async () => !p.alive || (await get(url)).status === 200, timeoutMs);
    if (!p.alive) throw new Error(`${p.name} exited:\n${p.tail()}`);
  }

  async waitReady(timeoutMs = 90_000): Promise<void> {
    await this.waitUrl(`http://127.0.0.1:${this.collectorPort}/health/ready`, this.collector, timeoutMs);
    for (const i of [0, 1])
      await this.waitUrl(`http://127.0.0.1:${this.aggPorts[i]}/health/ready`, this.shards[i]!, timeoutMs);
    const t = Date.now();
    await this.waitUrl(`${this.gatewayUrl}/health/ready`, this.gateway, timeoutMs);
    this.liveCosts.gatewayWait = Date.now() - t;
  }

  async simControl(action: string, params: Record<string, string | number> = {}): Promise<unknown> {
    const q = new URLSearchParams(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])));
    const r = await fetch(`http://127.0.0.1:${this.simPort}/__sim/${action}?${q}`, { method: 'POST', body: '' });
    const body: unknown = await r.json();
    if (r.status !== 200) throw new Error(`sim ${action}: ${JSON.stringify(body)}`);
    return body;
  }

  async simStats(): Promise<SimStats> {
    return (
      (await get<SimStats>(`http://127.0.0.1:${this.simPort}/__sim/stats`)).body ?? {
        state: 'unknown',
        tradesProduced: 0,
        tradesSent: 0,
        tradesSkipped: 0,
      }
    );
  }

  async collectorStatus(): Promise<CollectorStatus | null> {
    return (await get<CollectorStatus>(`http://127.0.0.1:${this.collectorPort}/status`)).body;
  }

  /** Resolves once the simulator has produced at least `n` trades. */
  async producedAtLeast(n: number, timeoutMs = 600_000): Promise<void> {
    await waitFor(`${n} trades produced`, async () => ((await this.simStats())?.tradesProduced ?? 0) >= n, timeoutMs);
  }

  /**
   * After settle(): what the live client holds, once it has caught up, against ClickHouse; then the
   * same for a client that subscribes now (its snapshot = ClickHouse history + the gateway's live
   * candles, which win). Null without a client.
   */
  async compareLive(
    ch: ClickHouseClient,
    timeoutMs = 60_000,
  ): Promise<{ live: LiveComparison[]; fresh: LiveComparison[]; resyncs: number | null; rounds: number } | null> {
    if (!this.live) return null;
    const t = Date.now();
    const { comparison: live, truth, rounds } = await this.live.settle(ch, this.o.db, timeoutMs);
    const fresh = new ResilientLiveClient(this.gatewayUrl, this.o.live!);
    try {
      await fresh.ready(60_000);
      return { live, fresh: await fresh.compare(ch, this.o.db, truth), resyncs: await this.gatewayResyncs(), rounds };
    } finally {
      fresh.close();
      this.liveCosts.check = Date.now() - t;
    }
  }

  /** Re-snapshots of the gateway's live streams (seq gaps, new epochs) since its (re)start, from /status. */
  async gatewayResyncs(): Promise<number | null> {
    const r = await get<{ streams?: { resyncs: number }[] }>(`http://127.0.0.1:${this.gatewayMetricsPort}/status`);
    return r.body?.streams ? r.body.streams.reduce((n, s) => n + s.resyncs, 0) : null;
  }

  async restartNats(downMs: number): Promise<number> {
    await this.nats.stop();
    await sleep(downMs);
    const svc = await services();
    const restartAt = Date.now();
    this.nats = await svc.startNats({
      port: this.nats.port,
      storeDir: this.natsStore,
      ...(this.natsPasswords ? { accounts: this.natsPasswords } : {}),
    });
    return restartAt;
  }

  /** Trades written to ClickHouse (distinct ids). */
  async storedTrades(ch: ClickHouseClient): Promise<number> {
    try {
      const rs = await ch.query({
        query: `SELECT uniqExact(symbol, trade_id) FROM ${this.o.db}.trades`,
        format: 'TabSeparated',
      });
      return Number((await rs.text()).trim());
    } catch {
      return 0;
    }
  }

  /**
   * ms from `sinceMs` until ClickHouse holds as many trades as the simulator had produced at `sinceMs` (wall clock).
   */
  async recoveryMs(
    ch: ClickHouseClient,
    sinceMs: number,
    producedThen: number,
    timeoutMs = 600_000,
  ): Promise<number | null> {
    const until = sinceMs + timeoutMs;
    const target = Math.min(
      producedThen,
      this.recordings.reduce((n, r) => n + new Set(r.recorded.map((t) => t.id)).size, 0),
    );
    while (Date.now() < until) {
      if ((await this.storedTrades(ch)) >= target) return Date.now() - sinceMs;
      await sleep(250);
    }
    return null;
  }

  /**
   * Waits until the replay is over and everything has settled: the simulator is done, the collector
   * has nothing buffered or being filled, every symbol's consumer is fully acknowledged, and
   * nothing changed for two polls.
   */
  async settle(timeoutMs = 900_000): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    let last = '';
    let stable = 0;
    await waitFor(
      'the pipeline to settle',
      async () => {
        const sim = await this.simStats();
        if (sim.state !== 'done') return false;
        const st = await this.collectorStatus();
        if (!st || st.publisher?.buffered !== 0 || st.feed?.symbols?.some((s) => s.filling || s.queued > 0))
          return false;
        const parts: string[] = [];
        for (const m of this.o.markets) {
          const info = await jsm.consumers.info(TRADES_STREAM, `agg_${EXCHANGE}_${m.symbol}`).catch(() => null);
          if (!info || info.num_pending > 0 || info.num_ack_pending > 0) return false;
          parts.push(String(info.delivered.stream_seq));
        }
        const s = (await jsm.streams.info(TRADES_STREAM)).state.last_seq + ' ' + parts.join(' ');
        stable = s === last ? stable + 1 : 0;
        last = s;
        if (stable < 2) await sleep(700);
        return stable >= 2;
      },
      timeoutMs,
    );
  }

  /** Compares ClickHouse with the reference of each market. */
  async measure(ch: ClickHouseClient): Promise<Measurement[]> {
    const out: Measurement[] = [];
    for (const rec of this.recordings) {
      const ref = reference(rec);
      const views = await readViews(ch, this.o.db, rec.exchange, rec.symbol);
      const raw = await readRawAggregation(ch, this.o.db, rec.exchange, rec.symbol);
      const refIds = new Set(rec.recorded.map((t) => t.id));
      const rs = await ch.query({
        query: `SELECT DISTINCT trade_id FROM ${this.o.db}.trades WHERE exchange = '${rec.exchange}' AND symbol = '${rec.symbol}'`,
        format: 'TabSeparated',
      });
      const stored = new Set((await rs.text()).split('\n').filter(Boolean));
      let lost = 0;
      for (const id of refIds) if (!stored.has(id)) lost++;
      let foreign = 0;
      for (const id of stored) if (!refIds.has(id)) foreign++;
      const sum = (cells: string[], tf: string) => {
        let n = 0n;
        let v = 0n;
        for (const c of cells) {
          const f = c.split(' ');
          if (f[0] !== tf) continue;
          v += BigInt(f[3]!) + BigInt(f[4]!);
          n += BigInt(f[5]!) + BigInt(f[6]!);
        }
        return { n, v };
      };
      const inCh = sum(views.cells, '1m');
      const inRef = sum(ref.cells, '1m');
      const diff = (a: string[], b: string[]) => {
        const sa = new Set(a);
        const sb = new Set(b);
        let d = 0;
        for (const x of sa) if (!sb.has(x)) d++;
        for (const x of sb) if (!sa.has(x)) d++;
        return d;
      };
      out.push({
        symbol: rec.symbol,
        tradesIn: refIds.size,
        tradesInClickHouse: Number(inCh.n),
        lost,
        countedTwice: Math.max(0, Number(inCh.n) - (refIds.size - lost) - foreign),
        foreign,
        cellDiffs: diff(views.cells, ref.cells),
        candleDiffs: diff(views.candles, ref.candles),
        rawDiffs: diff(raw, ref.cells),
        volumeDiff: String(inCh.v - inRef.v),
      });
    }
    return out;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
