#!/usr/bin/env node
// Runs and supervises the platform's services (started by scripts/start.sh after setup and build):
//
//   node scripts/platform.mjs [--exchange ID --symbols A,B [--ws-url URL] [--rest-url URL]] ...
//
// The services are those of scripts/services.json (ORDERFLOW_SERVICES_FILE overrides the path).
// Each entry: { "name", "cmd": [...], "env"?: {...}, "readyUrl"?, "cwd"?, "readyTimeoutMs"?,
// "feed"?: "simulator" }; "${NAME}" in env values and readyUrl is the platform's variable NAME.
// Exchanges named on the command line replace the entries marked "feed": "simulator" with one
// collector each (scripts/lib/platform-plan.mjs). The supervisor (scripts/lib/supervisor.mjs)
// restarts a service that exits, with backoff, and serves every service's state on
// http://127.0.0.1:$ORDERFLOW_STATUS_PORT/status. Ctrl-C / SIGTERM stops the services and the NATS /
// ClickHouse servers that setup started in this run (pid files in $ORDERFLOW_STARTED_FILE).

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  PlanError,
  USAGE,
  dashboardUrl,
  firstInstrument,
  parseExchangeArgs,
  planServices,
} from './lib/platform-plan.mjs';
import { StartupError, Supervisor, policyFromEnv } from './lib/supervisor.mjs';
import { clickHousePing, envConfig, httpRequest, natsInfo, platformEnv, stopStarted } from './lib/services.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVICES_FILE = path.resolve(ROOT, process.env.ORDERFLOW_SERVICES_FILE || 'scripts/services.json');
const startedFile = process.env.ORDERFLOW_STARTED_FILE;

