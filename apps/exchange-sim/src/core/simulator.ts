import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { SimTrade } from '../trade.js';
import {
  FeedDriver,
  type FeedOptions,
  type FeedState,
  type ReplayReport,
} from './feed.js';
import { encodeTextFrames } from './frames.js';
import { readBody, sendJson } from './http.js';
import type { Market } from './market.js';

/** A connected WebSocket client. */
export interface SimClient {
  /** Connection id (Bybit `conn_id`, OKX `connId`). */
  readonly id: string;
  readonly ws: WebSocket;
  readonly url: URL;
  readonly connectedAt: number;
  /** Topics this client receives. */
  readonly topics: Set<string>;
  lastInbound: number;
  lastOutbound: number;
  /** When an unanswered server ping was sent (0 = none outstanding). */
  awaitingPongSince: number;
  nextPingAt: number;
  inboundWindow: number;
  inboundCount: number;
  /** Binance: frames wrapped as {"stream":..,"data":..}. */
  combined: boolean;
  /** Free-form protocol state. */
  readonly state: Record<string, unknown>;
}

/** What each exchange protocol plugs into the shared simulator. */
export interface ProtocolAdapter {
  readonly protocol: string;
  /** Whether a WebSocket upgrade to this path exists (else HTTP 404). */
  acceptPath(url: URL): boolean;
  onOpen(client: SimClient): void;
  onMessage(client: SimClient, text: string): void;
  /** Every produced trade in order, including the ones skipIds withholds from the WebSocket. */
  observe?(market: Market, trades: readonly SimTrade[]): void;
  /** Sends trades to the market's subscribers. */
  publish(market: Market, trades: readonly SimTrade[]): void;
  /** REST request; false when the path is not part of the protocol (HTTP 404). */
  handleRest(req: IncomingMessage, url: URL, res: ServerResponse): boolean;
  /** Full WebSocket endpoint URLs for printing, given the ws:// origin. */
  endpoints(wsOrigin: string): Record<string, string>;
  /** How idle clients are dropped (default: terminate). */
  readonly idleClose?: { readonly code: number; readonly reason: string };
}

export interface TimingOptions {
  /** Server-initiated WebSocket pings (Binance): interval in ms; 0 = none. */
  readonly pingIntervalMs?: number;
  /** Drop a client whose pong is this late (ms). */
  readonly pongTimeoutMs?: number;
  /** Drop a client after this long without traffic (Bybit 10 min, OKX 30 s); 0 = never. */
  readonly idleTimeoutMs?: number;
  /** Close connections older than this (Binance: 24 h); 0 = never. */
  readonly maxConnectionAgeMs?: number;
  /** Close clients sending more messages (incl. ping/pong frames) per second (Binance: 5 spot, 10 futures); 0 = no limit. */
  readonly maxIncomingPerSecond?: number;
}

export interface CommonSimOptions extends TimingOptions, FeedOptions {
  /** TCP port (default 0 = a free port). */
  readonly port?: number;
  /** Interface to bind (default 127.0.0.1). */
  readonly host?: string;
  /** Trades kept per market for REST (default 200,000). */
  readonly historyLimit?: number;
  /** Log lines (default: none). */
  readonly log?: (message: string) => void;
}

export interface MarketStats {
  readonly key: string;
  readonly symbol: string;
  readonly category: string;
  readonly produced: number;
  readonly historySize: number;
  readonly firstId: number | undefined;
  readonly lastId: number | undefined;
}

export interface SimStats {
  readonly protocol: string;
  readonly mode: 'live' | 'replay';
  readonly state: FeedState;
  /** Trades produced by the flow (WebSocket + REST history). */
  readonly tradesProduced: number;
  /** Trades handed to the WebSocket layer (produced minus skipped). */
  readonly tradesSent: number;
  /** Trades withheld from the WebSocket by skipIds. */
  readonly tradesSkipped: number;
  readonly skipPending: number;
  /** WebSocket data frames written to clients (trade frames, replies, malformed frames). */
  readonly framesSent: number;
  readonly clients: number;
  /** Clients with at least one subscription. */
  readonly subscribedClients: number;
  /** Total (client, topic) subscriptions. */
  readonly subscriptions: number;
  readonly topics: Readonly<Record<string, number>>;
  readonly pingsStalledUntil: number | null;
  readonly droppedClients: number;
  readonly markets: readonly MarketStats[];
}

