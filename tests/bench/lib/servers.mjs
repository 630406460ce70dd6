// The servers a bench runs on: nats-server (JetStream) and ClickHouse of its own, on spare ports,
// started by the platform's own scripts/lib/services.mjs; and ClickHouse queries over HTTP.
//
//   import { startNatsInTempDir, startClickHouse, freePorts, chQuery } from './lib/servers.mjs';
//   const nats = await startNatsInTempDir('orderflow-load-nats-');   // nats.url, nats.pid, nats.stop()
//   const ch = await startClickHouse({ analyst: false });            // ch.url, ch.pid, ch.stop()
//   const [simPort, colPort] = await freePorts(2);
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// by URL: scripts/ is no package of the workspace (nx's module boundaries allow no relative import of it)
const { getFreePort, startClickHouse, startNats } = await import(
  new URL('../../../scripts/lib/services.mjs', import.meta.url).href
);

export { getFreePort, startClickHouse, startNats };

/**
 * nats-server with its JetStream store in a fresh temp dir whose name starts with `prefix`; its
 * stop() stops the server, then removes the dir (as does a failed start).
 */
export async function startNatsInTempDir(prefix) {
  const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  let nats;
  try {
    nats = await startNats({ storeDir });
  } catch (e) {
    fs.rmSync(storeDir, { recursive: true, force: true });
    throw e;
  }
  return {
    ...nats,
    async stop() {
      await nats.stop();
      fs.rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** `n` spare TCP ports on 127.0.0.1, asked for at once. */
export const freePorts = (n) => Promise.all(Array.from({ length: n }, () => getFreePort()));

/** A query over ClickHouse's HTTP interface; its answer trimmed, or an error with the query and the server's text. */
export async function chQuery(url, q, timeoutMs = 10_000) {
  const r = await fetch(url, { method: 'POST', body: q, signal: AbortSignal.timeout(timeoutMs) });
  const t = await r.text();
  if (r.status !== 200) throw new Error(`${q}: ${t}`);
  return t.trim();
}
