import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { Inject, Logger, type INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import {
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { LogFields } from '@orderflow/observability';
import type { ClientToServerEvents, ServerToClientEvents } from '@orderflow/contracts';
import type { Server } from 'socket.io';
import type { GatewayConfig } from '../config/gateway.config.js';
import { GATEWAY_RUNTIME } from '../gateway.tokens.js';
import type { GatewayRuntime } from '../gateway.runtime.js';
import type { GatewayMetrics } from '../metrics/gateway.metrics.js';
import { ClientSession, type LiveSocket } from './client.session.js';
import { refusedOrigin } from './origin.js';

/** The Socket.IO server with the protocol's typed events. */
type LiveServer = Server<ClientToServerEvents, ServerToClientEvents>;

/** Options of the Socket.IO server NestJS creates (its own copy of socket.io, hence not `ServerOptions` of ours). */
type IoOptions = Parameters<IoAdapter['createIOServer']>[1];

/** Constant-time comparison of a presented token with the configured one. */
export function tokenMatches(presented: unknown, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Refused origins logged once each (bounded: an attacker can vary the header). */
const MAX_LOGGED_ORIGINS = 1000;

/**
 * The Socket.IO server's options come from the configuration (a decorator's options are fixed at
 * import time): path /socket.io, WebSocket only unless polling is enabled, small inbound messages.
 * A handshake from a web page of another origin than the gateway's own or GATEWAY_ALLOWED_ORIGINS
 * (live/origin.ts) gets HTTP 403 with the reason: Engine.IO's `allowRequest` for polling, and for
 * the WebSocket upgrade (which Engine.IO would answer with a 400) a check before Engine.IO's.
 */
export class GatewayIoAdapter extends IoAdapter {
  private readonly originLog = new Logger('live');
  private readonly loggedOrigins = new Set<string>();

  constructor(
    app: INestApplicationContext,
    private readonly config: GatewayConfig,
    private readonly metrics: GatewayMetrics | null = null,
  ) {
    super(app);
  }

  /** The reason a handshake's Origin is refused (logged once per origin, counted), or null. */
  checkOrigin(req: IncomingMessage, transport: 'polling' | 'websocket'): string | null {
    const reason = refusedOrigin(req.headers.origin, req.headers.host, this.config.allowedOrigins);
    if (reason === null) return null;
    this.metrics?.refusedOrigins.inc({ transport });
    const origin = String(req.headers.origin).slice(0, 200);
    if (!this.loggedOrigins.has(origin) && this.loggedOrigins.size < MAX_LOGGED_ORIGINS) {
      this.loggedOrigins.add(origin);
      this.originLog.warn(
        `refused Socket.IO handshakes from ${req.socket.remoteAddress}: ${reason} (logged once per origin)`,
        { client: req.socket.remoteAddress, origin, code: 'forbidden-origin' },
      );
    }
    return reason;
  }

  override createIOServer(port: number, options?: IoOptions): ReturnType<IoAdapter['createIOServer']> {
    const server = super.createIOServer(port, {
      ...options,
      path: '/socket.io',
      serveClient: false,
      transports: this.config.socketPolling ? ['polling', 'websocket'] : ['websocket'],
      // client messages are small requests; a larger one is refused by Engine.IO
      maxHttpBufferSize: 64 * 1024,
      perMessageDeflate: false,
      cors: this.config.socketPolling ? { origin: false } : undefined,
      // polling handshakes (403 with the reason); WebSocket upgrades were checked before (below)
      allowRequest: (req: IncomingMessage, fn: (err: string | null | undefined, success: boolean) => void) => {
        const reason = req.headers.upgrade
          ? refusedOrigin(req.headers.origin, req.headers.host, this.config.allowedOrigins)
          : this.checkOrigin(req, 'polling');
        fn(reason ?? undefined, reason === null);
      },
    } as IoOptions);
    const http = this.httpServer as HttpServer | undefined;
    if (http && port === 0) this.guardUpgrades(http);
    return server;
  }

  /** Puts the Origin check in front of Engine.IO's upgrade listener, answering a refusal with 403. */
  private guardUpgrades(http: HttpServer): void {
    const engine = http.listeners('upgrade') as ((req: IncomingMessage, socket: Duplex, head: Buffer) => void)[];
    http.removeAllListeners('upgrade');
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if ((req.url ?? '').startsWith('/socket.io/') || (req.url ?? '').startsWith('/socket.io?')) {
        const reason = this.checkOrigin(req, 'websocket');
        if (reason !== null) {
          const body = JSON.stringify({ code: 'forbidden-origin', message: reason });
          socket.on('error', () => undefined);
          socket.end(
            `HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
          );
          return;
        }
      }
      for (const l of engine) l.call(http, req, socket, head);
    });
  }
}

/**
 * The live protocol (@orderflow/contracts protocol.ts). NestJS owns the server's lifecycle; the events of each
 * connection are wired by its ClientSession (rate limit, validation, acknowledgements, conflation).
 */
@WebSocketGateway()
export class LiveGateway
  implements OnGatewayInit<LiveServer>, OnGatewayConnection<LiveSocket>, OnGatewayDisconnect<LiveSocket>
{
  private readonly logger = new Logger('live');
  private readonly sessions = new Map<string, ClientSession>();

  constructor(@Inject(GATEWAY_RUNTIME) private readonly runtime: GatewayRuntime) {}

  afterInit(server: LiveServer): void {
    const { authToken, limits } = this.runtime.config;
    // Handshake checks: a refused connection gets connect_error with `data: { code, reason }`.
    server.use((socket, next) => {
      if (
        authToken !== null &&
        !tokenMatches((socket.handshake.auth as Record<string, unknown> | undefined)?.['token'], authToken)
      ) {
        this.logger.warn(`refused a connection from ${socket.handshake.address}: auth.token missing or wrong`, {
          client: socket.handshake.address,
          code: 'unauthorized',
        });
        return next(
          Object.assign(new Error('unauthorized'), {
            data: { code: 'unauthorized', reason: 'auth.token is missing or wrong' },
          }),
        );
      }
      if (this.sessions.size >= limits.maxClients) {
        this.logger.warn(
          `refused a connection from ${socket.handshake.address}: ${limits.maxClients} connections already`,
          { client: socket.handshake.address, code: 'unavailable' },
        );
        return next(
          Object.assign(new Error('too many clients'), {
            data: {
              code: 'unavailable',
              reason: `this gateway serves at most ${limits.maxClients} connections: try another replica or later`,
            },
          }),
        );
      }
      next();
    });
  }

  handleConnection(socket: LiveSocket): void {
    // a connection's lines name it and its address (never its handshake: auth.token is there)
    const who = { socket: socket.id, client: socket.handshake.address };
    this.logger.log(`connection ${socket.id} from ${socket.handshake.address}`, who);
    const logger = {
      warn: (m: string, f?: LogFields) => this.logger.warn(m, { ...who, ...f }),
      error: (m: string, f?: LogFields) => this.logger.error(m, { ...who, ...f }),
    };
    const session = new ClientSession(
      socket,
      this.runtime.hub,
      this.runtime.config.limits,
      this.runtime.metrics,
      logger,
      this.runtime.clock,
    );
    this.sessions.set(socket.id, session);
    this.runtime.sessions.add(session);
    session.attach();
  }

  handleDisconnect(socket: LiveSocket): void {
    const session = this.sessions.get(socket.id);
    if (!session) return;
    this.logger.log(`connection ${socket.id} closed`, {
      socket: socket.id,
      client: socket.handshake.address,
      connectedMs: Date.now() - socket.handshake.issued,
    });
    this.sessions.delete(socket.id);
    this.runtime.sessions.delete(session);
    session.close();
  }
}
