import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { SimTrade } from '../trade.js';
import { ClientRegistry } from './clients.js';
import { handleControl } from './control-api.js';
import { FeedDriver } from './feed.js';
import { encodeTextFrames } from './frames.js';
import { sendJson } from './http.js';
import { KeepAlive } from './keep-alive.js';
import type { Market } from './market.js';
import type {
  CommonSimOptions,
  ProtocolAdapter,
  SimClient,
  SimControls,
  SimHandle,
  SimStats,
} from './simulator.types.js';
import { TradeFlow } from './trade-flow.js';

/**
 * The protocol-independent part of every simulator: one node:http server carrying the REST API,
 * the WebSocket endpoints (ws), /health and the /__sim control API. It connects its parts: the
 * clients and their subscriptions (ClientRegistry), the keep-alive rules (KeepAlive), the trade
 * flow into history and sockets (TradeFlow, fed by FeedDriver), the controls and their HTTP face
 * (control-api); and writes frames to clients for the protocol.
 */
export class SimulatorCore {
  private adapter!: ProtocolAdapter;
  private _markets: Market[] = [];
  private feed!: FeedDriver;
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new ClientRegistry();
  private readonly keepAlive: KeepAlive;
  private readonly flow = new TradeFlow();
  /** WebSocket data frames written to clients. */
  private frames = 0;
  private readonly startedAt = Date.now();
  private stopped = false;
  /** Cached wall clock for hot paths, refreshed per batch / message / housekeeping tick. */
  now = Date.now();
  readonly log: (message: string) => void;

