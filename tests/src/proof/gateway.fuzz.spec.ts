/**
 * Hostile input for the gateway: ≥ 100,000 generated malformed or hostile inputs
 * (PROOF_FUZZ_RUNS, default 100,000, split below) against a real running gateway: its own NATS with
 * JetStream and ClickHouse, a real aggregator shard holding two instruments (and their merged view),
 * the gateway in-process (startGatewayApp) and real socket.io-client connections, raw WebSockets and
 * keep-alive HTTP.
 *
 * Inputs: every Socket.IO event (subscribe, unsubscribe, unknown events, multi-argument events, the
 * handshake's auth), raw Socket.IO / Engine.IO frames, every /api endpoint and each of its query
 * parameters (including format=csv), paths and methods, and the Authorization header. Values: SQL
 * fragments, huge and non-finite numbers, unicode look-alikes, NUL and lone surrogates,
 * prototype-pollution keys, deep nesting, arrays instead of objects, binary attachments, broken
 * percent-encoding, duplicated and unknown parameters.
 *
 * Each input is judged by an oracle written from the README's contract (gateway-fuzz.ts): a valid
 * input must succeed (a subscribe gets its snapshot, and is unsubscribed), any other must be
 * refused with a reason that names what was wrong: an `error` event and an `{ ok: false, error:
 * { code, reason } }` acknowledgement on Socket.IO, a 400 `{ statusCode, error, message }` over
 * HTTP, never a 5xx. Then: the gateway is alive (/health/live, no unhandled rejection or uncaught
 * exception), nothing changed (every ClickHouse table byte for byte, subscriptions, streams and
 * views back to where they were, Object.prototype untouched), the refusals were counted by the
 * gateway's metrics, and every fuzzed connection still subscribes and gets a snapshot.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { ClickHouseClient } from '@clickhouse/client';
import { consumerName, loadAggregatorConfig, startAggregatorApp } from '@orderflow/aggregator';
import type { SnapshotMessage as Snapshot } from '@orderflow/contracts';
import { connectClickHouse } from '@orderflow/clickhouse';
import { type Trade, instrumentFromSteps } from '@orderflow/footprint';
import { loadGatewayConfig, startGatewayApp } from '@orderflow/gateway';
import type { NatsConnection } from '@nats-io/transport-node';
import fc from 'fast-check';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  type ClickHouseServer,
  type Recording,
  ensureTradeStreams,
  publish,
  startClickHouse,
  waitAllAcked,
} from '../aggregator-support.js';
import { type Cleanup, connectTo, runCleanup, startNatsWithStore, waitFor } from '../support.js';
import { UNLIMITED_HTTP } from '../gateway-support.js';
import {
  DATA_FROM,
  DATA_TO,
  ENDPOINTS,
  type Expectation,
  SQL,
  SUBSCRIBE_BASES,
  type HttpCase,
  type SocketInput,
  UNICODE,
  describeValue,
  encode,
  expectHttp,
  expectSubscribe,
  hostileJson,
  httpCase,
  parseQuery,
  refusalMatches,
  socketInput,
  unknownEventName,
  viewOf,
  wire,
} from './gateway-fuzz.js';

const RUNS = Number(process.env['PROOF_FUZZ_RUNS'] ?? 100_000);
const SEED = Number(process.env['PROOF_FUZZ_SEED'] ?? 9);
const share = (f: number) => Math.max(50, Math.ceil(RUNS * f));
/** The inputs of each section; they add up to RUNS (at least 50 each when RUNS is tiny). */
const N = {
  subscribe: share(0.34),
  unsubscribe: share(0.12),
  unknownEvent: share(0.1),
  multiArg: share(0.08),
  rawFrames: share(0.01),
  handshake: share(0.01),
  http: share(0.31),
  httpPaths: share(0.01),
  httpAuth: share(0.02),
};
const DB = 'gwfuzz';
const MAX_CANDLES = 2000;
const TOKEN = 'fuzz-token-0123456789abcdef';
/**
 * Requests in flight per connection (below GATEWAY_MAX_SUBSCRIPTIONS_PER_CLIENT = 20, so a valid subscribe is never
 * refused for that).
 */
const PER_SOCKET = 16;
const HTTP_CONCURRENCY = 16;
const CHUNK = 1000;
const quiet = !process.env['SYSTEM_TEST_LOGS'];

type App = Awaited<ReturnType<typeof startGatewayApp>>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/* ------------------------------------------------------------------------------------------------
 * Bookkeeping
 * ---------------------------------------------------------------------------------------------- */

/**
 * Where the input being judged came from (the seed of its fc.sample call and its place there), so
 * that a failure names what replays it: every input is fast-check's, generated from PROOF_FUZZ_SEED.
 */
const origin = new AsyncLocalStorage<string>();

/** Failures of one section: all counted, the first few described (with the input's seed, where one is being judged). */
class Failures {
  count = 0;
  readonly examples: string[] = [];
  add(failure: string): void {
    const from = origin.getStore();
    const m = failure.length > 900 ? `${failure.slice(0, 900)}...` : failure;
    this.count++;
    if (this.examples.length < 12) this.examples.push(from === undefined ? m : `${m} [replay: ${from}]`);
  }
  assertNone(what: string): void {
    expect({ what, failures: this.count, examples: this.examples }).toEqual({
      what,
      failures: 0,
      examples: [],
    });
  }
}

const inc = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

/**
 * Defects this fuzzer found whose fix lies in files this change may not touch: counted, printed and
 * left out of the failures. Remove an entry once it is fixed, and the fuzzer fails on it again.
 */
const KNOWN_DEFECTS: Record<string, string> = {
  // none now; fixed: an unknown event's long name echoed whole (ClientSession.refuse bounds it with echo()),
  // query pairs after the 1000th dropped unread (app.ts: maxKeys 0), Node's own 431/400 without the
  // JSON body (app.ts answerClientError), a kept-alive ClickHouse socket reused after the server
  // closed it (libs/clickhouse: idle_socket_ttl 1.5 s, stale sockets destroyed eagerly)
};
/** The name an error event gives back for a refused event (client.session.ts: cut at 64 characters). */
const echoedEventName = (name: string) => (name.length > 64 ? `${name.slice(0, 64)}...` : name);
const defects = new Map<string, { count: number; example: string }>();
function defect(name: string, example: string, failures: Failures): void {
  if (!(name in KNOWN_DEFECTS)) return failures.add(`${name}: ${example}`);
  const d = defects.get(name) ?? { count: 0, example };
  d.count++;
  defects.set(name, d);
}
const tally = new Map<string, number>();
const outcomes = new Map<string, number>();

/** Runs `fn` over `items`, `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** `n` inputs of `arb` in chunks (deterministic: one seed per chunk), each chunk handed to `run`. */
async function forChunks<T>(
  arb: fc.Arbitrary<T>,
  n: number,
  salt: number,
  run: (chunk: T[]) => Promise<void>,
): Promise<void> {
  for (let i = 0, c = 0; i < n; i += CHUNK, c++) {
    const seed = SEED * 1_000_003 + salt * 10_007 + c;
    const numRuns = Math.min(CHUNK, n - i);
    await origin.run(
      `one of fc.sample(<this section's inputs>, { seed: ${seed}, numRuns: ${numRuns} }), PROOF_FUZZ_SEED=${SEED}`,
      () => run(fc.sample(arb, { numRuns, seed })),
    );
  }
}