/** Fault injection and flow control, also reachable as POST /__sim/<action>. */
export interface SimControls {
  /** Closes every client socket abruptly (no close frame). Returns how many. */
  dropConnections(): number;
  /** The next `n` trades (of `symbol`, or of any market) are not sent on the WebSocket but are in REST history. */
  skipIds(n: number, symbol?: string): void;
  /** Sends `text` as a raw text frame to every client. Returns how many received it. */
  sendMalformed(text: string): number;
  /** Stops sending server pings and answering client pings (WebSocket and protocol-level) for `ms`. */
  stallPings(ms: number): void;
  pause(): void;
  resume(): void;
  stats(): SimStats;
  /** Resolves once `n` clients have at least one subscription. */
  waitForClients(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves when a replay (or a finite source) has sent its last trade and the sockets drained. */
  replayFinished(): Promise<ReplayReport>;
  /** The REST history of a market (symbol as the venue spells it; category for Bybit "linear"). */
  history(symbol: string, category?: string): readonly SimTrade[];
}

export interface SimHandle {
  readonly protocol: string;
  readonly port: number;
  readonly host: string;
  /** ws://host:port (append the venue's paths, or use `endpoints`). */
  readonly wsUrl: string;
  /** http://host:port */
  readonly restUrl: string;
  /** Full WebSocket endpoint URLs, e.g. { raw: "ws://127.0.0.1:9101/ws", combined: ".../stream" }. */
  readonly endpoints: Readonly<Record<string, string>>;
  readonly markets: readonly string[];
  readonly controls: SimControls;
  stop(): Promise<void>;
}

interface Waiter {
  readonly n: number;
  readonly resolve: () => void;
}

/**
 * The protocol-independent part of every simulator: one node:http server carrying the REST API,
 * the WebSocket endpoints (ws), /health and the /__sim control API; client bookkeeping,
 * subscriptions, keep-alive rules, fault injection and the trade flow into history and sockets.
 */
export class SimulatorCore {
  private adapter!: ProtocolAdapter;
  private _markets: Market[] = [];
  private feed!: FeedDriver;
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<SimClient>();
  private readonly topicIndex = new Map<string, Set<SimClient>>();
  private waiters: Waiter[] = [];
  private housekeeping: NodeJS.Timeout | undefined;
  private stalledUntil = 0;
  private skipPending = 0;
  private skipMarket: string | undefined;
  private counters = {
    produced: 0,
    sent: 0,
    skipped: 0,
    frames: 0,
    dropped: 0,
  };
  private readonly startedAt = Date.now();
  private stopped = false;
  /** Cached wall clock for hot paths, refreshed per batch / message / housekeeping tick. */
  now = Date.now();
  readonly log: (message: string) => void;

  constructor(readonly options: CommonSimOptions) {
    this.log = options.log ?? (() => undefined);
    this.server = createServer((req, res) => this.onHttp(req, res));
    this.server.keepAliveTimeout = 5000;
    this.wss = new WebSocketServer({
      noServer: true,
      autoPong: false,
      perMessageDeflate: false,
      maxPayload: 1024 * 1024,
    });
    this.server.on(
      'upgrade',
      (req: IncomingMessage, socket: Duplex, head: Buffer) =>
        this.onUpgrade(req, socket, head),
    );
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  get markets(): readonly Market[] {
    return this._markets;
  }

  /** The market with this key, or the first one whose symbol matches. */
  market(key: string): Market | undefined {
    return (
      this._markets.find((m) => m.key === key) ??
      this._markets.find((m) => m.symbol === key)
    );
  }

  get pingsStalled(): boolean {
    return this.stalledUntil > Date.now();
  }

  attach(adapter: ProtocolAdapter, markets: Market[]): void {
    this.adapter = adapter;
    this._markets = markets;
    this.feed = new FeedDriver(
      {
        produce: (m, t) => this.produce(m, t),
        waitForClients: (n) => this.waitForClients(n),
        maxBufferedAmount: () => this.maxBufferedAmount(),
        log: this.log,
      },
      markets,
      this.options,
    );
  }

  async listen(): Promise<SimHandle> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const port = (this.server.address() as AddressInfo).port;
    const shownHost =
      host === '0.0.0.0' || host === '::'
        ? '127.0.0.1'
        : host.includes(':')
          ? `[${host}]`
          : host;
    const wsUrl = `ws://${shownHost}:${port}`;
    const restUrl = `http://${shownHost}:${port}`;
    this.startHousekeeping();
    this.feed.start();
    return {
      protocol: this.adapter.protocol,
      port,
      host,
      wsUrl,
      restUrl,
      endpoints: this.adapter.endpoints(wsUrl),
      markets: this._markets.map((m) => m.key),
      controls: this.controls(),
      stop: () => this.stop(),
    };
  }

