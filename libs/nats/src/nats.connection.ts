import {
  AuthorizationError,
  connect,
  type ConnectionOptions,
  type NatsConnection,
  PermissionViolationError,
  UserAuthenticationExpiredError,
} from '@nats-io/transport-node';
import { consoleLogger, type NatsLogger } from './logger.js';
import { errorText, retryBackoff } from './retry.js';

export interface ConnectNatsOptions {
  /** One URL or several ("nats://127.0.0.1:4222"); a comma-separated string is split. */
  servers: string | string[];
  /** Client name shown by the server's monitoring (e.g. "collector-binance"). */
  name: string;
  user?: string;
  pass?: string;
  token?: string;
  /**
   * How long to keep trying when the very first connection fails (the server may start after us):
   * attempts are retried with a jittered, growing wait and logged. Default: forever.
   */
  firstConnectTimeoutMs?: number;
  /** Base wait between reconnect attempts (default 1000 ms) and the random extra (default 500 ms). */
  reconnectTimeWaitMs?: number;
  reconnectJitterMs?: number;
  /** Connection status changes (disconnect, reconnect, errors) are logged here. */
  logger?: NatsLogger;
}

/**
 * Client settings for a long-running service: reconnect forever (maxReconnectAttempts -1) with a
 * jittered wait, ping every 10 s and declare the connection stale after 3 missed pongs, so a dead
 * server is noticed within about 30 s even without TCP errors.
 */
export function natsConnectionOptions(o: ConnectNatsOptions): ConnectionOptions {
  const servers = (Array.isArray(o.servers) ? o.servers : o.servers.split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (servers.length === 0) throw new Error('connectNats: no NATS server URL given');
  if (!o.name) throw new Error('connectNats: a client name is required');
  if ((o.user === undefined) !== (o.pass === undefined)) throw new Error('connectNats: user and pass go together');
  if (o.token !== undefined && o.user !== undefined)
    throw new Error('connectNats: give either a token or user/pass, not both');
  const opts: ConnectionOptions = {
    servers,
    name: o.name,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: o.reconnectTimeWaitMs ?? 1000,
    reconnectJitter: o.reconnectJitterMs ?? 500,
    reconnectJitterTLS: Math.max(1000, o.reconnectJitterMs ?? 500),
    pingInterval: 10_000,
    maxPingOut: 3,
    timeout: 5000,
    waitOnFirstConnect: false,
  };
  if (o.user !== undefined) {
    opts.user = o.user;
    opts.pass = o.pass!;
  }
  if (o.token !== undefined) opts.token = o.token;
  return opts;
}

/** Credentials are wrong: retrying will not help. */
function isAuthError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof AuthorizationError || e instanceof UserAuthenticationExpiredError) return true;
    if (/authorization|authentication/i.test(e.message)) return true;
  }
  return false;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Connects (retrying the first connection as configured, failing at once on bad credentials) and
 * logs the connection's status changes for as long as it lives.
 */
export async function connectNats(o: ConnectNatsOptions): Promise<NatsConnection> {
  const log = o.logger ?? consoleLogger('nats');
  const opts = natsConnectionOptions(o);
  const deadline = Date.now() + (o.firstConnectTimeoutMs ?? Number.POSITIVE_INFINITY);
  // the servers as logs and errors name them: credentials in a URL (nats://user:pass@host) left out
  const where = (opts.servers as string[]).join(',').replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@,]*@/gi, '$1[redacted]@');
  const backoff = retryBackoff(250, 5000);
  let nc: NatsConnection | undefined;
  for (let attempt = 1; nc === undefined; attempt++) {
    try {
      nc = await connect(opts);
    } catch (err) {
      if (isAuthError(err)) {
        const who =
          o.user !== undefined
            ? `user "${o.user}"`
            : o.token !== undefined
              ? 'a token'
              : 'no credentials (set NATS_USER and NATS_PASSWORD)';
        throw new Error(`NATS ${where}: the server refused ${who} for client "${o.name}": ${errorText(err)}`, {
          cause: err,
        });
      }
      const wait = backoff.next();
      if (Date.now() + wait > deadline) {
        throw new Error(`NATS ${where}: could not connect in ${attempt} attempts: ${errorText(err)}`, { cause: err });
      }
      log.warn(`NATS ${where}: connection attempt ${attempt} failed (${errorText(err)}), retrying in ${wait} ms`);
      await sleep(wait);
    }
  }
  log.info(`NATS: connected to ${nc.getServer()} as "${o.name}"${o.user !== undefined ? ` (user "${o.user}")` : ''}`);
  void watchStatus(nc, log, o.user);
  return nc;
}

