import { timingSafeEqual } from 'node:crypto';
import { Inject, Logger, type INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { type OnGatewayConnection, type OnGatewayDisconnect, type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import type { LogFields } from '@orderflow/config';
import type { Server, Socket } from 'socket.io';
import type { GatewayConfig } from '../config/gateway.config.js';
import { GATEWAY_RUNTIME } from '../gateway.tokens.js';
import type { GatewayRuntime } from '../gateway.runtime.js';
import { ClientSession } from './client.session.js';

/** Options of the Socket.IO server NestJS creates (its own copy of socket.io, hence not `ServerOptions` of ours). */
type IoOptions = Parameters<IoAdapter['createIOServer']>[1];

/** Constant-time comparison of a presented token with the configured one. */
export function tokenMatches(presented: unknown, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The Socket.IO server's options come from the configuration (a decorator's options are fixed at
 * import time): path /socket.io, WebSocket only unless polling is enabled, small inbound messages.
 */
export class GatewayIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly config: GatewayConfig,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: IoOptions): ReturnType<IoAdapter['createIOServer']> {
    return super.createIOServer(port, {
      ...options,
      path: '/socket.io',
      serveClient: false,
      transports: this.config.socketPolling ? ['polling', 'websocket'] : ['websocket'],
      // client messages are small requests; a larger one is refused by Engine.IO
      maxHttpBufferSize: 64 * 1024,
      perMessageDeflate: false,
      cors: this.config.socketPolling ? { origin: false } : undefined,
    } as IoOptions);
  }
}

/**
 * The live protocol (see live.messages.ts). NestJS owns the server's lifecycle; the events of each
 * connection are wired by its ClientSession (rate limit, validation, acknowledgements, conflation).
 */
@WebSocketGateway()
export class LiveGateway implements OnGatewayInit<Server>, OnGatewayConnection<Socket>, OnGatewayDisconnect<Socket> {
  private readonly logger = new Logger('live');
  private readonly sessions = new Map<string, ClientSession>();

  constructor(@Inject(GATEWAY_RUNTIME) private readonly runtime: GatewayRuntime) {}

  afterInit(server: Server): void {
    const { authToken, limits } = this.runtime.config;
    // Handshake checks: a refused connection gets connect_error with `data: { code, reason }`.
    server.use((socket, next) => {
      if (authToken !== null && !tokenMatches((socket.handshake.auth as Record<string, unknown> | undefined)?.['token'], authToken)) {
        this.logger.warn(`refused a connection from ${socket.handshake.address}: auth.token missing or wrong`, { client: socket.handshake.address, code: 'unauthorized' });
        return next(Object.assign(new Error('unauthorized'), { data: { code: 'unauthorized', reason: 'auth.token is missing or wrong' } }));
      }
      if (this.sessions.size >= limits.maxClients) {
        this.logger.warn(`refused a connection from ${socket.handshake.address}: ${limits.maxClients} connections already`, { client: socket.handshake.address, code: 'unavailable' });
        return next(Object.assign(new Error('too many clients'), { data: { code: 'unavailable', reason: `this gateway serves at most ${limits.maxClients} connections: try another replica or later` } }));
      }
      next();
    });
  }

  handleConnection(socket: Socket): void {
    // a connection's lines name it and its address (never its handshake: auth.token is there)
    const who = { socket: socket.id, client: socket.handshake.address };
    this.logger.log(`connection ${socket.id} from ${socket.handshake.address}`, who);
    const logger = { warn: (m: string, f?: LogFields) => this.logger.warn(m, { ...who, ...f }), error: (m: string, f?: LogFields) => this.logger.error(m, { ...who, ...f }) };
    const session = new ClientSession(socket, this.runtime.hub, this.runtime.config.limits, this.runtime.metrics, logger, this.runtime.clock);
    this.sessions.set(socket.id, session);
    this.runtime.sessions.add(session);
    session.attach();
  }

  handleDisconnect(socket: Socket): void {
    const session = this.sessions.get(socket.id);
    if (!session) return;
    this.logger.log(`connection ${socket.id} closed`, { socket: socket.id, client: socket.handshake.address, connectedMs: Date.now() - socket.handshake.issued });
    this.sessions.delete(socket.id);
    this.runtime.sessions.delete(session);
    session.close();
  }
}
