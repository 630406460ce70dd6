// A nats-server with JetStream of its own for the set-up and the tests, optionally with the
// platform's users and permissions (scripts/lib/nats-accounts.mjs).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LOOPBACK, getFreePort, isListening, natsInfo } from './net-probes.mjs';
import { findBinary, spawnServer, terminate, waitReady } from './server-process.mjs';

/**
 * Starts nats-server with JetStream (store in `storeDir`) and waits until it answers INFO
 * with JetStream enabled. `accounts`: the platform's users and permissions
 * (scripts/lib/nats-accounts.mjs) with these passwords ({ collector, aggregator, gateway, admin? }),
 * written to `<storeDir>/nats.conf` (mode 0600); without it anyone may connect and do anything.
 * @returns {Promise<{url: string, port: number, storeDir: string, pid: number, logFile: string,
 *   passwords?: object, stop: () => Promise<void>}>}
 */
export async function startNats({
  port,
  storeDir,
  host = LOOPBACK,
  logFile,
  timeoutMs = 30000,
  detached = false,
  accounts,
} = {}) {
  port = Number(port || (await getFreePort()));
  const ownsDir = !storeDir;
  storeDir = path.resolve(storeDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-nats-')));
  fs.mkdirSync(storeDir, { recursive: true });
  logFile = path.resolve(logFile ?? path.join(storeDir, 'nats-server.log'));
  const url = `nats://${host}:${port}`;

  if (await isListening(host, port)) throw new Error(`NATS: port ${port} on ${host} is already in use`);

  const bin = findBinary('nats-server', 'NATS_SERVER_BIN');
  const args = ['-a', host, '-p', String(port), '-js', '-sd', storeDir];
  if (accounts) {
    const { natsAuthorizationConf } = await import('./nats-accounts.mjs');
    const conf = path.join(storeDir, 'nats.conf');
    fs.writeFileSync(conf, natsAuthorizationConf(accounts, { admin: accounts.admin }), { mode: 0o600 });
    fs.chmodSync(conf, 0o600);
    args.push('-c', conf);
  }
  const child = spawnServer(bin, args, {
    logFile,
    detached,
    cwd: storeDir,
  });

  await waitReady(
    child,
    async () => {
      const info = await natsInfo(host, port);
      return Boolean(info && info.jetstream);
    },
    {
      timeoutMs,
      what: `NATS (${url}, store ${storeDir})`,
      logFiles: [logFile],
    },
  );

  let stopped = null;
  return {
    url,
    port,
    storeDir,
    pid: child.pid,
    logFile,
    ...(accounts ? { passwords: accounts } : {}),
    stop() {
      stopped ??= (async () => {
        await terminate(child.pid, { graceMs: 10000 });
        if (ownsDir) fs.rmSync(storeDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
