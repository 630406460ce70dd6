// Runs a list of services as child processes and keeps them up: the process supervisor behind
// `npm start` (scripts/platform.mjs).
//
// - Start: in list order; a service with a readyUrl must answer 2xx there before the next starts.
//   A service that exits before it was ever ready is a start-up failure (a configuration error or
//   an unreachable dependency, which a restart would not fix): start() rejects with
//   StartupError.
// - Restart: a service that exits unexpectedly afterwards is started again after a backoff
//   (restartDelayMs, doubled for each earlier exit within windowMs, at most maxRestartDelayMs).
//   The data path makes that safe: trades wait in JetStream while an aggregator is down, a
//   collector resumes from the last trade it stored, the gateway's clients re-snapshot.
// - Crash loop: `limit` exits within windowMs marks the service failed. The others keep running
//   (trades keep accumulating in JetStream for the aggregator; history stays served without a
//   collector), the failure is logged and shown on status(), and the service is tried again every
//   failedRetryMs.
// - Stop: stopAll() stops the services in reverse start order (SIGTERM to each one's process group,
//   SIGKILL after graceMs) and no service is restarted from then on.

import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { httpRequest } from './services.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const DEFAULT_POLICY = {
  restartDelayMs: 1000,
  maxRestartDelayMs: 30_000,
  limit: 5,
  windowMs: 60_000,
  failedRetryMs: 300_000,
  readyTimeoutMs: 60_000,
  graceMs: 10_000,
};

/** The restart policy from the environment (ORDERFLOW_RESTART_*), over DEFAULT_POLICY. */
export function policyFromEnv(env) {
  const num = (name, fallback, min) => {
    const v = env[name];
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${v}"`);
    return n;
  };
  return {
    ...DEFAULT_POLICY,
    restartDelayMs: num('ORDERFLOW_RESTART_DELAY_MS', DEFAULT_POLICY.restartDelayMs, 0),
    maxRestartDelayMs: num('ORDERFLOW_RESTART_MAX_DELAY_MS', DEFAULT_POLICY.maxRestartDelayMs, 0),
    limit: num('ORDERFLOW_RESTART_LIMIT', DEFAULT_POLICY.limit, 1),
    windowMs: num('ORDERFLOW_RESTART_WINDOW_SECONDS', DEFAULT_POLICY.windowMs / 1000, 1) * 1000,
    failedRetryMs: num('ORDERFLOW_RESTART_FAILED_RETRY_SECONDS', DEFAULT_POLICY.failedRetryMs / 1000, 1) * 1000,
  };
}

/**
 * What follows an exit at `now`, given the service's earlier exit times: the delay before the next
 * start (restartDelayMs doubled per earlier exit within windowMs, capped), or a crash loop when this
 * exit is the `limit`-th within windowMs. Pure: the whole policy in one place.
 */
export function nextRestart(exitTimes, now, policy) {
  const recent = exitTimes.filter((t) => now - t < policy.windowMs).length;
  if (recent + 1 >= policy.limit) return { failed: true, delayMs: policy.failedRetryMs, exits: recent + 1 };
  const delayMs = Math.min(policy.maxRestartDelayMs, policy.restartDelayMs * 2 ** recent);
  return { failed: false, delayMs, exits: recent + 1 };
}

export class StartupError extends Error {}

export class Supervisor {
  /**
   * services: [{ name, cmd, env?, cwd?, readyUrl?, readyTimeoutMs? }] (env values already expanded);
   * o: { root, baseEnv, policy, log(msg), out, err } (out/err: streams for the services' output).
   */
  constructor(services, o) {
    this.o = o;
    this.policy = o.policy ?? DEFAULT_POLICY;
    this.width = Math.max(0, ...services.map((s) => s.name.length));
    this.entries = services.map((s) => ({
      service: s,
      state: 'pending',
      child: null,
      pid: null,
      starts: 0,
      restarts: 0,
      exits: [],
      lastExit: null,
      upSinceMs: null,
      readySinceMs: null,
      nextStartAt: null,
      timer: null,
      everReady: false,
    }));
    this.stopping = false;
    this.startedAtMs = Date.now();
  }

  /** Starts every service in order; rejects with StartupError when one fails to start. */
  async start() {
    for (const e of this.entries) {
      if (this.stopping) return;
      this.o.log(`starting ${e.service.name}: ${e.service.cmd.join(' ')}`);
      this.spawn(e);
      if (!e.service.readyUrl) {
        e.everReady = true;
        continue;
      }
      const ok = await this.waitReady(e, e.child);
      if (this.stopping) return;
      if (!ok) {
        const why =
          e.state === 'exited'
            ? `exited before it was ready (${describeExit(e.lastExit)})`
            : `not ready at ${e.service.readyUrl} after ${Math.round(this.readyTimeout(e) / 1000)} s`;
        throw new StartupError(
          `service ${e.service.name} ${why}; its last lines:\n${(e.tail ?? []).map((l) => `    ${l}`).join('\n')}`,
        );
      }
      this.o.log(`${e.service.name} is ready (${e.service.readyUrl})`);
    }
  }

  readyTimeout(e) {
    return Number(e.service.readyTimeoutMs ?? this.policy.readyTimeoutMs);
  }

