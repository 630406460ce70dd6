/**
 * Test support: a real nats-server -js per test file, started by scripts/lib/services.mjs (plain
 * JS, loaded by URL so that TypeScript does not look for its types), and helpers to read streams back.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsLogger } from '../logger.js';

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/** Passwords of the platform's NATS users (scripts/lib/nats-accounts.mjs); `admin` has every right. */
export interface NatsAccountPasswords {
  collector: string;
  aggregator: string;
  gateway: string;
  admin?: string;
}

interface ServicesModule {
  startNats(o?: { port?: number; storeDir?: string; accounts?: NatsAccountPasswords }): Promise<NatsServer>;
}

const SERVICES_URL = new URL('../../../../scripts/lib/services.mjs', import.meta.url).href;

/**
 * Starts nats-server with JetStream on a free port (or `port`) in a temp dir (or `storeDir`); with
 * `accounts`, only the platform's users may connect, each within its permissions.
 */
export async function startNats(
  o: { port?: number; storeDir?: string; accounts?: NatsAccountPasswords } = {},
): Promise<NatsServer> {
  const services = (await import(SERVICES_URL)) as ServicesModule;
  return services.startNats(o);
}

export interface StoredMessage {
  seq: number;
  subject: string;
  msgId: string | undefined;
  text: string;
}

/** Every message of a stream, in stream order, read with an ordered consumer. */
export async function readStream(nc: NatsConnection, stream: string): Promise<StoredMessage[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  if (info.state.messages === 0) return [];
  const consumer = await jetstream(nc).consumers.get(stream);
  const out: StoredMessage[] = [];
  const messages = await consumer.consume();
  for await (const m of messages) {
    out.push({ seq: m.seq, subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id') || undefined, text: m.string() });
    if (m.info.pending === 0) break;
  }
  return out;
}

/** A logger that keeps its lines, for assertions. */
export function recordingLogger(): NatsLogger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  return {
    lines,
    info: (message) => void lines.push({ level: 'info', message }),
    warn: (message) => void lines.push({ level: 'warn', message }),
    error: (message) => void lines.push({ level: 'error', message }),
  };
}
