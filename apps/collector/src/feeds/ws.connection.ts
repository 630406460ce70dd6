import { Backoff, type BackoffOptions } from '@orderflow/resilience';
import WebSocket from 'ws';
import type { FeedLogger } from './feed.types.js';

export interface WsConnectionOptions {
  /** For logs: "binance connection 1". */
  name: string;
  url: string;
  logger: FeedLogger;
  backoff?: BackoffOptions;
  /** Nothing received for this long (not even a ping) means a dead connection: reconnect. */
  idleTimeoutMs: number;
  /** Application-level keep-alive for exchanges that want one (Bybit {"op":"ping"}, OKX "ping"). */
  appPing?: { intervalMs: number; payload: string };
  /**
   * Replace the connection this long after it opened, before the exchange cuts it (Binance: 24 h):
   * the new one opens first and the old one closes once the new one delivers, so nothing is
   * missed; the overlap's repeats are dropped downstream by trade id.
   */
  plannedReconnectMs?: number;
  /** Called on every (re)connect: send subscriptions here. */
  onOpen?: (send: (text: string) => void) => void;
  onMessage: (text: string, receivedAtMs: number) => void;
  /** Called after the connection was lost (not on planned replacement or stop()). */
  onDisconnect?: (reason: string) => void;
  onReconnect?: () => void;
}

/**
 * One WebSocket to an exchange with everything a production feed needs around it: pong to the
 * server's pings (ws does this itself), idle detection, optional application pings, reconnect with
 * the shared backoff and jitter, planned replacement, and pause/resume for backpressure.
 */
export class WsConnection {
  private ws: WebSocket | null = null;
  /** A planned replacement opened but not yet delivering (see open()). */
  private replacement: WebSocket | null = null;
  private stopped = true;
  private paused = false;
  private readonly backoff: Backoff;
  private idleTimer: NodeJS.Timeout | null = null;
  private lastReceivedAt = 0;
  private pingTimer: NodeJS.Timeout | null = null;
  private plannedTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private everConnected = false;
  reconnects = 0;

  constructor(private readonly o: WsConnectionOptions) {
    this.backoff = new Backoff(o.backoff);
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    // a planned replacement still opening is dropped: nothing may arrive after stop()
    this.replacement?.terminate();
    this.replacement = null;
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(1000, 'collector stopping');
        setTimeout(() => {
          ws.terminate();
          resolve();
        }, 2000).unref();
      });
    }
  }

  /** Stop reading from the socket (TCP backpressure reaches the exchange) until resume(). */
  pause(): void {
    this.paused = true;
    this.ws?.pause();
  }

  resume(): void {
    this.paused = false;
    this.ws?.resume();
    this.lastReceivedAt = Date.now(); // the pause was ours, not the exchange's silence
  }

  private open(replacing?: WebSocket): void {
    const ws = new WebSocket(this.o.url, { perMessageDeflate: false, handshakeTimeout: 15_000 });
    let delivered = false;
    const isCurrent = () => this.ws === ws;
    if (!replacing) this.ws = ws;
    else this.replacement = ws;

    ws.on('open', () => {
      this.o.logger.log(`${this.o.name}: connected to ${this.o.url}`);
      if (!replacing) {
        this.everConnected = true;
        this.armTimers(ws);
      }
      if (this.paused) ws.pause();
      this.o.onOpen?.((text) => ws.send(text));
    });
    ws.on('message', (data: WebSocket.RawData) => {
      if (this.stopped) return;
      const receivedAt = Date.now();
      if (replacing && !delivered) {
        // The replacement delivers: it becomes the connection, the old one is closed quietly.
        delivered = true;
        this.replacement = null;
        const old = this.ws;
        this.ws = ws;
        this.armTimers(ws);
        // The old socket's close handler sees it is no longer current and does nothing.
        if (old && old !== ws) old.close(1000, 'planned reconnect');
        this.o.logger.log(`${this.o.name}: planned reconnect done`);
      }
      if (isCurrent() || (replacing && !delivered)) this.touch();
      this.o.onMessage(typeof data === 'string' ? data : data.toString(), receivedAt);
    });
    ws.on('ping', () => this.touch());
    ws.on('pong', () => this.touch());
    ws.on('error', (e) => this.o.logger.warn(`${this.o.name}: ${e.message}`));
    ws.on('close', (code, reason) => {
      if (replacing && !delivered) {
        if (this.replacement === ws) this.replacement = null;
        if (this.stopped) return;
        this.o.logger.warn(
          `${this.o.name}: replacement connection closed before delivering (${code}); keeping the old one`,
        );
        this.schedulePlanned();
        return;
      }
      if (!isCurrent() || this.stopped) return;
      this.ws = null;
      this.clearTimers();
      const why = `closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`;
      this.o.logger.warn(`${this.o.name}: ${why}`);
      this.o.onDisconnect?.(why);
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = this.backoff.next();
    this.o.logger.log(`${this.o.name}: reconnecting in ${delay} ms (attempt ${this.backoff.attempts})`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopped) return;
      this.reconnects++;
      this.o.onReconnect?.();
      this.open();
    }, delay);
  }

  private armTimers(ws: WebSocket): void {
    this.clearTimers();
    this.armIdleCheck(ws);
    if (this.o.appPing) {
      const { intervalMs, payload } = this.o.appPing;
      this.pingTimer = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send(payload);
      }, intervalMs);
    }
    this.schedulePlanned();
  }

  private schedulePlanned(): void {
    if (this.plannedTimer) clearTimeout(this.plannedTimer);
    this.plannedTimer = null;
    if (!this.o.plannedReconnectMs || this.stopped) return;
    this.plannedTimer = setTimeout(() => {
      this.plannedTimer = null;
      if (this.stopped || !this.ws) return;
      this.o.logger.log(`${this.o.name}: planned reconnect (before the exchange's connection cut-off)`);
      this.open(this.ws);
    }, this.o.plannedReconnectMs);
  }

  /**
   * Something arrived: the connection is alive, and reconnect delays start from the beginning.
   * Runs for every frame, so it only stores a time; one interval timer per connection compares
   * it with the idle limit (re-arming a timeout per frame costs more than parsing the frame).
   */
  private touch(): void {
    this.lastReceivedAt = Date.now();
    if (this.everConnected && this.backoff.attempts > 0) this.backoff.reset();
  }

  private armIdleCheck(ws: WebSocket): void {
    this.touch();
    const every = Math.max(250, Math.floor(this.o.idleTimeoutMs / 4));
    this.idleTimer = setInterval(() => {
      if (this.paused || this.stopped || this.ws !== ws) return;
      if (Date.now() - this.lastReceivedAt < this.o.idleTimeoutMs) return;
      this.o.logger.warn(`${this.o.name}: nothing received for ${this.o.idleTimeoutMs} ms, reconnecting`);
      ws.terminate();
    }, every);
  }

  private clearTimers(): void {
    for (const t of [this.reconnectTimer, this.plannedTimer]) if (t) clearTimeout(t);
    for (const t of [this.pingTimer, this.idleTimer]) if (t) clearInterval(t);
    this.idleTimer = this.pingTimer = this.plannedTimer = this.reconnectTimer = null;
  }
}