  spawn(e) {
    const s = e.service;
    const prefix = `[${s.name.padEnd(this.width)}] `;
    const child = spawn(s.cmd[0], s.cmd.slice(1), {
      cwd: path.resolve(this.o.root, s.cwd ?? '.'),
      env: { ...this.o.baseEnv, ...(s.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group: Ctrl-C reaches only the supervisor, which stops the services in order
    });
    e.child = child;
    e.pid = child.pid ?? null;
    e.starts++;
    e.state = s.readyUrl ? 'starting' : 'running';
    e.upSinceMs = Date.now();
    e.readySinceMs = null;
    e.nextStartAt = null;
    e.tail = [];
    const keep = (line) => {
      e.tail.push(line);
      if (e.tail.length > 20) e.tail.shift();
    };
    const pipe = (stream, out) => {
      readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        keep(line);
        out.write(`${prefix}${line}\n`);
      });
    };
    pipe(child.stdout, this.o.out);
    pipe(child.stderr, this.o.err);
    child.on('error', (err) => this.onExit(e, child, { code: null, signal: null, error: err.message }));
    child.on('exit', (code, signal) => this.onExit(e, child, { code, signal }));
  }

  onExit(e, child, how) {
    if (e.child !== child || child.exitHandled) return;
    child.exitHandled = true;
    const now = Date.now();
    e.lastExit = { ...how, atMs: now };
    e.pid = null;
    if (this.stopping) {
      e.state = 'stopped';
      return;
    }
    if (!e.everReady) {
      // start() reports it (StartupError); nothing restarts a service that never started
      e.state = 'exited';
      return;
    }
    const next = nextRestart(e.exits, now, this.policy);
    e.exits = [...e.exits.filter((t) => now - t < this.policy.windowMs), now];
    e.nextStartAt = now + next.delayMs;
    if (next.failed) {
      e.state = 'failed';
      this.o.log(
        `service ${e.service.name} cannot stay up: ${next.exits} exits within ${this.policy.windowMs / 1000} s (last: ${describeExit(e.lastExit)}). ` +
          `The other services keep running; ${e.service.name} is tried again in ${Math.round(next.delayMs / 1000)} s. Its last lines:\n${(e.tail ?? []).map((l) => `    ${l}`).join('\n')}`,
      );
    } else {
      e.state = 'backoff';
      this.o.log(
        `service ${e.service.name} exited unexpectedly (${describeExit(e.lastExit)}); restarting it in ${next.delayMs} ms (restart ${e.restarts + 1})`,
      );
    }
    e.timer = setTimeout(() => void this.restart(e), next.delayMs);
  }

  async restart(e) {
    e.timer = null;
    if (this.stopping) return;
    e.restarts++;
    const started = Date.now();
    this.spawn(e);
    if (!e.service.readyUrl) return;
    const child = e.child;
    if (await this.waitReady(e, child)) {
      this.o.log(`${e.service.name} is ready again after ${Date.now() - started} ms (restart ${e.restarts})`);
    } else if (!this.stopping && e.child === child && e.pid !== null) {
      // up but not ready: left running (it reports why on its own /health/ready); status says so
      this.o.log(
        `service ${e.service.name} restarted but not ready at ${e.service.readyUrl} after ${Math.round(this.readyTimeout(e) / 1000)} s`,
      );
    }
  }

  async waitReady(e, child) {
    const deadline = Date.now() + this.readyTimeout(e);
    while (Date.now() < deadline) {
      if (this.stopping || e.child !== child || e.pid === null) return false;
      try {
        const res = await httpRequest(e.service.readyUrl, { timeoutMs: 2000 });
        if (res.status >= 200 && res.status < 300 && e.child === child && e.pid !== null) {
          e.state = 'ready';
          e.readySinceMs = Date.now();
          e.everReady = true;
          return true;
        }
      } catch {
        /* not yet */
      }
      await sleep(200);
    }
    return false;
  }

  /** Every service's state, pid, start and restart counts and last exit (the supervisor's /status). */
  status() {
    const now = Date.now();
    return {
      startedAtMs: this.startedAtMs,
      uptimeSeconds: Math.round((now - this.startedAtMs) / 1000),
      stopping: this.stopping,
      policy: this.policy,
      services: this.entries.map((e) => ({
        name: e.service.name,
        state: e.state,
        pid: e.pid,
        readyUrl: e.service.readyUrl ?? null,
        restarts: e.restarts,
        exitsInWindow: e.exits.filter((t) => now - t < this.policy.windowMs).length,
        upSeconds: e.pid !== null && e.upSinceMs !== null ? Math.round((now - e.upSinceMs) / 1000) : null,
        lastExit: e.lastExit
          ? {
              code: e.lastExit.code,
              signal: e.lastExit.signal,
              ...(e.lastExit.error ? { error: e.lastExit.error } : {}),
              at: new Date(e.lastExit.atMs).toISOString(),
            }
          : null,
        nextStartAt:
          e.nextStartAt && (e.state === 'backoff' || e.state === 'failed')
            ? new Date(e.nextStartAt).toISOString()
            : null,
      })),
    };
  }

  /** Stops every service (reverse start order); none is restarted afterwards. */
  async stopAll() {
    this.stopping = true;
    for (const e of this.entries) if (e.timer) clearTimeout(e.timer);
    for (const e of [...this.entries].reverse()) await this.stopOne(e);
  }

  async stopOne(e) {
    const child = e.child;
    if (!child || e.pid === null) {
      if (e.state !== 'pending') e.state = 'stopped';
      return;
    }
    e.state = 'stopping';
    const exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', resolve);
    });
    killGroup(child, 'SIGTERM');
    const timeout = Symbol('timeout');
    if ((await Promise.race([exited, sleep(this.policy.graceMs).then(() => timeout)])) === timeout) {
      this.o.log(`service ${e.service.name} did not stop within ${this.policy.graceMs / 1000} s, killing it`);
      killGroup(child, 'SIGKILL');
      await exited;
    }
    e.state = 'stopped';
    e.pid = null;
  }
}

export function describeExit(x) {
  if (!x) return 'no exit';
  if (x.error) return `could not start: ${x.error}`;
  return x.signal ? `signal ${x.signal}` : `exit code ${x.code}`;
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
