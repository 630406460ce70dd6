import type {
  Ack,
  CandlesResponse,
  ClientToServerEvents,
  InstrumentsResponse,
  ServerToClientEvents,
  SubscribeRequest,
  VwapResponse,
  WireVwapPoint,
} from '@orderflow/contracts';
import type { Timeframe } from '@orderflow/footprint';
import { io, type Socket } from 'socket.io-client';
import {
  type CandleCompleteness,
  type GatewayAdapter,
  GatewayRequestError,
  type LiveHandlers,
} from './gateway.protocol.js';

/**
 * The gateway over Socket.IO (path /socket.io, WebSocket transport, as the gateway serves it) and
 * its HTTP API, both on `baseUrl` (the page's own origin when the gateway serves the dashboard, or
 * the Vite dev server's proxy). Socket.IO reconnects by itself with its backoff; after a reconnect
 * the caller re-subscribes (a new connection has no subscriptions).
 */
/**
 * After the gateway itself closed the connection (a client too slow to keep up is disconnected), connect again after
 * this.
 */
export const SERVER_DISCONNECT_RETRY_MS = 2000;

export class SocketGatewayAdapter implements GatewayAdapter {
  private socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;

  constructor(
    private readonly baseUrl: string,
    private readonly token: string | null = null,
  ) {}

  connect(h: LiveHandlers): void {
    h.connection('connecting');
    const s: Socket<ServerToClientEvents, ClientToServerEvents> = io(this.baseUrl, {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      ...(this.token ? { auth: { token: this.token } } : {}),
    });
    this.socket = s;
    s.on('connect', () => h.connection('connected'));
    s.on('disconnect', (reason) => {
      h.connection(reason === 'io client disconnect' ? 'disconnected' : 'reconnecting', `connection lost (${reason})`);
      // the gateway closed it (e.g. too slow to keep up): Socket.IO does not reconnect by itself then
      if (reason === 'io server disconnect')
        setTimeout(() => this.socket === s && !s.connected && s.connect(), SERVER_DISCONNECT_RETRY_MS);
    });
    s.on('connect_error', (e: Error & { data?: { code?: string; reason?: string } }) => {
      // a refused handshake carries { code, reason }; a server that is down gives a transport error
      const detail = e.data?.reason ?? `cannot reach the gateway at ${this.baseUrl || location.origin} (${e.message})`;
      h.connection(s.active ? 'reconnecting' : 'disconnected', detail);
    });
    s.on('snapshot', (m) => h.snapshot(m));
    s.on('update', (m) => h.update(m));
    s.on('error', (m) => h.error(m));
  }

  subscribe(req: SubscribeRequest): Promise<string> {
    const s = this.socket;
    // never buffered while disconnected: the caller subscribes when the connection is up
    if (!s || !s.connected)
      return Promise.reject(new GatewayRequestError('not-connected', 'not connected to the gateway'));
    return (s.timeout(30_000).emitWithAck('subscribe', req) as Promise<Ack>).then(
      (ack) => {
        if (ack.ok) return ack.subscriptionId;
        throw new GatewayRequestError(ack.error.code, ack.error.reason);
      },
      (e: unknown) => {
        throw new GatewayRequestError('timeout', 'the gateway did not answer the subscription within 30 s', {
          cause: e,
        });
      },
    );
  }

  unsubscribe(subscriptionId: string): void {
    this.socket?.emit('unsubscribe', { subscriptionId });
  }

  async instruments(): Promise<InstrumentsResponse> {
    return this.get<InstrumentsResponse>('/api/instruments', {});
  }

  async completeness(
    exchange: string,
    symbol: string,
    timeframe: Timeframe,
    from: number,
    to: number,
  ): Promise<CandleCompleteness[]> {
    const body = await this.get<CandlesResponse>('/api/candles', {
      exchange,
      symbol,
      timeframe,
      from: String(from),
      to: String(to),
    });
    return body.candles.map((c) => ({ openTime: c.openTime, complete: c.complete ?? null }));
  }

  async vwap(
    exchange: string,
    symbol: string,
    timeframe: Timeframe,
    from: number,
    to: number,
  ): Promise<WireVwapPoint[]> {
    const body = await this.get<VwapResponse>('/api/vwap', {
      exchange,
      symbol,
      timeframe,
      from: String(from),
      to: String(to),
      session: 'true',
    });
    return body.points;
  }

  close(): void {
    this.socket?.close();
    this.socket = null;
  }

  private async get<T>(path: string, query: Record<string, string>): Promise<T> {
    const qs = new URLSearchParams(query).toString();
    const r = await fetch(
      `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`,
      this.token ? { headers: { Authorization: `Bearer ${this.token}` } } : {},
    );
    const text = await r.text();
    if (!r.ok) {
      let reason = text.slice(0, 300);
      try {
        const j = JSON.parse(text) as { message?: unknown; reason?: unknown };
        reason = String(j.message ?? j.reason ?? reason);
      } catch {
        /* not JSON: keep the text */
      }
      throw new GatewayRequestError(`http-${r.status}`, `${path}: ${reason}`);
    }
    return JSON.parse(text) as T;
  }
}