  // ---- trade flow -------------------------------------------------------------------------

  produce(market: Market, trades: SimTrade[]): void {
    this.now = Date.now();
    market.history.push(trades);
    market.produced += trades.length;
    this.counters.produced += trades.length;
    let skip = 0;
    if (
      this.skipPending > 0 &&
      (this.skipMarket === undefined || this.skipMarket === market.key)
    ) {
      skip = Math.min(this.skipPending, trades.length);
      this.skipPending -= skip;
      if (this.skipPending === 0) this.skipMarket = undefined;
      this.counters.skipped += skip;
    }
    this.adapter.observe?.(market, trades);
    const deliver = skip > 0 ? trades.slice(skip) : trades;
    if (deliver.length > 0) {
      this.counters.sent += deliver.length;
      this.adapter.publish(market, deliver);
    }
  }

  // ---- clients and subscriptions ----------------------------------------------------------

  /** Writes a text frame to one client. */
  send(client: SimClient, text: string): void {
    if (client.ws.readyState !== WebSocket.OPEN) return;
    client.ws.send(text);
    client.lastOutbound = this.now;
    this.counters.frames++;
  }

  /**
   * Writes several text frames to one client in one socket write: the frames are encoded into a
   * single buffer (encodeTextFrames) and written past ws's sender, which is safe because the
   * server never compresses (perMessageDeflate off), so ws writes every frame synchronously and
   * the stream is always at a frame boundary between calls. ws.send would cost two stream writes
   * (header and payload) per frame, corked or not.
   */
  sendMany(client: SimClient, texts: readonly string[]): void {
    if (client.ws.readyState !== WebSocket.OPEN || texts.length === 0) return;
    const socket = (client.ws as unknown as { _socket?: Socket })._socket;
    if (socket && !socket.destroyed) {
      socket.write(encodeTextFrames(texts));
    } else {
      for (let i = 0; i < texts.length; i++) client.ws.send(texts[i]!);
    }
    client.lastOutbound = this.now;
    this.counters.frames += texts.length;
  }

  /** Writes frames already encoded (FrameWriter) to one client; `frames` = how many. */
  sendEncoded(client: SimClient, data: Buffer, frames: number): void {
    if (client.ws.readyState !== WebSocket.OPEN || frames === 0) return;
    const socket = (client.ws as unknown as { _socket?: Socket })._socket;
    if (!socket || socket.destroyed) return;
    socket.write(data);
    client.lastOutbound = this.now;
    this.counters.frames += frames;
  }

  subscribers(topic: string): ReadonlySet<SimClient> | undefined {
    return this.topicIndex.get(topic);
  }

  subscribe(client: SimClient, topic: string): void {
    if (client.topics.has(topic)) return;
    client.topics.add(topic);
    let set = this.topicIndex.get(topic);
    if (!set) this.topicIndex.set(topic, (set = new Set()));
    set.add(client);
    this.checkWaiters();
  }

  unsubscribe(client: SimClient, topic: string): void {
    if (!client.topics.delete(topic)) return;
    const set = this.topicIndex.get(topic);
    set?.delete(client);
    if (set && set.size === 0) this.topicIndex.delete(topic);
  }

