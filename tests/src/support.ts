/**
 * Shared pieces of the system tests: real servers, reading JetStream back, the recordings.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CollectorConfig, CollectorRuntime, loadCollectorConfig } from '@orderflow/collector';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type DeadLetter, type GapEvent, TRADES_STREAM, EVENTS_STREAM, decodeTradeBatch } from '@orderflow/contracts';
import type { Trade } from '@orderflow/footprint';

export const SHARED_DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
export const haveSharedData = existsSync(SHARED_DATA);
/** Why a test that replays the recordings is skipped on a machine without them. */
export const SHARED_DATA_MISSING = `${SHARED_DATA} is missing (the recordings exist only on the project's machines)`;

/**
 * Options of a describe or test that needs what a machine may lack: skipped where something is
 * missing, with the reason as meta.skipReason (vitest.shared.ts prints each reason once per run; under
 * CI a skipped test fails the run).
 */
export function requires(...needs: [present: boolean, missing: string][]): {
  skip: boolean;
  meta: { skipReason: string };
} {
  const missing = needs.filter(([present]) => !present).map(([, what]) => what);
  return { skip: missing.length > 0, meta: { skipReason: missing.join('; ') } };
}

/** Options of a describe or test that replays the recordings. */
export const needsSharedData = requires([haveSharedData, SHARED_DATA_MISSING]);

interface ServicesModule {
  startNats(o?: {
    port?: number;
    storeDir?: string;
  }): Promise<{ url: string; port: number; storeDir: string; stop(): Promise<void> }>;
}
const SERVICES_URL = new URL('../../scripts/lib/services.mjs', import.meta.url).href;

export async function startNats(o: { port?: number; storeDir?: string } = {}) {
  const services = (await import(SERVICES_URL)) as ServicesModule;
  return services.startNats(o);
}

/** A `@trade` JSONL recording: the ground truth the pipeline must reproduce. */
export interface RecordedTrade {
  id: string;
  price: string;
  quantity: string;
  side: 'buy' | 'sell';
  timeMs: number;
}

export function readTradeJsonl(file: string): RecordedTrade[] {
  return readFileSync(SHARED_DATA + file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const r = JSON.parse(line) as { t: number; p: string; q: string; T: number; m: boolean };
      return { id: String(r.t), price: r.p, quantity: r.q, side: r.m ? 'sell' : 'buy', timeMs: r.T };
    });
}

/** Every trade in the TRADES stream, in stream order, decoded from its batches. */
export async function readTrades(
  nc: NatsConnection,
): Promise<{ trades: Trade[]; scales: { priceScale: number; quantityScale: number } | null }> {
  const trades: Trade[] = [];
  let scales: { priceScale: number; quantityScale: number } | null = null;
  for (const text of await readStreamTexts(nc, TRADES_STREAM)) {
    const b = decodeTradeBatch(text);
    scales = { priceScale: b.priceScale, quantityScale: b.quantityScale };
    trades.push(...b.trades);
  }
  return { trades, scales };
}

export async function readEvents(nc: NatsConnection): Promise<{ deadLetters: DeadLetter[]; gaps: GapEvent[] }> {
  const deadLetters: DeadLetter[] = [];
  const gaps: GapEvent[] = [];
  for (const { subject, text } of await readStream(nc, EVENTS_STREAM)) {
    if (subject.startsWith('deadletter.')) deadLetters.push(JSON.parse(text) as DeadLetter);
    else gaps.push(JSON.parse(text) as GapEvent);
  }
  return { deadLetters, gaps };
}

async function readStreamTexts(nc: NatsConnection, stream: string): Promise<string[]> {
  return (await readStream(nc, stream)).map((m) => m.text);
}

async function readStream(nc: NatsConnection, stream: string): Promise<{ subject: string; text: string }[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream).catch(() => null);
  if (!info || info.state.messages === 0) return [];
  const consumer = await jetstream(nc).consumers.get(stream);
  const out: { subject: string; text: string }[] = [];
  const messages = await consumer.consume();
  for await (const m of messages) {
    out.push({ subject: m.subject, text: m.string() });
    if (m.info.pending === 0) break;
  }
  return out;
}

/** A test's own NATS connection; `url`: one server or a cluster's comma-separated URLs. */
export async function connectTo(url: string): Promise<NatsConnection> {
  return connect({ servers: url.split(','), name: 'system-test' });
}

/** Polls `check` until it is true or `timeoutMs` passes (then fails with `what`). */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** "64123.10000000" -> "64123.1": decimals compared as text, trailing zeros aside. */
export function trimZeros(decimal: string): string {
  return decimal.includes('.') ? decimal.replace(/0+$/, '').replace(/\.$/, '') : decimal;
}

/** Clean-up steps of a test, run in reverse order by `runCleanup`. */
export type Cleanup = (() => Promise<void>)[];

export async function runCleanup(cleanup: Cleanup): Promise<void> {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  cleanup.length = 0;
}

/** A nats-server with a store directory of our own (it survives a restart of the server). */
export async function startNatsWithStore(cleanup: Cleanup) {
  const storeDir = mkdtempSync(join(tmpdir(), 'orderflow-system-nats-'));
  cleanup.push(async () => rmSync(storeDir, { recursive: true, force: true }));
  const nats = await startNats({ storeDir });
  cleanup.push(() => nats.stop());
  return nats;
}

/**
 * The real collector runtime (the code main.ts runs) on `env`, its NATS connection for reading
 * the streams back, and everything registered for clean-up. Logs go to the console with
 * SYSTEM_TEST_LOGS=1, else into `lines`.
 */
export async function startCollector(
  cleanup: Cleanup,
  natsUrl: string,
  env: Record<string, string>,
  tweak?: (c: CollectorConfig) => void,
) {
  const config = loadCollectorConfig({ COLLECTOR_BACKFILL_MINUTES: '0', ...env, NATS_URL: natsUrl });
  tweak?.(config);
  const lines: string[] = [];
  const keep = (m: string) => void lines.push(m);
  const logger = process.env['SYSTEM_TEST_LOGS']
    ? { log: console.log, warn: console.warn, error: console.error }
    : { log: keep, warn: keep, error: keep };
  const runtime = new CollectorRuntime(config, logger);
  cleanup.push(() => runtime.stop(10_000));
  await runtime.start();
  const nc = await connectTo(natsUrl);
  cleanup.push(() => nc.close());
  return { runtime, nc, lines };
}

/** Waits until the collector's publisher has every trade acknowledged. */
export function allAcknowledged(runtime: CollectorRuntime, count: number): Promise<void> {
  return waitFor(
    'every trade acknowledged',
    () => runtime.publisher!.stats().tradesAcked >= count && runtime.publisher!.stats().buffered === 0,
  );
}