/** Permission violations seen by this process's connections, per operation and subject. */
const violations = new Map<string, { operation: string; subject: string; count: number }>();

/**
 * Every "Permissions Violation" the server reported to this process's connections (connectNats's
 * and those handed to watchPermissionViolations): the operation (publish, subscription), the
 * subject and how often. A service's metrics export it as nats_permission_violations_total.
 */
export function natsPermissionViolations(): { operation: string; subject: string; count: number }[] {
  return [...violations.values()].map((v) => ({ ...v }));
}

/** Counts and logs a violation (the server keeps the connection open and refuses only that operation). */
function recordViolation(e: PermissionViolationError, log: NatsLogger, user: string | undefined): void {
  const key = `${e.operation} ${e.subject}`;
  const v = violations.get(key) ?? { operation: e.operation, subject: e.subject, count: 0 };
  v.count++;
  violations.set(key, v);
  log.error(
    `NATS: permission refused: ${e.operation} to "${e.subject}"${user !== undefined ? ` for user "${user}"` : ''}: the server's permissions for this user do not allow it`,
    {
      operation: e.operation,
      subject: e.subject,
      ...(user !== undefined ? { user } : {}),
      count: v.count,
    },
  );
}

/**
 * Logs and counts the permission violations of a connection not made by connectNats (e.g. the one
 * of a NestJS NATS transport, from its status events).
 */
export function watchPermissionViolations(nc: NatsConnection, log: NatsLogger, user?: string): void {
  void (async () => {
    try {
      for await (const s of nc.status())
        if (s.type === 'error' && s.error instanceof PermissionViolationError) recordViolation(s.error, log, user);
    } catch {
      // the connection closed: nothing more to watch
    }
  })();
}

async function watchStatus(nc: NatsConnection, log: NatsLogger, user?: string): Promise<void> {
  try {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          log.warn(`NATS: disconnected from ${s.server}, reconnecting`);
          break;
        case 'reconnect':
          log.info(`NATS: reconnected to ${s.server}`);
          break;
        case 'staleConnection':
          log.warn('NATS: connection is stale (pongs missing), reconnecting');
          break;
        case 'ldm':
          log.warn(`NATS: server ${s.server} entered lame duck mode`);
          break;
        case 'error':
          if (s.error instanceof PermissionViolationError) recordViolation(s.error, log, user);
          else log.error(`NATS: ${errorText(s.error)}`);
          break;
        case 'slowConsumer':
          log.warn(`NATS: slow consumer on ${s.sub.getSubject()} (${s.pending} pending)`);
          break;
        default:
          break;
      }
    }
  } catch (err) {
    log.error(`NATS: status watcher stopped: ${errorText(err)}`);
  }
}

/**
 * Drains the connection (subscriptions finish what they hold, pending publishes are flushed) and
 * waits until it is closed. Safe to call on a connection that is already closed or draining.
 */
export async function drainNats(nc: NatsConnection): Promise<void> {
  if (nc.isClosed()) return;
  if (!nc.isDraining()) {
    try {
      await nc.drain();
    } catch (err) {
      if (!nc.isClosed()) await nc.close();
      if (!/closed|draining/i.test(errorText(err))) throw err;
    }
  }
  await nc.closed();
}