  private subscribedClients(): number {
    let n = 0;
    for (const c of this.clients) if (c.topics.size > 0) n++;
    return n;
  }

  waitForClients(n: number, timeoutMs?: number): Promise<void> {
    if (this.subscribedClients() >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        n,
        resolve: () => {
          if (timer) clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
      if (timeoutMs !== undefined && timeoutMs > 0) {
        timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(
            new Error(
              `waitForClients(${n}): only ${this.subscribedClients()} subscribed client(s) after ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
      }
    });
  }

  private checkWaiters(): void {
    if (this.waiters.length === 0) return;
    const have = this.subscribedClients();
    const ready = this.waiters.filter((w) => w.n <= have);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.n > have);
    for (const w of ready) w.resolve();
  }

  maxBufferedAmount(): number {
    let max = 0;
    for (const c of this.clients)
      if (c.ws.bufferedAmount > max) max = c.ws.bufferedAmount;
    return max;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (this.stopped || !this.adapter.acceptPath(url)) {
      socket.end(
        'HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) =>
      this.onConnection(ws, url),
    );
  }

  private onConnection(ws: WebSocket, url: URL): void {
    const now = Date.now();
    const client: SimClient = {
      id: randomUUID(),
      ws,
      url,
      connectedAt: now,
      topics: new Set(),
      lastInbound: now,
      lastOutbound: now,
      awaitingPongSince: 0,
      nextPingAt: now + (this.options.pingIntervalMs ?? 0),
      inboundWindow: 0,
      inboundCount: 0,
      combined: false,
      state: {},
    };
    this.clients.add(client);
    ws.on('message', (data: RawData) => {
      this.now = Date.now();
      client.lastInbound = this.now;
      if (!this.countInbound(client)) return;
      this.adapter.onMessage(client, rawToText(data));
    });
    ws.on('ping', (data: Buffer) => {
      client.lastInbound = Date.now();
      if (!this.countInbound(client)) return;
      if (!this.pingsStalled && ws.readyState === WebSocket.OPEN) ws.pong(data);
    });
    ws.on('pong', () => {
      client.lastInbound = Date.now();
      client.awaitingPongSince = 0;
      this.countInbound(client);
    });
    ws.on('close', () => this.forget(client));
    ws.on('error', () => this.forget(client));
    this.adapter.onOpen(client);
  }

  /** Counts an incoming message against the per-second limit; false if the client was closed for it. */
  private countInbound(client: SimClient): boolean {
    const max = this.options.maxIncomingPerSecond ?? 0;
    if (max <= 0) return true;
    const window = Math.floor(Date.now() / 1000);
    if (client.inboundWindow !== window) {
      client.inboundWindow = window;
      client.inboundCount = 0;
    }
    if (++client.inboundCount > max) {
      this.log(
        `client ${client.id}: more than ${max} messages per second, closing`,
      );
      client.ws.close(1008, 'Too many requests');
      return false;
    }
    return true;
  }

  private forget(client: SimClient): void {
    if (!this.clients.delete(client)) return;
    for (const topic of [...client.topics]) this.unsubscribe(client, topic);
  }

  private drop(
    client: SimClient,
    how: 'terminate' | { code: number; reason: string },
  ): void {
    this.counters.dropped++;
    if (how === 'terminate') client.ws.terminate();
    else client.ws.close(how.code, how.reason);
    this.forget(client);
  }

  // ---- keep-alive -------------------------------------------------------------------------

  private startHousekeeping(): void {
    const o = this.options;
    const periods = [
      o.pingIntervalMs,
      o.pongTimeoutMs,
      o.idleTimeoutMs,
      o.maxConnectionAgeMs,
    ].filter((v): v is number => v !== undefined && v > 0);
    if (periods.length === 0) return;
    const every = Math.max(
      5,
      Math.min(1000, Math.floor(Math.min(...periods) / 4)),
    );
    this.housekeeping = setInterval(() => this.keepAlive(), every);
  }

  private keepAlive(): void {
    const now = (this.now = Date.now());
    const o = this.options;
    const stalled = this.pingsStalled;
    for (const c of [...this.clients]) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      if (o.maxConnectionAgeMs && now - c.connectedAt > o.maxConnectionAgeMs) {
        this.drop(c, { code: 1000, reason: 'connection lifetime exceeded' });
        continue;
      }
      if (o.pingIntervalMs && o.pingIntervalMs > 0) {
        if (
          c.awaitingPongSince > 0 &&
          o.pongTimeoutMs &&
          now - c.awaitingPongSince > o.pongTimeoutMs
        ) {
          this.log(
            `client ${c.id}: no pong for ${now - c.awaitingPongSince} ms, dropping`,
          );
          this.drop(c, 'terminate');
          continue;
        }
        if (!stalled && now >= c.nextPingAt) {
          c.ws.ping();
          if (c.awaitingPongSince === 0) c.awaitingPongSince = now;
          c.nextPingAt = now + o.pingIntervalMs;
        }
      }
      if (
        o.idleTimeoutMs &&
        o.idleTimeoutMs > 0 &&
        now - Math.max(c.lastInbound, c.lastOutbound) > o.idleTimeoutMs
      ) {
        this.log(`client ${c.id}: idle for ${o.idleTimeoutMs} ms, dropping`);
        this.drop(c, this.adapter.idleClose ?? 'terminate');
      }
    }
  }

  // ---- HTTP ------------------------------------------------------------------------------

  private onHttp(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    this.now = Date.now();
    try {
      if (url.pathname === '/health') {
        sendJson(res, 200, {
          status: 'ok',
          protocol: this.adapter.protocol,
          uptimeMs: Date.now() - this.startedAt,
          state: this.feed.state,
        });
        return;
      }
      if (url.pathname.startsWith('/__sim/')) {
        void this.onControl(req, url, res);
        return;
      }
      if (!this.adapter.handleRest(req, url, res))
        sendJson(res, 404, {
          error: `no such endpoint: ${req.method ?? 'GET'} ${url.pathname}`,
        });
    } catch (e) {
      this.log(`HTTP ${url.pathname}: ${(e as Error).stack ?? String(e)}`);
      if (!res.headersSent) sendJson(res, 500, { error: (e as Error).message });
    }
  }

  private async onControl(
    req: IncomingMessage,
    url: URL,
    res: ServerResponse,
  ): Promise<void> {
    const action = url.pathname.slice('/__sim/'.length).toLowerCase();
    const body =
      req.method === 'POST' ? await readBody(req).catch(() => '') : '';
    let json: Record<string, unknown> = {};
    if (body.trim().startsWith('{')) {
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        json = {};
      }
    }
    const param = (name: string): string | undefined => {
      const q = url.searchParams.get(name);
      if (q !== null) return q;
      const v = json[name];
      return v === undefined || v === null ? undefined : String(v);
    };
    const num = (name: string, fallback?: number): number => {
      const v = param(name);
      const n = v === undefined ? fallback : Number(v);
      if (n === undefined || !Number.isFinite(n) || n < 0)
        throw new Error(`parameter "${name}" must be a non-negative number`);
      return n;
    };
    const c = this.controls();
    try {
      if (req.method !== 'POST' && action !== 'stats') {
        sendJson(res, 405, { ok: false, error: 'use POST' });
        return;
      }
      switch (action) {
        case 'dropconnections':
          sendJson(res, 200, { ok: true, dropped: c.dropConnections() });
          return;
        case 'skipids': {
          const symbol = param('symbol');
          c.skipIds(num('n'), symbol);
          sendJson(res, 200, { ok: true, skipPending: this.skipPending });
          return;
        }
        case 'sendmalformed': {
          const text = url.searchParams.get('text') ?? body;
          sendJson(res, 200, { ok: true, clients: c.sendMalformed(text) });
          return;
        }
        case 'stallpings':
          c.stallPings(num('ms'));
          sendJson(res, 200, { ok: true, stalledUntil: this.stalledUntil });
          return;
        case 'pause':
          c.pause();
          sendJson(res, 200, { ok: true, state: this.feed.state });
          return;
        case 'resume':
          c.resume();
          sendJson(res, 200, { ok: true, state: this.feed.state });
          return;
        case 'stats':
          sendJson(res, 200, { ok: true, ...c.stats() });
          return;
        case 'waitforclients':
          await c.waitForClients(num('n', 1), num('timeoutMs', 30_000));
          sendJson(res, 200, {
            ok: true,
            subscribedClients: this.subscribedClients(),
          });
          return;
        case 'replayfinished': {
          const timeoutMs = num('timeoutMs', 60_000);
          const report = await Promise.race([
            c.replayFinished(),
            new Promise<never>((_, reject) =>
              setTimeout(
                () =>
                  reject(
                    new Error(`replay not finished after ${timeoutMs} ms`),
                  ),
                timeoutMs,
              ).unref(),
            ),
          ]);
          sendJson(res, 200, { ok: true, ...report });
          return;
        }
        default:
          sendJson(res, 404, {
            ok: false,
            error: `unknown action "${action}"`,
            actions: [
              'dropConnections',
              'skipIds',
              'sendMalformed',
              'stallPings',
              'pause',
              'resume',
              'stats',
              'waitForClients',
              'replayFinished',
            ],
          });
      }
    } catch (e) {
      if (!res.headersSent)
        sendJson(res, 400, { ok: false, error: (e as Error).message });
    }
  }

  // ---- controls --------------------------------------------------------------------------

  controls(): SimControls {
    return {
      dropConnections: () => {
        const all = [...this.clients];
        for (const c of all) this.drop(c, 'terminate');
        return all.length;
      },
      skipIds: (n, symbol) => {
        if (!Number.isInteger(n) || n < 0)
          throw new Error(
            `skipIds: n must be a non-negative integer, got ${n}`,
          );
        if (symbol !== undefined) {
          const m = this.market(symbol);
          if (!m)
            throw new Error(
              `skipIds: unknown market "${symbol}" (markets: ${this._markets.map((x) => x.key).join(', ')})`,
            );
          this.skipMarket = m.key;
        } else {
          this.skipMarket = undefined;
        }
        this.skipPending = n;
      },
      sendMalformed: (text) => {
        this.now = Date.now();
        let n = 0;
        for (const c of this.clients) {
          if (c.ws.readyState !== WebSocket.OPEN) continue;
          this.send(c, text);
          n++;
        }
        return n;
      },
      stallPings: (ms) => {
        this.stalledUntil = ms > 0 ? Date.now() + ms : 0;
      },
      pause: () => this.feed.pause(),
      resume: () => this.feed.resume(),
      stats: () => this.stats(),
      waitForClients: (n, timeoutMs) => this.waitForClients(n, timeoutMs),
      replayFinished: () => this.feed.finished(),
      history: (symbol, category) => {
        const m =
          category === undefined
            ? this.market(symbol)
            : this._markets.find(
                (x) => x.symbol === symbol && x.category === category,
              );
        if (!m) throw new Error(`unknown market "${symbol}"`);
        return m.history.slice(0, m.history.size);
      },
    };
  }

  stats(): SimStats {
    const topics: Record<string, number> = {};
    let subscriptions = 0;
    for (const [topic, set] of this.topicIndex) {
      topics[topic] = set.size;
      subscriptions += set.size;
    }
    return {
      protocol: this.adapter.protocol,
      mode: this.options.mode ?? 'live',
      state: this.feed.state,
      tradesProduced: this.counters.produced,
      tradesSent: this.counters.sent,
      tradesSkipped: this.counters.skipped,
      skipPending: this.skipPending,
      framesSent: this.counters.frames,
      clients: this.clients.size,
      subscribedClients: this.subscribedClients(),
      subscriptions,
      topics,
      pingsStalledUntil:
        this.stalledUntil > Date.now() ? this.stalledUntil : null,
      droppedClients: this.counters.dropped,
      markets: this._markets.map((m) => ({
        key: m.key,
        symbol: m.symbol,
        category: m.category,
        produced: m.produced,
        historySize: m.history.size,
        firstId: m.history.first()?.id,
        lastId: m.history.last()?.id,
      })),
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.feed.stop();
    if (this.housekeeping) clearInterval(this.housekeeping);
    for (const c of [...this.clients]) {
      c.ws.terminate();
      this.forget(c);
    }
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function rawToText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