/**
 * `n` inputs of `arb` through concurrent `workers`, with no barrier between chunks (a slow valid
 * request holds up only its own worker). Inputs are generated CHUNK at a time, one seed per chunk,
 * so the inputs are the same on every run; which worker takes which one is not. With
 * PROOF_FUZZ_PROGRESS set, a line every 5,000 inputs (wall time, this process's CPU, heap).
 */
async function feed<T>(
  what: string,
  arb: fc.Arbitrary<T>,
  n: number,
  salt: number,
  workers: ((t: T) => Promise<void>)[],
): Promise<void> {
  let buf: [T, string][] = [];
  let made = 0;
  let chunk = 0;
  const t0 = Date.now();
  const c0 = process.cpuUsage();
  const next = (): [T, string] | undefined => {
    if (buf.length === 0 && made < n) {
      const k = Math.min(CHUNK, n - made);
      const seed = SEED * 1_000_003 + salt * 10_007 + chunk++;
      buf = fc
        .sample(arb, { numRuns: k, seed })
        .map((t, i): [T, string] => [
          t,
          `input ${i} of fc.sample(<${what} inputs>, { seed: ${seed}, numRuns: ${k} }), PROOF_FUZZ_SEED=${SEED}`,
        ])
        .reverse();
      made += k;
      if (process.env['PROOF_FUZZ_PROGRESS'] && made % 5000 < k) {
        const c = process.cpuUsage(c0);
        console.log(
          `[proof] ${what}: ${made.toLocaleString('en')} generated, ${((Date.now() - t0) / 1000).toFixed(1)} s, CPU ${((c.user + c.system) / 1e6).toFixed(1)} s, heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB`,
        );
      }
    }
    return buf.pop();
  };
  await Promise.all(
    workers.map(async (w) => {
      for (let t = next(); t !== undefined; t = next()) await origin.run(t[1], () => w(t[0]));
    }),
  );
}

/* ------------------------------------------------------------------------------------------------
 * Socket.IO
 * ---------------------------------------------------------------------------------------------- */

/** A socket.io-client connection that keeps account of what it was refused and sent. */
class FuzzSocket {
  readonly socket: Socket;
  /** Cumulative: refusals expected (ack or not) and `error` events received. */
  expectedErrors = 0;
  errors = 0;
  /**
   * Per section: code|reason of error events and of refusing acks; event names of error events and of refused requests.
   */
  errorKeys = new Map<string, number>();
  ackKeys = new Map<string, number>();
  errorEvents = new Map<string, number>();
  refusedEvents = new Map<string, number>();
  readonly snapshots = new Map<string, Snapshot>();
  accepted = 0;
  readonly disconnects: string[] = [];

  constructor(
    url: string,
    private readonly failures: () => Failures,
    readonly name: string,
  ) {
    this.socket = io(url, {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    this.socket.on('disconnect', (reason) => this.disconnects.push(String(reason)));
    this.socket.on('snapshot', (s: Snapshot) => this.snapshots.set(s.subscriptionId, s));
    this.socket.on('error', (e: Json) => {
      this.errors++;
      const ok =
        typeof e === 'object' &&
        e !== null &&
        typeof e.code === 'string' &&
        e.code.length > 0 &&
        typeof e.reason === 'string' &&
        e.reason.trim().length > 0 &&
        e.reason.length <= 1000;
      const event: unknown = e?.request?.event;
      // a bounded copy of the request: no hostile payload is reflected back whole
      const size = JSON.stringify({
        ...e,
        request: {
          ...e?.request,
          event: typeof event === 'string' ? event.slice(0, 200) : event,
        },
      }).length;
      if (!ok || size > 8192 || typeof event !== 'string')
        this.failures().add(`${this.name}: malformed error event (${size} chars): ${describeValue(e)}`);
      else if (event.length > 200) defect('long event name echoed', `${event.length} characters`, this.failures());
      if (ok) {
        inc(this.errorKeys, `${e.code}|${e.reason}`);
        inc(this.errorEvents, String(e.request?.event));
      }
    });
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.connected) return resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('connect_error', reject);
    });
  }

  /** Emits with an acknowledgement; resolves with the reply, or { timeout } after 30 s. */
  request(event: string | number, args: unknown[]): Promise<Json> {
    return new Promise((resolve) => {
      this.socket
        .timeout(30_000)
        .emit(event as string, ...args, (err: Error | null, reply: unknown) =>
          resolve(err ? { timeout: err.message } : reply),
        );
    });
  }

  async run(inp: SocketInput): Promise<void> {
    const f = this.failures();
    const what = () =>
      `${this.name} ${inp.category} ${JSON.stringify(String(inp.event).slice(0, 40))} ${inp.args.map(describeValue).join(', ')}${inp.ack ? '' : ' (no ack)'}`;
    const refused = inp.expect.violations.length > 0;
    if (refused) {
      this.expectedErrors++;
      inc(this.refusedEvents, echoedEventName(String(inp.event)));
    }
    if (!inp.ack) {
      this.socket.emit(inp.event as string, ...inp.args);
      inc(outcomes, `${inp.category}: refused (no ack)`);
      return;
    }
    const reply = await this.request(inp.event, inp.args);
    if (refused) {
      const keys = typeof reply === 'object' && reply !== null ? Object.keys(reply).sort().join() : '';
      const ek = typeof reply?.error === 'object' && reply.error !== null ? Object.keys(reply.error).sort().join() : '';
      if (
        keys !== 'error,ok' ||
        reply.ok !== false ||
        ek !== 'code,reason' ||
        typeof reply.error.code !== 'string' ||
        typeof reply.error.reason !== 'string' ||
        reply.error.code === '' ||
        reply.error.reason.trim() === ''
      ) {
        f.add(`${what()}: expected a refusal, got ${describeValue(reply)}`);
        return;
      }
      if (!refusalMatches(inp.expect, reply.error.code, reply.error.reason)) {
        f.add(
          `${what()}: refused as ${reply.error.code} "${reply.error.reason}", expected one of ${inp.expect.violations.map((v) => `${v.code} ${v.pattern}`).join(' | ')}`,
        );
      }
      inc(this.ackKeys, `${reply.error.code}|${reply.error.reason}`);
      inc(outcomes, `${inp.category}: refused ${reply.error.code}`);
      return;
    }
    // valid: acknowledged with an id, its snapshot already here; then unsubscribed
    if (reply?.ok !== true || typeof reply.subscriptionId !== 'string') {
      f.add(`${what()}: a valid request was not accepted: ${describeValue(reply)}`);
      return;
    }
    this.accepted++;
    inc(outcomes, `${inp.category}: accepted`);
    const req = wire(inp.args[0]) as Record<string, Json>;
    const s = this.snapshots.get(reply.subscriptionId);
    const scales = viewOf(req['exchange'], req['symbol'])!;
    const wrong = !s
      ? ['no snapshot']
      : Object.entries({
          seq: s.seq === 0,
          exchange: s.exchange === req['exchange'],
          symbol: s.symbol === req['symbol'],
          timeframe: s.timeframe === req['timeframe'],
          ticks: s.ticks === req['ticks'],
          mode: s.mode === (req['mode'] ?? 'nearest'),
          scales: s.scales.priceScale === scales.priceScale && s.scales.quantityScale === scales.quantityScale,
          history: s.history === true,
          candles: s.candles.length >= 1 && s.candles.length <= req['candles'],
        })
          .filter(([, ok]) => !ok)
          .map(([k]) => k);
    if (wrong.length > 0)
      f.add(
        `${what()}: acknowledged ${reply.subscriptionId} with a wrong snapshot (${wrong.join(', ')}): ${describeValue(s && { ...s, candles: s.candles.length })}`,
      );
    const un = await this.request('unsubscribe', [{ subscriptionId: reply.subscriptionId }]);
    if (un?.ok !== true || un.subscriptionId !== reply.subscriptionId)
      f.add(`${what()}: unsubscribe of its own ${reply.subscriptionId} failed: ${describeValue(un)}`);
  }

  /**
   * After a section: every refusal (with or without ack) came as an `error` event naming its
   * event, the acks' code and reason each match one of them, no `error` more, and no snapshot
   * without an accepted subscribe.
   */
  async settle(): Promise<void> {
    const f = this.failures();
    await waitFor(
      `${this.name}: ${this.expectedErrors} error events`,
      () => this.errors >= this.expectedErrors,
      20_000,
    ).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    if (this.errors !== this.expectedErrors)
      f.add(`${this.name}: ${this.errors} error events for ${this.expectedErrors} refused requests`);
    for (const [k, n] of this.ackKeys)
      if ((this.errorKeys.get(k) ?? 0) < n)
        f.add(`${this.name}: ack refusal ${k} (x${n}) without its error event (x${this.errorKeys.get(k) ?? 0})`);
    const events = (m: Map<string, number>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (JSON.stringify(events(this.errorEvents)) !== JSON.stringify(events(this.refusedEvents)))
      f.add(
        `${this.name}: error events name other requests than those refused: ${JSON.stringify(events(this.errorEvents)).slice(0, 300)} vs ${JSON.stringify(events(this.refusedEvents)).slice(0, 300)}`,
      );
    if (this.snapshots.size !== this.accepted)
      f.add(`${this.name}: ${this.snapshots.size} snapshots for ${this.accepted} accepted subscribes`);
    if (this.disconnects.length > 0 || !this.socket.connected)
      f.add(`${this.name}: disconnected (${this.disconnects.join(', ')})`);
    this.errorKeys.clear();
    this.ackKeys.clear();
    this.errorEvents.clear();
    this.refusedEvents.clear();
    this.snapshots.clear();
    this.accepted = 0;
  }
}