const say = (msg) => console.log(`platform: ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The runner's own ports: defaults filled in, so that services.json can name them as ${VAR}. */
function runnerEnv() {
  const env = platformEnv();
  env.ORDERFLOW_SIM_PORT ||= '9101';
  env.ORDERFLOW_COLLECTOR_PORT ||= '9300';
  env.ORDERFLOW_AGGREGATOR_PORT ||= '9400';
  env.ORDERFLOW_STATUS_PORT ||= '9500';
  env.ORDERFLOW_GATEWAY_METRICS_PORT ||= '9600';
  return env;
}

function loadServices(baseEnv) {
  const expand = (value) => value.replace(/\$\{(\w+)\}/g, (_, n) => baseEnv[n] ?? '');
  const list = JSON.parse(fs.readFileSync(SERVICES_FILE, 'utf8'));
  if (!Array.isArray(list)) throw new Error(`${SERVICES_FILE} must contain a JSON array`);
  const names = new Set();
  for (const s of list) {
    if (!s || typeof s.name !== 'string' || !s.name) throw new Error(`${SERVICES_FILE}: every entry needs a "name"`);
    if (!Array.isArray(s.cmd) || s.cmd.length === 0 || !s.cmd.every((a) => typeof a === 'string'))
      throw new Error(`${SERVICES_FILE}: "${s.name}" needs "cmd" as a non-empty array of strings`);
    if (names.has(s.name)) throw new Error(`${SERVICES_FILE}: duplicate service name "${s.name}"`);
    names.add(s.name);
    s.cmd = s.cmd.map(expand);
    if (typeof s.readyUrl === 'string') s.readyUrl = expand(s.readyUrl);
    s.env = Object.fromEntries(Object.entries(s.env ?? {}).map(([k, v]) => [k, expand(String(v))]));
  }
  return list;
}

/** A `node <script>` service whose script has not been built does not exist (yet). */
function missingScript(service) {
  const cwd = path.resolve(ROOT, service.cwd ?? '.');
  if (path.basename(service.cmd[0]) !== 'node') return null;
  const script = service.cmd.slice(1).find((a) => !a.startsWith('-'));
  if (!script || !/\.[cm]?js$/.test(script)) return null;
  return fs.existsSync(path.resolve(cwd, script)) ? null : script;
}

/** The exchange ids the collector accepts (libs/contracts, built before this runs). */
async function knownExchanges() {
  const { EXCHANGES } = await import('@orderflow/contracts');
  return EXCHANGES.map((e) => e.id);
}

/** Serves the supervisor's status as JSON on 127.0.0.1:port (/status); resolves once listening. */
function serveStatus(supervisor, port) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && (url.pathname === '/status' || url.pathname === '/')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(supervisor.status(), null, 1));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: GET /status\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** Waits (bounded) until the gateway lists `instrument`, so that the printed URL opens on it. */
async function waitListed(gatewayBase, instrument, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await httpRequest(`${gatewayBase}/api/instruments`, { timeoutMs: 2000 });
      if (r.status === 200) {
        const body = JSON.parse(r.body);
        if (body.instruments?.some((i) => i.exchange === instrument.exchange && i.symbol === instrument.symbol))
          return true;
      }
    } catch {
      /* not yet */
    }
    await sleep(500);
  }
  return false;
}

let supervisor = null;
let statusServer = null;
let shuttingDown = false;

async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  let infra = [];
  try {
    infra = fs
      .readFileSync(startedFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((f) => path.basename(f, '.pid'));
  } catch {
    /* no started file: setup started nothing we own */
  }
  const names = supervisor ? supervisor.entries.filter((e) => e.pid !== null).map((e) => e.service.name) : [];
  const what = [...names, ...infra.map((n) => `${n} (started by setup)`)];
  say(what.length ? `stopping ${what.join(', ')}` : 'stopping (nothing was started by this run)');
  if (supervisor) await supervisor.stopAll();
  statusServer?.close();
  if (startedFile) {
    try {
      await stopStarted(startedFile, say);
      fs.rmSync(startedFile, { force: true });
    } catch (err) {
      say(`could not stop infrastructure: ${err.message}`);
      code ||= 1;
    }
  }
  say('stopped');
  process.exit(code);
}

async function main() {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      if (shuttingDown) say(`${sig} received, still stopping...`);
      else void shutdown(0);
    });
  }
  let exchanges;
  try {
    exchanges = parseExchangeArgs(process.argv.slice(2), await knownExchanges());
  } catch (err) {
    if (!(err instanceof PlanError)) throw err;
    if (err.message === 'help') {
      console.log(USAGE);
      await shutdown(0);
    }
    console.error(`platform: ${err.message}\n${USAGE}`);
    await shutdown(2);
    return;
  }
  const baseEnv = runnerEnv();
  const cfg = envConfig(baseEnv);
  const planned = planServices(loadServices(baseEnv), exchanges, {
    collectorPort: Number(baseEnv.ORDERFLOW_COLLECTOR_PORT),
  });
  const services = [];
  for (const s of planned) {
    const missing = missingScript(s);
    if (missing) say(`skipping ${s.name}: ${missing} does not exist (not built yet)`);
    else services.push(s);
  }
  say(
    exchanges.length
      ? `exchanges: ${exchanges.map((e) => `${e.exchange} ${e.symbols.join(',')}`).join('; ')}`
      : 'feed: the built-in market simulator (name exchanges with --exchange ID --symbols A,B)',
  );

  supervisor = new Supervisor(services, {
    root: ROOT,
    baseEnv,
    policy: policyFromEnv(baseEnv),
    log: say,
    out: process.stdout,
    err: process.stderr,
  });
  const statusPort = Number(baseEnv.ORDERFLOW_STATUS_PORT);
  try {
    statusServer = await serveStatus(supervisor, statusPort);
  } catch (err) {
    say(`cannot serve the status page on 127.0.0.1:${statusPort} (${err.message}); set ORDERFLOW_STATUS_PORT`);
    await shutdown(1);
    return;
  }
  try {
    await supervisor.start();
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    say(`${err.message}\nplatform: stopping everything`);
    await shutdown(1);
    return;
  }
  if (shuttingDown) return;

  const started = services.map((s) => s.name);
  const [nats, ch] = await Promise.all([
    (async () => {
      for (const x of cfg.natsServers) if (await natsInfo(x.host, x.port)) return true;
      return false;
    })(),
    clickHousePing(cfg.clickhouseUrl),
  ]);
  const infra = `NATS ${cfg.natsUrl} (${nats ? 'up' : 'DOWN'}), ClickHouse ${cfg.clickhouseUrl} (${ch ? 'up' : 'DOWN'})`;
  const gatewayBase = `http://${cfg.dashboardHost}:${cfg.dashboardPort}`;
  const dashboardBuilt = fs.existsSync(path.join(ROOT, 'apps/dashboard/dist/index.html'));
  if (started.includes('gateway') && dashboardBuilt) {
    const instrument = firstInstrument(services);
    if (instrument && !(await waitListed(gatewayBase, instrument, 30_000)))
      say(
        `${instrument.exchange} ${instrument.symbol} has no trades yet; the dashboard shows it once its first trade arrives`,
      );
    console.log(
      `Order-flow platform ready: dashboard at ${dashboardUrl(cfg.dashboardHost, cfg.dashboardPort, instrument)}`,
    );
  } else {
    console.log(
      `Order-flow platform ready: the dashboard is not built yet${started.includes('gateway') ? ` (the gateway's API is at ${gatewayBase}/api/docs)` : ''}; running: ${infra}; services: ${started.length ? started.join(', ') : 'none'}`,
    );
  }
  say(`services' state and restarts: http://127.0.0.1:${statusPort}/status`);
  say('press Ctrl-C to stop');
  setInterval(() => {}, 1 << 30); // keep running until a signal arrives
}

main().catch(async (err) => {
  say(`error: ${err.message}`);
  await shutdown(1);
});
