// Server versions for report machine lines: ClickHouse's `SELECT version()` and nats-server's
// version, asked of the running servers when their URLs are known.
//
//   import { clickHouseVersion, natsServerVersion } from './lib/versions.mjs';
//   await clickHouseVersion('http://127.0.0.1:8123')   // '18.16.1'
//   natsServerVersion(nc)                               // 'v2.9.10' (the connected server's INFO)
//
// CLI (for reports written after their servers stopped, e.g. tests/src/proof/report.ts): starts a
// throwaway ClickHouse from the same binary (./servers.mjs, that is scripts/lib/services.mjs), asks it,
// stops it, and prints one line: `nats-server v2.9.10, ClickHouse 18.16.1`.
//   node tests/bench/lib/versions.mjs
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `SELECT version()` over ClickHouse's HTTP interface; null when it does not answer. */
export async function clickHouseVersion(url) {
  try {
    const r = await fetch(url, { method: 'POST', body: 'SELECT version()', signal: AbortSignal.timeout(5000) });
    const text = (await r.text()).trim();
    return r.ok && /^[\w.-]+$/.test(text) ? text : null;
  } catch {
    return null;
  }
}

/** The version in the connected server's INFO (a @nats-io NatsConnection), else `nats-server --version`. */
export function natsServerVersion(nc) {
  const v = nc?.info?.version;
  if (v) return v.startsWith('v') ? v : `v${v}`;
  try {
    return /v?\d+\.\d+\.\d+\S*/.exec(execFileSync('nats-server', ['--version'], { encoding: 'utf8' }))?.[0] ?? null;
  } catch {
    return null;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { startClickHouse } = await import('./servers.mjs');
  let ch = null;
  let chVersion = null;
  try {
    ch = await startClickHouse({ analyst: false });
    chVersion = await clickHouseVersion(ch.url);
  } catch {
    /* no ClickHouse here */
  } finally {
    await ch?.stop().catch(() => undefined);
  }
  process.stdout.write(`nats-server ${natsServerVersion(null) ?? 'unknown'}, ClickHouse ${chVersion ?? 'unknown'}\n`);
}