/* ------------------------------------------------------------------------------------------------
 * HTTP
 * ---------------------------------------------------------------------------------------------- */

const agent = new http.Agent({ keepAlive: true, maxSockets: HTTP_CONCURRENCY });

interface HttpReply {
  status: number;
  type: string;
  text: string;
  headers: http.IncomingHttpHeaders;
}

function httpRequest(
  base: string,
  path: string,
  o: { method?: string; headers?: Record<string, string> } = {},
  retry = true,
): Promise<HttpReply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: o.method ?? 'GET',
        headers: o.headers ?? {},
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error('timed out')));
    req.on('error', (e: NodeJS.ErrnoException) => {
      // a kept-alive connection the server closed as it was reused (Node's documented race): once more on a new one
      if (retry && req.reusedSocket && e.code === 'ECONNRESET') {
        retried++;
        resolve(httpRequest(base, path, o, false));
      } else reject(e);
    });
    req.end();
  });
}
let retried = 0;

/**
 * A request to the gateway; a 503 from a stale ClickHouse connection (a known defect) is recorded and the request made
 * once more.
 */
async function gatewayRequest(
  base: string,
  path: string,
  failures: Failures,
  o: { method?: string; headers?: Record<string, string> } = {},
): Promise<HttpReply> {
  const r = await httpRequest(base, path, o);
  if (r.status !== 503 || !/"code":"storage-unavailable".*"reason":"connection reset"/.test(r.text)) return r;
  defect('stale ClickHouse connection', `${o.method ?? 'GET'} ${path.slice(0, 200)}`, failures);
  return httpRequest(base, path, o);
}

const parseJson = (t: string): Json => {
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
};

/** A refusal as the README says: `{ statusCode, error, message }`, JSON, the message a sentence of its own. */
function isErrorBody(r: HttpReply, status: number): Json {
  const b = parseJson(r.text);
  const ok =
    r.type.startsWith('application/json') &&
    typeof b === 'object' &&
    b !== null &&
    b.statusCode === status &&
    typeof b.error === 'string' &&
    typeof b.message === 'string' &&
    b.message.trim().length > 0 &&
    b.message.length <= 2000;
  return ok ? b : null;
}

/* ------------------------------------------------------------------------------------------------
 * Raw WebSocket (Engine.IO 4 / Socket.IO 5 framing)
 * ---------------------------------------------------------------------------------------------- */

class RawConn {
  readonly ws: WebSocket;
  readonly messages: string[] = [];
  closed = false;
  private waiters: (() => void)[] = [];

