/**
 * The rules a venue applies to every connection: server pings and the pong timeout, the idle
 * timeout, the maximum connection age, and the limit on incoming messages per second; plus the
 * stallPings fault (no server pings and no answers to client pings for a while).
 */
import { WebSocket } from 'ws';
import type { ClientRegistry } from './clients.js';
import type { ProtocolAdapter, SimClient, TimingOptions } from './simulator.types.js';

export interface KeepAliveHooks {
  /** Refreshes the simulator's cached clock and returns it. */
  clock(): number;
  /** How the protocol closes an idle client (default: terminate). */
  idleClose(): ProtocolAdapter['idleClose'];
  log(message: string): void;
}

export class KeepAlive {
  private timer: NodeJS.Timeout | undefined;
  private stalledUntil = 0;

  constructor(
    private readonly options: TimingOptions,
    private readonly clients: ClientRegistry,
    private readonly hooks: KeepAliveHooks,
  ) {}

  get pingsStalled(): boolean {
    return this.stalledUntil > Date.now();
  }

  /** When the stall of stallPings ends (0: none set). */
  get stalledUntilMs(): number {
    return this.stalledUntil;
  }

  /** Stops sending server pings and answering client pings for `ms` (0: resume now). */
  stallPings(ms: number): void {
    this.stalledUntil = ms > 0 ? Date.now() + ms : 0;
  }

  /** Starts the periodic check, at a quarter of the shortest period (5 ms..1 s); none without periods. */
  start(): void {
    const o = this.options;
    const periods = [o.pingIntervalMs, o.pongTimeoutMs, o.idleTimeoutMs, o.maxConnectionAgeMs].filter(
      (v): v is number => v !== undefined && v > 0,
    );
    if (periods.length === 0) return;
    const every = Math.max(5, Math.min(1000, Math.floor(Math.min(...periods) / 4)));
    this.timer = setInterval(() => this.check(), every);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Counts an incoming message against the per-second limit; false if the client was closed for it. */
  countInbound(client: SimClient): boolean {
    const max = this.options.maxIncomingPerSecond ?? 0;
    if (max <= 0) return true;
    const window = Math.floor(Date.now() / 1000);
    if (client.inboundWindow !== window) {
      client.inboundWindow = window;
      client.inboundCount = 0;
    }
    if (++client.inboundCount > max) {
      this.hooks.log(`client ${client.id}: more than ${max} messages per second, closing`);
      client.ws.close(1008, 'Too many requests');
      return false;
    }
    return true;
  }

  private check(): void {
    const now = this.hooks.clock();
    const o = this.options;
    const stalled = this.pingsStalled;
    for (const c of [...this.clients.all]) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      if (o.maxConnectionAgeMs && now - c.connectedAt > o.maxConnectionAgeMs) {
        this.clients.drop(c, {
          code: 1000,
          reason: 'connection lifetime exceeded',
        });
        continue;
      }
      if (o.pingIntervalMs && o.pingIntervalMs > 0) {
        if (c.awaitingPongSince > 0 && o.pongTimeoutMs && now - c.awaitingPongSince > o.pongTimeoutMs) {
          this.hooks.log(`client ${c.id}: no pong for ${now - c.awaitingPongSince} ms, dropping`);
          this.clients.drop(c, 'terminate');
          continue;
        }
        if (!stalled && now >= c.nextPingAt) {
          c.ws.ping();
          if (c.awaitingPongSince === 0) c.awaitingPongSince = now;
          c.nextPingAt = now + o.pingIntervalMs;
        }
      }
      if (o.idleTimeoutMs && o.idleTimeoutMs > 0 && now - Math.max(c.lastInbound, c.lastOutbound) > o.idleTimeoutMs) {
        this.hooks.log(`client ${c.id}: idle for ${o.idleTimeoutMs} ms, dropping`);
        this.clients.drop(c, this.hooks.idleClose() ?? 'terminate');
      }
    }
  }
}