  constructor(readonly options: CommonSimOptions) {
    this.log = options.log ?? (() => undefined);
    this.keepAlive = new KeepAlive(options, this.clients, {
      clock: () => (this.now = Date.now()),
      idleClose: () => this.adapter.idleClose,
      log: this.log,
    });
    this.server = createServer((req, res) => this.onHttp(req, res));
    this.server.keepAliveTimeout = 5000;
    this.wss = new WebSocketServer({
      noServer: true,
      autoPong: false,
      perMessageDeflate: false,
      maxPayload: 1024 * 1024,
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  get markets(): readonly Market[] {
    return this._markets;
  }

  /** The market with this key, or the first one whose symbol matches. */
  market(key: string): Market | undefined {
    return this._markets.find((m) => m.key === key) ?? this._markets.find((m) => m.symbol === key);
  }

  get pingsStalled(): boolean {
    return this.keepAlive.pingsStalled;
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
    const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    const wsUrl = `ws://${shownHost}:${port}`;
    const restUrl = `http://${shownHost}:${port}`;
    this.keepAlive.start();
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

  produce(market: Market, trades: SimTrade[]): void {
    this.now = Date.now();
    this.flow.produce(this.adapter, market, trades);
  }

  // ---- frames to clients, and subscriptions, for the protocol ------------------------------

  /** Writes a text frame to one client. */
  send(client: SimClient, text: string): void {
    if (client.ws.readyState !== WebSocket.OPEN) return;
    client.ws.send(text);
    client.lastOutbound = this.now;
    this.frames++;
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
    this.frames += texts.length;
  }

  /** Writes frames already encoded (FrameWriter) to one client; `frames` = how many. */
  sendEncoded(client: SimClient, data: Buffer, frames: number): void {
    if (client.ws.readyState !== WebSocket.OPEN || frames === 0) return;
    const socket = (client.ws as unknown as { _socket?: Socket })._socket;
    if (!socket || socket.destroyed) return;
    socket.write(data);
    client.lastOutbound = this.now;
    this.frames += frames;
  }

  subscribers(topic: string): ReadonlySet<SimClient> | undefined {
    return this.clients.subscribers(topic);
  }

  subscribe(client: SimClient, topic: string): void {
    this.clients.subscribe(client, topic);
  }

  unsubscribe(client: SimClient, topic: string): void {
    this.clients.unsubscribe(client, topic);
  }

  waitForClients(n: number, timeoutMs?: number): Promise<void> {
    return this.clients.waitForClients(n, timeoutMs);
  }

  maxBufferedAmount(): number {
    return this.clients.maxBufferedAmount();
  }

  // ---- connections -----------------------------------------------------------------------

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (this.stopped || !this.adapter.acceptPath(url)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, url));
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
      if (!this.keepAlive.countInbound(client)) return;
      this.adapter.onMessage(client, rawToText(data));
    });
    ws.on('ping', (data: Buffer) => {
      client.lastInbound = Date.now();
      if (!this.keepAlive.countInbound(client)) return;
      if (!this.pingsStalled && ws.readyState === WebSocket.OPEN) ws.pong(data);
    });
    ws.on('pong', () => {
      client.lastInbound = Date.now();
      client.awaitingPongSince = 0;
      this.keepAlive.countInbound(client);
    });
    ws.on('close', () => this.clients.forget(client));
    ws.on('error', () => this.clients.forget(client));
    this.adapter.onOpen(client);
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
        void handleControl(req, url, res, this.controls(), {
          skipPending: () => this.flow.skipPending,
          stalledUntil: () => this.keepAlive.stalledUntilMs,
          feedState: () => this.feed.state,
          subscribedClients: () => this.clients.subscribedClients(),
        });
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

  // ---- controls --------------------------------------------------------------------------

  controls(): SimControls {
    return {
      dropConnections: () => {
        const all = [...this.clients.all];
        for (const c of all) this.clients.drop(c, 'terminate');
        return all.length;
      },
      skipIds: (n, symbol) => {
        if (!Number.isInteger(n) || n < 0) throw new Error(`skipIds: n must be a non-negative integer, got ${n}`);
        let key: string | undefined;
        if (symbol !== undefined) {
          const m = this.market(symbol);
          if (!m)
            throw new Error(
              `skipIds: unknown market "${symbol}" (markets: ${this._markets.map((x) => x.key).join(', ')})`,
            );
          key = m.key;
        }
        this.flow.skip(n, key);
      },
      sendMalformed: (text) => {
        this.now = Date.now();
        let n = 0;
        for (const c of this.clients.all) {
          if (c.ws.readyState !== WebSocket.OPEN) continue;
          this.send(c, text);
          n++;
        }
        return n;
      },
      stallPings: (ms) => this.keepAlive.stallPings(ms),
      pause: () => this.feed.pause(),
      resume: () => this.feed.resume(),
      stats: () => this.stats(),
      waitForClients: (n, timeoutMs) => this.waitForClients(n, timeoutMs),
      replayFinished: () => this.feed.finished(),
      history: (symbol, category) => {
        const m =
          category === undefined
            ? this.market(symbol)
            : this._markets.find((x) => x.symbol === symbol && x.category === category);
        if (!m) throw new Error(`unknown market "${symbol}"`);
        return m.history.slice(0, m.history.size);
      },
    };
  }

  stats(): SimStats {
    const { topics, subscriptions } = this.clients.topics();
    const stalledUntil = this.keepAlive.stalledUntilMs;
    return {
      protocol: this.adapter.protocol,
      mode: this.options.mode ?? 'live',
      state: this.feed.state,
      tradesProduced: this.flow.produced,
      tradesSent: this.flow.sent,
      tradesSkipped: this.flow.skipped,
      skipPending: this.flow.skipPending,
      framesSent: this.frames,
      clients: this.clients.all.size,
      subscribedClients: this.clients.subscribedClients(),
      subscriptions,
      topics,
      pingsStalledUntil: stalledUntil > Date.now() ? stalledUntil : null,
      droppedClients: this.clients.dropped,
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
    this.keepAlive.stop();
    for (const c of [...this.clients.all]) {
      c.ws.terminate();
      this.clients.forget(c);
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
