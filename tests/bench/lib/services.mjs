// The platform's services as processes of a bench, from their builds (apps/*/dist/main.js; run
// `npx nx run-many -t build` first): the exchange simulator, the collector, the aggregator and the
// gateway, each started with its env, its output kept (the last 50 chunks, shown when it fails to
// get ready), ready once an HTTP URL answers 200, stopped with SIGTERM (SIGKILL after 10 s).
//
//   import { startSimulator, startCollector, waitUrl } from './lib/services.mjs';
//   const sim = startSimulator({ port, symbols: ['LTCUSDT'], ratePerSymbol: 1000 });
//   await waitUrl(`http://127.0.0.1:${port}/health`, sim, { timeoutMs: 90_000, intervalMs: 200 });
//   ... await sim.kill();
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository's root: the services' paths and working directory are relative to it. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every child process a bench started here; those still running when the bench exits are killed. */
export const children = new Set();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/**
 * `node ...args` in ROOT, with `env` over the bench's own environment. `logs`: its output is also
 * printed, each chunk prefixed with [name].
 * @returns {{ name: string, child: import('node:child_process').ChildProcess, tail: string[], kill: () => Promise<void> }}
 */
export function startProcess(name, args, env = {}, { logs = false } = {}) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const tail = [];
  const keep = (d) => {
    tail.push(d.toString());
    if (tail.length > 50) tail.shift();
    if (logs) process.stdout.write(`[${name}] ${d}`);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const kill = () =>
    new Promise((r) => {
      if (child.exitCode !== null) return r();
      child.once('exit', r);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    });
  return { name, child, tail, kill };
}

/** GET `url` as JSON: { status, body }; status 0 and body null when it does not answer. */
export async function getJson(url, timeoutMs = 3000) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: r.status, body: await r.json().catch(() => null) };
  } catch {
    return { status: 0, body: null };
  }
}

/** Polls `url` until it answers 200; fails with the process's last output if `p` exits first or the time runs out. */
export async function waitUrl(url, p, { timeoutMs, intervalMs }) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited:\n${p.tail.join('')}`);
    if ((await getJson(url)).status === 200) return;
    await sleep(intervalMs);
  }
  throw new Error(`${p.name} not ready: ${url}\n${p.tail.join('')}`);
}

/**
 * The exchange simulator as a synthetic Binance spot market on `port`, paused until POST
 * /__sim/resume: `ratePerSymbol` trades/s on each symbol, evenly spaced (--pacing constant, one
 * batch every `tickMs`, its own default when not given), live timestamps, no REST limit.
 */
export function startSimulator({ port, symbols, ratePerSymbol, tickMs }, options) {
  return startProcess(
    'sim',
    [
      'apps/exchange-sim/dist/main.js',
      '--protocol',
      'binance-spot',
      '--port',
      String(port),
      '--symbols',
      symbols.join(','),
      '--pacing',
      'constant',
      '--rate',
      String(ratePerSymbol),
      ...(tickMs === undefined ? [] : ['--tick-ms', String(tickMs)]),
      '--mode',
      'live',
      '--paused',
      '--no-rate-limit',
      '--quiet',
    ],
    {},
    options,
  );
}

/** The collector on the simulator at `simPort` (no backfill, a REST budget it never meets), its HTTP on `httpPort`. */
export function startCollector({ natsUrl, exchange, symbols, simPort, httpPort }, options) {
  return startProcess(
    'collector',
    ['apps/collector/dist/main.js'],
    {
      NATS_URL: natsUrl,
      COLLECTOR_EXCHANGE: exchange,
      COLLECTOR_SYMBOLS: symbols.join(','),
      COLLECTOR_WS_URL: `ws://127.0.0.1:${simPort}`,
      COLLECTOR_REST_URL: `http://127.0.0.1:${simPort}`,
      COLLECTOR_HTTP_PORT: String(httpPort),
      COLLECTOR_BACKFILL_MINUTES: '0',
      COLLECTOR_REST_WEIGHT_PER_MINUTE: '1000000',
    },
    options,
  );
}

/**
 * An aggregator shard named `name`, one of `shards`, writing to `database`, its HTTP on `httpPort`,
 * discovering new symbols every 500 ms; `env` adds or overrides variables (AGG_SHARD_INDEX, ...).
 */
export function startAggregator(name, { natsUrl, clickhouseUrl, database, shards, httpPort, env = {} }, options) {
  return startProcess(
    name,
    ['apps/aggregator/dist/main.js'],
    {
      NATS_URL: natsUrl,
      CLICKHOUSE_URL: clickhouseUrl,
      CLICKHOUSE_DATABASE: database,
      AGG_SHARDS: String(shards),
      AGG_HTTP_PORT: String(httpPort),
      AGG_DISCOVER_INTERVAL_MS: '500',
      ...env,
    },
    options,
  );
}

/**
 * The gateway on `port` for `shards` aggregator shards, reading `database`, room for `maxClients`
 * Socket.IO clients of up to 1,000 messages/s each, no metrics port.
 */
export function startGateway({ natsUrl, clickhouseUrl, database, shards, port, maxClients }, options) {
  return startProcess(
    'gateway',
    ['apps/gateway/dist/main.js'],
    {
      NATS_URL: natsUrl,
      CLICKHOUSE_URL: clickhouseUrl,
      CLICKHOUSE_DATABASE: database,
      AGG_SHARDS: String(shards),
      GATEWAY_PORT: String(port),
      GATEWAY_METRICS_PORT: '0',
      GATEWAY_MAX_CLIENTS: String(maxClients),
      GATEWAY_MAX_MESSAGES_PER_SECOND: '1000',
    },
    options,
  );
}