  constructor(url: string) {
    this.ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
    this.ws.on('message', (data, isBinary) => {
      const text = isBinary ? '<binary>' : data.toString();
      if (text.startsWith('0')) this.ws.send('40');
      else if (text === '2') this.ws.send('3');
      this.messages.push(text);
      this.wake();
    });
    this.ws.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.ws.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until `check` holds (true) or `ms` pass (false). */
  async until(check: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (!check()) {
      const left = end - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  async open(): Promise<void> {
    if (!(await this.until(() => this.closed || this.messages.some((m) => m.startsWith('40{')), 10_000)) || this.closed)
      throw new Error('raw connection not opened');
  }

  /** The acknowledgement `43<id>[...]` of request `id`, if it comes within `ms`. */
  async ack(id: number, ms: number): Promise<Json | null> {
    const prefix = `43${id}[`;
    let found: string | undefined;
    await this.until(() => this.closed || (found = this.messages.find((m) => m.startsWith(prefix))) !== undefined, ms);
    return found === undefined ? null : (parseJson(found.slice(String(id).length + 2)) as Json[])[0];
  }

  close(): void {
    this.ws.terminate();
  }
}

/* ------------------------------------------------------------------------------------------------
 * Gateway state
 * ---------------------------------------------------------------------------------------------- */

async function metric(url: string, re: RegExp): Promise<number> {
  const text = (await httpRequest(url, '/metrics')).text;
  let n = 0;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (m) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

/** Synthetic trades of one instrument every 2 s over the data window (prices wander around `mid` units). */
function synthetic(
  rec: Omit<Recording, 'trades' | 'recorded'>,
  mid: number,
  spread: number,
  maxQty: number,
  seed: number,
): Recording {
  let s = seed;
  const rand = () => (s = (s * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  const trades: Trade[] = [];
  let price = mid;
  for (let t = DATA_FROM, i = 0; t < DATA_TO; t += 2000, i++) {
    price = Math.max(mid - spread, Math.min(mid + spread, price + Math.round((rand() - 0.5) * spread * 0.1)));
    trades.push({
      exchange: rec.exchange,
      symbol: rec.symbol,
      id: String(i + 1),
      price,
      quantity: 1 + Math.floor(rand() * maxQty),
      side: rand() < 0.5 ? 'buy' : 'sell',
      exchangeTimeUs: t * 1000 + (i % 997),
      receiveTimeMs: t,
    });
  }
  return { ...rec, recorded: [], trades };
}

describe('hostile input against a running gateway', () => {
  const stack: Cleanup = [];
  let ch: ClickHouseServer;
  let client: ClickHouseClient;
  let nc: NatsConnection;
  let gw: App;
  let gwToken: App;
  let victim: FuzzSocket;
  let victimIds: string[] = [];
  let baseline: {
    ch: string;
    subscriptions: number;
    streams: number;
    views: number;
    proto: string[];
  };
  const rejections: unknown[] = [];
  const exceptions: unknown[] = [];
  const onRejection = (r: unknown) => void rejections.push(r);
  const onException = (e: unknown) => void exceptions.push(e);
  const sockets: FuzzSocket[] = [];
  let current = new Failures();
  const section = () => current;
  /** gateway_refused_requests_total before the socket sections, and the refusals they expect. */
  let refusedBefore = 0;
  let refusedExpected = 0;
  const started = Date.now();

  /** Every table of the database (not the views), its rows sorted and hashed; and the list of tables everywhere. */
  async function clickHouseState(): Promise<string> {
    const text = async (query: string) =>
      (await (await client.query({ query, format: 'TabSeparated' })).text()) as string;
    const tables = (
      await text(`SELECT name FROM system.tables WHERE database = '${DB}' AND engine NOT LIKE '%View%' ORDER BY name`)
    )
      .split('\n')
      .filter(Boolean);
    const out = [
      `tables: ${(await text(`SELECT database, name, engine FROM system.tables WHERE database != 'system' ORDER BY database, name`)).replace(/\n/g, '; ')}`,
    ];
    for (const t of tables) {
      const rows = (await text(`SELECT * FROM ${DB}.\`${t}\``)).split('\n').filter(Boolean).sort();
      out.push(`${t}: ${rows.length} rows, sha256 ${createHash('sha256').update(rows.join('\n')).digest('hex')}`);
    }
    return out.join('\n');
  }

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    ch = await startClickHouse();
    stack.push(() => ch.stop());
    client = connectClickHouse({ url: ch.url });
    stack.push(() => client.close());
    const nats = await startNatsWithStore(stack);
    nc = await connectTo(nats.url);
    stack.push(() => nc.close());
    await ensureTradeStreams(nc);
    const agg = await startAggregatorApp(
      loadAggregatorConfig({
        NATS_URL: nats.url,
        CLICKHOUSE_URL: ch.url,
        CLICKHOUSE_DATABASE: DB,
        AGG_HTTP_PORT: '0',
        AGG_FLUSH_INTERVAL_MS: '200',
        AGG_DISCOVER_INTERVAL_MS: '200',
      }),
      quiet ? { logger: false } : {},
    );
    stack.push(() => agg.app.close());
    // Binance spot BTCUSDT (0.01 / 0.00001) and Bybit spot BTCUSDT (0.1 / 0.001): with them the merged BTC-USDT view
    const binance = synthetic(
      {
        exchange: 'binance',
        symbol: 'BTCUSDT',
        instrument: instrumentFromSteps('binance', 'BTCUSDT', '0.01', '0.00001'),
      },
      6_000_000,
      20_000,
      50_000,
      1,
    );
    const bybit = synthetic(
      {
        exchange: 'bybit',
        symbol: 'BTCUSDT',
        instrument: instrumentFromSteps('bybit', 'BTCUSDT', '0.1', '0.001'),
      },
      600_000,
      2000,
      500,
      2,
    );
    await Promise.all([publish(nc, binance), publish(nc, bybit)]);
    await waitAllAcked(nc, [consumerName('binance', 'BTCUSDT'), consumerName('bybit', 'BTCUSDT')]);
    const count = async (q: string) =>
      Number((await (await client.query({ query: q, format: 'TabSeparated' })).text()).trim());
    await waitFor(
      'both instruments stored',
      async () =>
        (await count(`SELECT count() FROM ${DB}.instruments`)) >= 2 &&
        (await count(`SELECT uniqExact(exchange) FROM ${DB}.footprint WHERE timeframe = '1m'`)) === 2,
      60_000,
    );
    // merge every part now, so that background merges cannot change what the state check reads
    for (const t of (
      await (
        await client.query({
          query: `SELECT name FROM system.tables WHERE database = '${DB}' AND engine LIKE '%MergeTree%'`,
          format: 'TabSeparated',
        })
      ).text()
    )
      .split('\n')
      .filter(Boolean)) {
      await client.command({ query: `OPTIMIZE TABLE ${DB}.\`${t}\` FINAL` }).catch(() => undefined);
    }
    const env = {
      NATS_URL: nats.url,
      CLICKHOUSE_URL: ch.url,
      CLICKHOUSE_DATABASE: DB,
      GATEWAY_PORT: '0',
      GATEWAY_MAX_MESSAGES_PER_SECOND: '10000',
      GATEWAY_STREAM_LINGER_MS: '500',
      GATEWAY_MAX_CANDLES: String(MAX_CANDLES),
      // the fuzzer reads the API far faster than fair use allows one client
      ...UNLIMITED_HTTP,
    };
    gw = await startGatewayApp(loadGatewayConfig(env), quiet ? { logger: false } : {});
    stack.push(() => gw.app.close());
    gwToken = await startGatewayApp(
      loadGatewayConfig({ ...env, GATEWAY_AUTH_TOKEN: TOKEN }),
      quiet ? { logger: false } : {},
    );
    stack.push(() => gwToken.app.close());

    // another connection's subscriptions (s1 ... s17): hostile unsubscribes elsewhere must not touch them; they also
    // keep
    // every live stream open, so that a valid fuzzed subscribe costs a view and a history read, not a new stream
    victim = new FuzzSocket(gw.url, section, 'victim');
    await victim.connected();
    const warm = ['binance', 'bybit'].flatMap((exchange) =>
      ['1m', '5m', '15m', '30m', '1h', '4h', '1d'].map((timeframe) => ({
        exchange,
        symbol: 'BTCUSDT',
        timeframe,
        ticks: 1,
        candles: 1,
      })),
    );
    for (const b of [...SUBSCRIBE_BASES, ...warm]) {
      const r = await victim.request('subscribe', [b]);
      expect(r, JSON.stringify(b)).toEqual({
        ok: true,
        subscriptionId: expect.any(String),
      });
      victimIds.push(r.subscriptionId);
    }
    expect(victimIds).toEqual(Array.from({ length: 17 }, (_, i) => `s${i + 1}`));
    await new Promise((r) => setTimeout(r, 300));
    baseline = {
      ch: await clickHouseState(),
      subscriptions: gw.runtime.hub.subscriptionCount,
      streams: gw.runtime.hub.streamCount,
      views: gw.runtime.hub.viewCount,
      proto: Object.getOwnPropertyNames(Object.prototype).sort(),
    };
    expect(baseline.subscriptions).toBe(17);
    refusedBefore = await metric(gw.metricsUrl, /^gateway_refused_requests_total\{/);
  }, 180_000);

  const clock = new Map<string, { wall: number; cpu: number }>();
  let clock0 = { wall: 0, cpu: process.cpuUsage() };
  beforeEach(() => void (clock0 = { wall: Date.now(), cpu: process.cpuUsage() }));
  afterEach((ctx) => {
    const c = process.cpuUsage(clock0.cpu);
    const t = {
      wall: (Date.now() - clock0.wall) / 1000,
      cpu: (c.user + c.system) / 1e6,
    };
    clock.set(ctx.task.name.replace(/:.*/, ''), t);
    if (process.env['PROOF_FUZZ_PROGRESS'])
      console.log(`[proof] ${ctx.task.name.replace(/:.*/, '')}: ${t.wall.toFixed(1)} s, CPU ${t.cpu.toFixed(1)} s`);
  });

  afterAll(async () => {
    for (const s of [...sockets, victim]) s?.socket.close();
    agent.destroy();
    await runCleanup(stack);
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    for (const [name, d] of defects)
      console.log(
        `[proof] gateway fuzz: KNOWN DEFECT "${name}" x${d.count} (e.g. ${d.example}): ${KNOWN_DEFECTS[name]}`,
      );
    if (retried > 0)
      console.log(
        `[proof] gateway fuzz: ${retried} requests repeated on a new connection (a kept-alive one closed by the server as it was reused)`,
      );
    const params = new Map<string, string[]>();
    for (const [k, n] of [...tally].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const m = /^http param (\S+) (.+)$/.exec(k);
      if (m) params.set(m[1]!, [...(params.get(m[1]!) ?? []), `${m[2]} ${n}`]);
    }
    const rows = [...tally]
      .filter(([k]) => !k.startsWith('http param '))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(
        ([k, n]) =>
          `${k}: ${n.toLocaleString('en')}${params.has(k.slice(5)) ? ` (touched: ${params.get(k.slice(5))!.join(', ')})` : ''}`,
      );
    const total = [...tally].filter(([k]) => !k.startsWith('http param ')).reduce((n, [, v]) => n + v, 0);
    const times = [...clock].map(([k, t]) => `${k}: ${t.wall.toFixed(1)} s (this process's CPU ${t.cpu.toFixed(1)} s)`);
    console.log(
      `[proof] gateway fuzz: ${total.toLocaleString('en')} inputs in ${((Date.now() - started) / 1000).toFixed(1)} s (PROOF_FUZZ_RUNS=${RUNS}, PROOF_FUZZ_SEED=${SEED})\n  ${rows.join('\n  ')}\n  time per test:\n  ${times.join('\n  ')}\n  outcomes:\n  ${[
        ...outcomes,
      ]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, n]) => `${k}: ${n}`)
        .join('\n  ')}`,
    );
  }, 60_000);

  /** Runs socket inputs of one category over `socks`, PER_SOCKET in flight each; then settles them. */
  async function socketSection(
    category: SocketInput['category'],
    n: number,
    socks: FuzzSocket[],
    salt: number,
  ): Promise<void> {
    current = new Failures();
    const arb = socketInput(MAX_CANDLES)[category];
    const workers = socks.flatMap((s) =>
      Array.from({ length: PER_SOCKET }, () => async (inp: SocketInput) => {
        inc(tally, `socket ${category}`);
        if (inp.expect.violations.length > 0) refusedExpected++;
        await s.run(inp);
      }),
    );
    await feed(`socket ${category}`, arb, n, salt, workers);
    for (const s of socks) await s.settle();
    current.assertNone(`socket ${category}`);
    expect(gw.runtime.hub.subscriptionCount).toBe(baseline.subscriptions);
  }

  async function newSockets(k: number, name: string): Promise<FuzzSocket[]> {
    const out = Array.from({ length: k }, (_, i) => new FuzzSocket(gw.url, section, `${name}${i}`));
    await Promise.all(out.map((s) => s.connected()));
    sockets.push(...out);
    return out;
  }

  it(`subscribe: ${N.subscribe.toLocaleString('en')} hostile payloads, each refused with a reason or (when valid) answered with its snapshot`, async () => {
    await socketSection('subscribe', N.subscribe, await newSockets(4, 'subscriber'), 1);
  }, 600_000);

  it(`unsubscribe: ${N.unsubscribe.toLocaleString('en')} hostile payloads, including ids of another connection's subscriptions`, async () => {
    await socketSection('unsubscribe', N.unsubscribe, await newSockets(2, 'unsubscriber'), 2);
    // the other connection's subscriptions are all still there
    expect(gw.runtime.hub.subscriptionCount).toBe(17);
  }, 600_000);

  it(`unknown events (${N.unknownEvent.toLocaleString('en')}) and multi-argument events (${N.multiArg.toLocaleString('en')})`, async () => {
    const socks = await newSockets(2, 'stranger');
    await socketSection('unknown-event', N.unknownEvent, socks, 3);
    await socketSection('multi-arg', N.multiArg, socks, 4);
    // the gateway counted exactly these refusals, none of them rate-limited or internal
    expect((await metric(gw.metricsUrl, /^gateway_refused_requests_total\{/)) - refusedBefore).toBe(refusedExpected);
    expect(await metric(gw.metricsUrl, /^gateway_refused_requests_total\{code="(rate-limited|internal)"\}/)).toBe(0);
  }, 600_000);

  it(`raw Socket.IO / Engine.IO frames: ${N.rawFrames.toLocaleString('en')} malformed packets answered or the connection closed, never a crash`, async () => {
    current = new Failures();
    const RESERVED = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];
    type Frame = {
      send: (string | Buffer)[];
      answer: Expectation | null;
      label: string;
    };
    const text = (t: string, label: string, answer: Expectation | null = null): Frame => ({ send: [t], answer, label });
    const unknown: Expectation = {
      violations: [{ code: 'unknown-event', pattern: /^unknown event "/ }],
    };
    const frames: fc.Arbitrary<Frame> = fc.oneof(
      // valid packets the client library would not send: answered, the connection stays
      unknownEventName.map((e) => text(`42#${JSON.stringify([e, 1])}`, 'unknown event', unknown)),
      fc.constantFrom(...RESERVED).map((e) => text(`42#${JSON.stringify(['x' + e, {}])}`, 'unknown event', unknown)),
      hostileJson
        .filter((v) => !(v instanceof Uint8Array) && !(v instanceof ArrayBuffer))
        .map((v) =>
          text(
            `42#${JSON.stringify(['subscribe', v]) ?? '["subscribe"]'}`,
            'subscribe junk',
            expectSubscribe(wire(v), MAX_CANDLES),
          ),
        ),
      fc.integer({ min: 2, max: 30_000 }).map((d) =>
        text(`42#["subscribe",${'['.repeat(d)}${']'.repeat(d)}]`, 'deep subscribe', {
          violations: [
            {
              code: 'bad-request',
              pattern: /^subscribe request must be an object/,
            },
          ],
        }),
      ),
      fc.constant<Frame>({
        send: ['451-#["subscribe",{"_placeholder":true,"num":0}]', Buffer.from('{"exchange":"binance"}')],
        answer: expectSubscribe(Buffer.from('{"exchange":"binance"}'), MAX_CANDLES),
        label: 'binary body',
      }),
      // protocol violations: the connection may be closed
      fc
        .constantFrom(...RESERVED)
        .map((e) => text(`42#${JSON.stringify([e, { subscriptionId: 's1' }])}`, 'reserved event')),
      fc
        .tuple(
          fc.constantFrom(
            '0',
            '1',
            '2',
            '3',
            '4',
            '5',
            '6',
            '7',
            '8',
            '9',
            '40',
            '41',
            '42',
            '43',
            '44',
            '45',
            '46',
            '47',
            '49',
            '4x',
            '42/admin,',
            '40/admin,',
            '42/,',
            '43#',
            '44#',
            '',
          ),
          fc.oneof(
            fc.string({ unit: 'binary', maxLength: 40 }),
            fc.constantFrom(
              '[]',
              '{}',
              '"x"',
              'null',
              '[null]',
              '[{}]',
              '[[]]',
              '[true]',
              '[1e999]',
              '[',
              '{"',
              '["subscribe"',
              '"\\ud800"',
              ...SQL,
              ...UNICODE,
            ),
          ),
        )
        .map(([a, b]) => text(a + b, 'junk packet')),
      fc.constantFrom(
        text('451-#["subscribe",{"_placeholder":true,"num":5}]', 'bad attachment index'),
        text('4599-#["subscribe",{}]', 'too many attachments'),
        text('45-1-#["subscribe",{}]', 'negative attachments'),
        text('451-#["subscribe",{"_placeholder":true,"num":0}]', 'attachment never sent'),
        text('42#["subscribe",' + '"' + 'A'.repeat(70_000) + '"]', 'over maxHttpBufferSize'),
        text('4' + '2'.repeat(40) + '["x"]', 'huge ack id'),
        {
          send: [Buffer.from([0xff, 0xfe, 0x00, 0x42])],
          answer: null,
          label: 'unexpected binary',
        },
        {
          send: [Buffer.from([0xc3, 0x28, 0xa0, 0xa1])],
          answer: null,
          label: 'invalid UTF-8 text',
        },
      ),
    );
    let conn: RawConn | null = null;
    let nextId = 1;
    const fresh = async () => {
      conn?.close();
      conn = new RawConn(gw.url);
      await conn.open();
      return conn;
    };
    let closedByServer = 0;
    let answered = 0;
    let stayed = 0;
    await forChunks(frames, N.rawFrames, 5, async (chunk) => {
      for (const fr of chunk) {
        const c: RawConn = conn && !conn.closed ? conn : await fresh();
        const id = nextId++;
        for (const part of fr.send) {
          if (typeof part === 'string') c.ws.send(part.replace('#', String(id)));
          else c.ws.send(part, { binary: fr.label !== 'invalid UTF-8 text' });
        }
        if (fr.answer) {
          const reply = await c.ack(id, 10_000);
          if (reply === null)
            current.add(
              `raw ${fr.label} ${describeValue(fr.send[0]).slice(0, 200)}: no acknowledgement${c.closed ? ' (connection closed)' : ''}`,
            );
          else if (reply.ok !== false || !refusalMatches(fr.answer, reply.error?.code, reply.error?.reason))
            current.add(
              `raw ${fr.label} ${describeValue(fr.send[0]).slice(0, 200)}: ${describeValue(reply)}, expected ${fr.answer.violations.map((v) => `${v.code} ${v.pattern}`).join(' | ')}`,
            );
          else answered++;
          inc(outcomes, `raw frame ${fr.label}: answered`);
        } else {
          // closed by the server, or still usable: a probe request gets its answer
          const pid = nextId++;
          if (!c.closed) c.ws.send(`42${pid}["unsubscribe",{"subscriptionId":"probe"}]`);
          const probe = c.closed ? null : await c.ack(pid, 10_000);
          if (c.closed) closedByServer++;
          else if (probe?.error?.code === 'unknown-subscription') stayed++;
          else
            current.add(
              `raw ${fr.label} ${describeValue(fr.send[0]).slice(0, 200)}: neither closed nor answering (probe: ${describeValue(probe)})`,
            );
          inc(outcomes, `raw frame ${fr.label}: ${c.closed ? 'connection closed' : 'connection kept'}`);
        }
        c.messages.length = 0;
      }
      tally.set('socket raw frames', (tally.get('socket raw frames') ?? 0) + chunk.length);
    });
    (conn as RawConn | null)?.close();
    console.log(
      `[proof] raw frames: ${answered} answered with a refusal, ${closedByServer} closed the connection, ${stayed} ignored with the connection usable`,
    );
    current.assertNone('raw frames');
    await waitFor('raw connections gone', () => gw.runtime.sessions.size === sockets.length + 1, 10_000);
  }, 600_000);

  it(`handshake auth: ${N.handshake.toLocaleString('en')} hostile tokens refused with connect_error { code, reason }`, async () => {
    current = new Failures();
    const auth = fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .oneof(
            hostileJson.filter((v) => !(v instanceof Uint8Array) && !(v instanceof ArrayBuffer)),
            fc.constantFrom<unknown>(
              TOKEN,
              `${TOKEN} `,
              ` ${TOKEN}`,
              TOKEN.toUpperCase(),
              TOKEN.slice(0, -1),
              `${TOKEN}x`,
              `${TOKEN}\u0000`,
              [TOKEN],
              { token: TOKEN },
              `Bearer ${TOKEN}`,
            ),
          )
          .map((token) => ({ token })),
      },
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            fc.constantFrom('__proto__', 'constructor', 'Token', 'TOKEN', 'auth', ''),
            hostileJson.filter((v) => !(v instanceof Uint8Array) && !(v instanceof ArrayBuffer)),
          )
          .map(
            ([k, v]) =>
              JSON.parse(`{${JSON.stringify(k)}:${JSON.stringify(wire(v)) ?? 'null'}}`) as Record<string, unknown>,
          ),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom<Record<string, unknown>>(
          {},
          { token: TOKEN },
          JSON.parse(`{"__proto__":{"token":"${TOKEN}"}}`) as Record<string, unknown>,
          {
            token: TOKEN,
            extra: 'x'.repeat(1000),
          },
        ),
      },
    );
    await forChunks(auth, N.handshake, 6, async (chunk) => {
      await pool(chunk, 16, async (a) => {
        const w = wire(a) as Record<string, unknown>;
        const valid = Object.prototype.hasOwnProperty.call(w, 'token') && w['token'] === TOKEN;
        const s = io(gwToken.url, {
          path: '/socket.io',
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
          auth: a as Record<string, unknown>,
          timeout: 20_000,
        });
        try {
          const r = await new Promise<{ ok: true } | { ok: false; e: Json }>((resolve) => {
            s.once('connect', () => resolve({ ok: true }));
            s.once('connect_error', (e: Json) => resolve({ ok: false, e }));
          });
          if (valid && !r.ok)
            current.add(`auth ${describeValue(a)}: the right token was refused: ${describeValue(r.e?.message)}`);
          if (!valid && r.ok) current.add(`auth ${describeValue(a)}: connected without the token`);
          if (
            !valid &&
            !r.ok &&
            (r.e?.message !== 'unauthorized' ||
              r.e?.data?.code !== 'unauthorized' ||
              typeof r.e?.data?.reason !== 'string' ||
              r.e.data.reason.length === 0)
          )
            current.add(
              `auth ${describeValue(a)}: refused without { code, reason }: ${describeValue({ message: r.e?.message, data: r.e?.data })}`,
            );
          inc(outcomes, `handshake: ${r.ok ? 'connected' : 'refused'}`);
        } finally {
          s.close();
        }
      });
      tally.set('socket handshake auth', (tally.get('socket handshake auth') ?? 0) + chunk.length);
    });
    current.assertNone('handshake auth');
  }, 600_000);

  it(`HTTP: ${N.http.toLocaleString('en')} hostile queries over every /api endpoint and parameter, each 400 with a reason naming it or (when valid) 200`, async () => {
    current = new Failures();
    const run = async (c: HttpCase) => {
      const q = parseQuery(c.qs);
      const e = expectHttp(c.endpoint, q, Date.now());
      const path = `/api/${c.endpoint.path}?${c.qs}`;
      inc(tally, `http /api/${c.endpoint.path}`);
      for (const t of c.touched) inc(tally, `http param /api/${c.endpoint.path} ${t}`);
      // (VWAP bands with up to 30 decimals once froze the gateway: isqrt climbed from a float estimate one step at a
      // time; fixed, and sent)
      let r: HttpReply;
      try {
        r = await gatewayRequest(gw.url, path, current);
      } catch (err) {
        current.add(`GET ${path.slice(0, 300)}: ${(err as Error).message}`);
        return;
      }
      const what = `GET ${path.length > 400 ? `${path.slice(0, 400)}... (${path.length} chars)` : path} -> ${r.status} ${r.text.slice(0, 300)}`;
      if (r.status >= 500) {
        current.add(`${what}: a server error`);
        return;
      }
      if (e.ambiguous && r.status === 400 && /^from\.\.to covers/.test(isErrorBody(r, 400)?.message ?? '')) return; // `to` defaulted to a moving now, at the limit
      if (e.violations.length === 0 || (e.ambiguous && r.status === 200)) {
        inc(outcomes, `http /api/${c.endpoint.path}: 200`);
        if (r.status !== 200) return current.add(`${what}: a valid request was refused`);
        const csv = q['format'] === 'csv';
        if (csv) {
          const head =
            c.endpoint.path === 'footprint'
              ? 'exchange,symbol,timeframe,open_time,price,'
              : 'exchange,symbol,timeframe,open_time,open,';
          if (!r.type.startsWith('text/csv') || !r.text.startsWith(head)) current.add(`${what}: not the CSV export`);
          return;
        }
        const b = parseJson(r.text);
        const shaped =
          c.endpoint.path === 'instruments'
            ? Array.isArray(b?.instruments)
            : b?.exchange === q['exchange'] && b?.symbol === q['symbol'];
        if (!r.type.startsWith('application/json') || !shaped) current.add(`${what}: not the answer to the request`);
        return;
      }
      inc(outcomes, `http /api/${c.endpoint.path}: ${r.status}`);
      const b = isErrorBody(r, 400);
      if (r.status !== 400 || !b)
        return current.add(
          `${what}: expected 400 { statusCode, error, message } naming one of ${e.violations.map((v) => v.pattern).join(' | ')}`,
        );
      if (!e.violations.some((v) => v.pattern.test(b.message)))
        current.add(
          `${what}: the message does not name what was wrong (expected one of ${e.violations.map((v) => v.pattern).join(' | ')})`,
        );
    };
    await feed(
      'http',
      httpCase,
      N.http,
      7,
      Array.from({ length: HTTP_CONCURRENCY }, () => run),
    );
    current.assertNone('http queries');
    expect(await metric(gw.metricsUrl, /^gateway_http_request_duration_seconds_count\{.*status="5\d\d"/)).toBe(0);
  }, 600_000);

  it(`HTTP paths and methods: ${N.httpPaths.toLocaleString('en')} requests, never a 5xx, every 4xx a JSON reason`, async () => {
    current = new Failures();
    const valid = 'exchange=binance&symbol=BTCUSDT&timeframe=1m&from=2024-08-08T23:50:00Z&to=2024-08-09T00:10:00Z';
    const paths = fc.oneof(
      fc
        .constantFrom(...ENDPOINTS.map((e) => `/api/${e.path}`))
        .chain((p) =>
          fc.constantFrom(
            `${p}/`,
            `${p}//`,
            `${p}/x`,
            `${p}/..`,
            p.toUpperCase(),
            `${p};x`,
            `${p}%00`,
            `${p}%2F`,
            `${p}.json`,
            p.replace('/api/', '/api//'),
            p.replace('/api/', '/api/%2e%2e/api/'),
            `${p}%`,
            `${p}%zz`,
            `/API${p.slice(4)}`,
          ),
        ),
      fc.constantFrom(
        '/api',
        '/api/',
        '/api/nope',
        '/api/openapi.json',
        '/api/docs',
        '/api/%',
        '/api/%C3%28',
        '/api/' + 'a'.repeat(2000),
        '/api/../health/live',
        '/api/%C3%A9',
        '/api/__proto__',
        '/api/constructor',
      ),
    );
    const reqs = fc.tuple(
      paths,
      fc.constantFrom('GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND'),
      fc.boolean(),
    );
    await forChunks(reqs, N.httpPaths, 8, async (chunk) => {
      await pool(chunk, HTTP_CONCURRENCY, async ([p, method, withQuery]) => {
        const path = withQuery ? `${p}?${valid}` : p;
        let r: HttpReply;
        try {
          r = await gatewayRequest(gw.url, path, current, { method });
        } catch (err) {
          current.add(`${method} ${path.slice(0, 200)}: ${(err as Error).message}`);
          return;
        }
        inc(outcomes, `http path/method: ${r.status}`);
        if (r.status >= 500) current.add(`${method} ${path.slice(0, 200)} -> ${r.status}: a server error`);
        else if (r.status >= 400 && method !== 'HEAD' && !isErrorBody(r, r.status))
          current.add(
            `${method} ${path.slice(0, 200)} -> ${r.status} ${r.type} ${r.text.slice(0, 200)}: not a JSON reason`,
          );
      });
      tally.set('http paths and methods', (tally.get('http paths and methods') ?? 0) + chunk.length);
    });
    // the query parser's and the HTTP parser's limits: nothing past them may be silently dropped, and a refusal is
    // still a JSON reason
    const base = 'exchange=binance&symbol=BTCUSDT&timeframe=1m&from=2024-08-08T23:50:00Z&to=2024-08-09T00:10:00Z';
    const limits: [string, string, RegExp | null][] = [];
    // the hostile pair is the 1000th (a control: refused today), then the 1001st and later
    for (const before of [999, 1000, 1500, 5000]) {
      limits.push([
        `instruments, ${before} pairs before an unknown one`,
        `/api/instruments?${'&'.repeat(before)}evil=1`,
        /^unknown parameter "evil"/,
      ]);
      limits.push([
        `footprint, ${before} pairs before ticks=0`,
        `/api/footprint?${base}${'&'.repeat(before - 4)}ticks=0`,
        /^ticks must be an integer/,
      ]);
      limits.push([
        `candles, ${before} pairs before format=xml`,
        `/api/candles?${base}${'&'.repeat(before - 4)}format=xml`,
        /^format must be one of/,
      ]);
    }
    limits.push(
      ['20 KB query', `/api/footprint?${base}&x=${'A'.repeat(20_000)}`, null],
      ['20 KB path', `/api/${'a'.repeat(20_000)}`, null],
    );
    for (const [label, path, message] of limits) {
      const r = await gatewayRequest(gw.url, path, current).catch(
        (err: Error) =>
          ({
            status: 0,
            type: '',
            text: err.message,
            headers: {},
          }) as HttpReply,
      );
      inc(outcomes, `http query limits: ${r.status}`);
      if (message === null) {
        // beyond Node's header limit: refused with a 4xx by Node itself
        if (r.status < 400 || r.status >= 500)
          current.add(`${label} -> ${r.status} ${r.text.slice(0, 200)}: not a 4xx`);
        else if (!isErrorBody(r, r.status))
          defect(
            'oversized request not JSON',
            `${label} -> ${r.status} ${JSON.stringify(r.text.slice(0, 80))}`,
            current,
          );
      } else if (r.status === 200) defect('query pairs beyond 1000 ignored', `${label} -> 200`, current);
      else if (r.status !== 400 || !message.test(isErrorBody(r, 400)?.message ?? ''))
        current.add(`${label} -> ${r.status} ${r.text.slice(0, 200)}: expected 400 ${message}`);
    }
    tally.set('http query limits', limits.length);
    current.assertNone('http paths and methods');
  }, 600_000);

  it(`HTTP Authorization: ${N.httpAuth.toLocaleString('en')} hostile headers, 401 with a reason unless exactly the token`, async () => {
    current = new Failures();
    const latin1 = fc.string({
      unit: fc
        .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
        .map((c) => String.fromCharCode(c)),
      maxLength: 60,
    });
    const header = fc.oneof(
      fc.constantFrom(
        `Bearer ${TOKEN}`,
        `bearer ${TOKEN}`,
        `BEARER ${TOKEN}`,
        `Bearer  ${TOKEN}`,
        `Bearer ${TOKEN} `,
        `Bearer\t${TOKEN}`,
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
        TOKEN,
        'Bearer',
        'Bearer ',
        '',
        `Bearer ${TOKEN},Bearer x`,
        `Bearer ${'A'.repeat(8000)}`,
      ),
      latin1.map((s) => `Bearer ${s}`),
      latin1,
      fc.constantFrom(...SQL).map((s) => `Bearer ${s}`),
    );
    await forChunks(header, N.httpAuth, 9, async (chunk) => {
      await pool(chunk, HTTP_CONCURRENCY, async (h) => {
        // the HTTP parser drops leading and trailing blanks of a header value
        const valid = h.replace(/^[ \t]+|[ \t]+$/g, '') === `Bearer ${TOKEN}`;
        const r = await httpRequest(gwToken.url, '/api/instruments', {
          headers: { authorization: h },
        }).catch(
          (err: Error) =>
            ({
              status: 0,
              type: '',
              text: err.message,
              headers: {},
            }) as HttpReply,
        );
        inc(outcomes, `http authorization: ${r.status}`);
        if (
          valid
            ? r.status !== 200
            : r.status !== 401 || !isErrorBody(r, 401) || r.headers['www-authenticate'] !== 'Bearer'
        )
          current.add(`Authorization ${describeValue(h)} -> ${r.status} ${r.text.slice(0, 200)}`);
      });
      tally.set('http authorization header', (tally.get('http authorization header') ?? 0) + chunk.length);
    });
    current.assertNone('http authorization');
  }, 600_000);

  it('afterwards: the gateway is alive, nothing changed, and every fuzzed connection still subscribes', async () => {
    const total = [...tally].filter(([k]) => !k.startsWith('http param ')).reduce((n, [, v]) => n + v, 0);
    expect(total).toBeGreaterThanOrEqual(RUNS);
    // alive
    expect((await httpRequest(gw.url, '/health/live')).text).toBe('{"status":"ok"}');
    expect(parseJson((await httpRequest(gw.url, '/health/ready')).text)).toEqual({ status: 'ready' });
    expect(rejections).toEqual([]);
    expect(exceptions).toEqual([]);
    // nothing polluted
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(baseline.proto);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    // subscriptions, streams and views back where they were: only the victim's subscriptions
    expect(gw.runtime.hub.subscriptionCount).toBe(baseline.subscriptions);
    await waitFor(
      'streams and views back to the baseline',
      () => gw.runtime.hub.streamCount === baseline.streams && gw.runtime.hub.viewCount === baseline.views,
      15_000,
    ).catch(() => undefined);
    expect({
      streams: gw.runtime.hub.streamCount,
      views: gw.runtime.hub.viewCount,
    }).toEqual({ streams: baseline.streams, views: baseline.views });
    const status = parseJson((await httpRequest(gw.metricsUrl, '/status')).text);
    expect({
      clients: status.clients,
      subscriptions: status.subscriptions,
    }).toEqual({ clients: sockets.length + 1, subscriptions: 17 });
    // ClickHouse: every table byte for byte
    expect(await clickHouseState()).toBe(baseline.ch);
    // every fuzzed connection is still connected and still subscribes (and gets a snapshot)
    current = new Failures();
    for (const s of sockets) {
      expect(s.socket.connected, s.name).toBe(true);
      const r = await s.request('subscribe', [SUBSCRIBE_BASES[0]]);
      expect(r, s.name).toEqual({
        ok: true,
        subscriptionId: expect.any(String),
      });
      const snap = s.snapshots.get(r.subscriptionId)!;
      expect(snap.candles.length, s.name).toBe(5);
      expect(await s.request('unsubscribe', [{ subscriptionId: r.subscriptionId }])).toEqual({
        ok: true,
        subscriptionId: r.subscriptionId,
      });
    }
    // the victim's subscriptions survived every hostile unsubscribe
    for (const id of victimIds)
      expect(await victim.request('unsubscribe', [{ subscriptionId: id }])).toEqual({ ok: true, subscriptionId: id });
    victimIds = [];
    expect(gw.runtime.hub.subscriptionCount).toBe(0);
    // and every endpoint still answers a valid request
    for (const ep of ENDPOINTS) {
      const q =
        ep.path === 'instruments'
          ? ''
          : ep.path === 'profile'
            ? 'exchange=binance&symbol=BTCUSDT&date=2024-08-08'
            : ep.path === 'tpo'
              ? 'exchange=binance&symbol=BTCUSDT&from=2024-08-08&to=2024-08-10'
              : `exchange=merged&symbol=BTC-USDT&timeframe=5m&from=${DATA_FROM}&to=${encode(new Date(DATA_TO).toISOString())}`;
      expect((await gatewayRequest(gw.url, `/api/${ep.path}?${q}`, current)).status, ep.path).toBe(200);
    }
  }, 120_000);
});
