#!/usr/bin/env node
// Runs the platform's services listed in scripts/services.json (started by scripts/start.sh
// after setup and build). Each entry:
//   { "name": "gateway", "cmd": ["node", "apps/gateway/dist/main.js"],
//     "env": { "PORT": "3000" }, "readyUrl": "http://127.0.0.1:3000/health/ready",
//     "cwd": ".", "readyTimeoutMs": 60000 }          (env, readyUrl, cwd, readyTimeoutMs optional)
// ORDERFLOW_SERVICES_FILE overrides the list's path (relative to the repo root).
// Services start in list order; each one's readyUrl must answer 2xx before the next starts.
// Output lines are prefixed with the service name. Ctrl-C / SIGTERM stops the services and the
// NATS / ClickHouse servers that setup started in this run (pid files listed in
// $ORDERFLOW_STARTED_FILE), nothing else. A service exiting unexpectedly stops everything (exit 1).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  envConfig,
  platformEnv,
  httpRequest,
  natsInfo,
  clickHousePing,
  stopStarted,
} from './lib/services.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVICES_FILE = path.resolve(
  ROOT,
  process.env.ORDERFLOW_SERVICES_FILE || 'scripts/services.json',
);
const cfg = envConfig();
const baseEnv = platformEnv();
const startedFile = process.env.ORDERFLOW_STARTED_FILE;

