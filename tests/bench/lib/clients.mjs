// Socket.IO clients of the gateway, spread over a few forked processes (client workers), so that
// decoding their updates is not serialised on one event loop.
//
// In the bench (the parent):
//   const batch = forkClientWorkers(fileURLToPath(import.meta.url), add, 4, (n, w) => ({ X_N: String(n), ... }));
//   const failed = await workersReady(batch, 180);   // null, or why a worker did not get ready
//   ... await stopWorkers(batch);
// In a worker (the same script, started with --clients-worker):
//   const sockets = await connectWorkerClients({ url, views, n, offset, onUpdate });
//   process.send('ready');
import { fork } from 'node:child_process';
import { children, sleep } from './services.mjs';

/**
 * In a client worker: connects `n` clients to the gateway at `url`, 25 at a time, client i
 * subscribed to views[(offset + i) % views.length], retried every 500 ms while the gateway does not
 * know its symbol yet (an instrument is known once its shard has written a trade of it); every
 * update goes to `onUpdate`. When a client fails, the worker reports { error } to the bench and
 * exits 1.
 * @returns {Promise<import('socket.io-client').Socket[]>}
 */
export async function connectWorkerClients({ url, views, n, offset, onUpdate }) {
  const { io } = await import('socket.io-client');
  const sockets = [];
  const subscribe = async (s, view) => {
    for (let attempt = 0; ; attempt++) {
      const a = await s.timeout(60_000).emitWithAck('subscribe', view);
      if (a.ok) return;
      if (attempt >= 120 || a.error?.code !== 'unknown-symbol')
        throw new Error(`subscribe ${JSON.stringify(view)}: ${JSON.stringify(a.error)}`);
      await sleep(500);
    }
  };
  try {
    for (let i = 0; i < n; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, n - i) }, (_, k) => {
          const s = io(url, {
            path: '/socket.io',
            transports: ['websocket'],
            reconnection: false,
            forceNew: true,
            timeout: 60_000,
          });
          sockets.push(s);
          s.on('update', onUpdate);
          return new Promise((resolve, reject) => {
            s.once('connect_error', reject);
            s.once('connect', () => subscribe(s, views[(offset + i + k) % views.length]).then(resolve, reject));
          });
        }),
      );
    }
  } catch (e) {
    process.send({ error: String(e?.stack ?? e) }, () => process.exit(1));
    await new Promise(() => undefined);
  }
  return sockets;
}

/**
 * Forks client workers (`script --clients-worker`) for `add` more clients: one per 250 clients, at
 * least 1 and at most `maxProcs`, the clients shared evenly; worker w of them gets
 * `envOf(its client count, w)` over the bench's environment.
 */
export function forkClientWorkers(script, add, maxProcs, envOf) {
  const nProcs = Math.max(1, Math.min(maxProcs, Math.ceil(add / 250)));
  return Array.from({ length: nProcs }, (_, w) => {
    const n = Math.floor(add / nProcs) + (w < add % nProcs ? 1 : 0);
    const child = fork(script, ['--clients-worker'], {
      env: { ...process.env, ...envOf(n, w) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(child);
    return child;
  });
}

/** Waits until every worker of `batch` reports 'ready': null, or the first worker's reason it did not within `seconds`. */
export async function workersReady(batch, seconds) {
  const ready = await Promise.all(
    batch.map(
      (w) =>
        new Promise((resolve) => {
          const timer = setTimeout(() => resolve(`not connected and subscribed after ${seconds} s`), seconds * 1000);
          w.once('message', (m) => {
            clearTimeout(timer);
            resolve(m === 'ready' ? null : (m.error ?? JSON.stringify(m)));
          });
          w.once('exit', (code) => {
            clearTimeout(timer);
            resolve(`client worker exited ${code}`);
          });
        }),
    ),
  );
  return ready.find((r) => r !== null) ?? null;
}

/** Asks the workers to close their clients and exit (SIGKILL after 5 s); resolves once all have exited. */
export function stopWorkers(list) {
  return Promise.all(
    list.map(
      (w) =>
        new Promise((resolve) => {
          if (w.exitCode !== null) return resolve();
          w.once('exit', resolve);
          if (w.connected) w.send('exit');
          setTimeout(() => w.exitCode === null && w.kill('SIGKILL'), 5000).unref();
        }),
    ),
  );
}