const say = (msg) => console.log(`platform: ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @type {{name: string, child: import('node:child_process').ChildProcess, exited: boolean}[]} */
const running = [];
let shuttingDown = false;

/** "${NAME}" in a services.json value is the platform's variable NAME (e.g. "${DASHBOARD_PORT}"). */
function expand(value) {
  return value.replace(/\$\{(\w+)\}/g, (_, n) => baseEnv[n] ?? '');
}

function loadServices() {
  const list = JSON.parse(fs.readFileSync(SERVICES_FILE, 'utf8'));
  if (!Array.isArray(list))
    throw new Error(`${SERVICES_FILE} must contain a JSON array`);
  const names = new Set();
  for (const s of list) {
    if (s && typeof s.readyUrl === 'string') s.readyUrl = expand(s.readyUrl);
    if (!s || typeof s.name !== 'string' || !s.name)
      throw new Error(`${SERVICES_FILE}: every entry needs a "name"`);
    if (
      !Array.isArray(s.cmd) ||
      s.cmd.length === 0 ||
      !s.cmd.every((a) => typeof a === 'string')
    )
      throw new Error(
        `${SERVICES_FILE}: "${s.name}" needs "cmd" as a non-empty array of strings`,
      );
    if (names.has(s.name))
      throw new Error(`${SERVICES_FILE}: duplicate service name "${s.name}"`);
    names.add(s.name);
  }
  return list;
}

/** A `node <script>` service whose script has not been built does not exist (yet). */
function missingScript(service) {
  const cwd = path.resolve(ROOT, service.cwd ?? '.');
  if (path.basename(service.cmd[0]) !== 'node') return null;
  const script = service.cmd.slice(1).find((a) => !a.startsWith('-'));
  if (!script) return null;
  return fs.existsSync(path.resolve(cwd, script)) ? null : script;
}

function pipeWithPrefix(stream, prefix, out) {
  const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
  rl.on('line', (line) => out.write(`${prefix}${line}\n`));
}

function startService(service, width) {
  const prefix = `[${service.name.padEnd(width)}] `;
  const env = { ...baseEnv };
  for (const [k, v] of Object.entries(service.env ?? {})) env[k] = expand(String(v));
  const child = spawn(service.cmd[0], service.cmd.slice(1), {
    cwd: path.resolve(ROOT, service.cwd ?? '.'),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: Ctrl-C reaches only us, we stop the services in order
  });
  const entry = { name: service.name, child, exited: false };
  running.push(entry);
  pipeWithPrefix(child.stdout, prefix, process.stdout);
  pipeWithPrefix(child.stderr, prefix, process.stderr);
  child.on('error', (err) => {
    entry.exited = true;
    if (!shuttingDown) {
      say(`service ${service.name} failed to start: ${err.message}`);
      void shutdown(1);
    }
  });
  child.on('exit', (code, signal) => {
    entry.exited = true;
    if (!shuttingDown) {
      say(
        `service ${service.name} exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}), stopping everything`,
      );
      void shutdown(1);
    }
  });
  return entry;
}

async function waitForReady(service, entry) {
  const timeoutMs = Number(service.readyTimeoutMs ?? 60000);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (entry.exited || shuttingDown) return false;
    try {
      const res = await httpRequest(service.readyUrl, { timeoutMs: 2000 });
      if (res.status >= 200 && res.status < 300) return true;
    } catch {
      /* not yet */
    }
    await sleep(250);
  }
  say(
    `service ${service.name} not ready at ${service.readyUrl} after ${Math.round(timeoutMs / 1000)} s, stopping everything`,
  );
  return false;
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

async function stopService(entry, graceMs = 10000) {
  if (entry.exited) return;
  const exited = new Promise((resolve) => entry.child.once('exit', resolve));
  killGroup(entry.child, 'SIGTERM');
  const timer = new Promise((resolve) =>
    setTimeout(() => resolve('timeout'), graceMs),
  );
  if ((await Promise.race([exited, timer])) === 'timeout') {
    say(
      `service ${entry.name} did not stop within ${graceMs / 1000} s, killing it`,
    );
    killGroup(entry.child, 'SIGKILL');
    await exited;
  }
}

async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  const names = running.filter((e) => !e.exited).map((e) => e.name);
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
  const what = [...names, ...infra.map((n) => `${n} (started by setup)`)];
  say(
    what.length
      ? `stopping ${what.join(', ')}`
      : 'stopping (nothing was started by this run)',
  );
  // reverse start order: dependants first
  for (const entry of [...running].reverse()) await stopService(entry);
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

  const services = loadServices();
  const width = Math.max(0, ...services.map((s) => s.name.length));
  const started = [];
  for (const service of services) {
    if (shuttingDown) return;
    const missing = missingScript(service);
    if (missing) {
      say(
        `skipping ${service.name}: ${missing} does not exist (not built yet)`,
      );
      continue;
    }
    say(`starting ${service.name}: ${service.cmd.join(' ')}`);
    const entry = startService(service, width);
    if (service.readyUrl) {
      if (!(await waitForReady(service, entry))) {
        await shutdown(1);
        return;
      }
      say(`${service.name} is ready (${service.readyUrl})`);
    }
    started.push(service.name);
  }
  if (shuttingDown) return;

  const [nats, ch] = await Promise.all([
    (async () => {
      for (const x of cfg.natsServers) {
        const info = await natsInfo(x.host, x.port);
        if (info) return info;
      }
      return null;
    })(),
    clickHousePing(cfg.clickhouseUrl),
  ]);
  const infra = `NATS ${cfg.natsUrl} (${nats ? 'up' : 'DOWN'}), ClickHouse ${cfg.clickhouseUrl} (${ch ? 'up' : 'DOWN'})`;
  const dashboardBuilt = fs.existsSync(path.join(ROOT, 'apps/dashboard/dist/index.html'));
  if (started.includes('gateway') && dashboardBuilt) {
    console.log(
      `Order-flow platform ready: dashboard at http://${cfg.dashboardHost}:${cfg.dashboardPort}/`,
    );
  } else {
    console.log(
      `Order-flow platform ready: the dashboard is not built yet${started.includes('gateway') ? ` (the gateway's API is at http://${cfg.dashboardHost}:${cfg.dashboardPort}/api/docs)` : ''}; running: ${infra}; services: ${started.length ? started.join(', ') : 'none'}`,
    );
  }
  say('press Ctrl-C to stop');
  setInterval(() => {}, 1 << 30); // keep running until a signal arrives
}

main().catch(async (err) => {
  say(`error: ${err.message}`);
  await shutdown(1);
});
