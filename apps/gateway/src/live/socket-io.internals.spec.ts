/**
 * The gateway relies on parts of Socket.IO and Engine.IO that are not their public API, so
 * package.json pins socket.io and engine.io to exact versions and this spec checks each reliance
 * on a real server (GatewayIoAdapter on a Node HTTP server) with a real socket.io-client. After an
 * upgrade of either package (or of @nestjs/platform-socket.io, which brings its own socket.io), a
 * failure here names the private API that changed and the gateway code that reads it:
 *
 * - engine.io attaches its WebSocket handling as the HTTP server's `upgrade` listener when the
 *   Socket.IO server is created, which GatewayIoAdapter.guardUpgrades wraps (a refused Origin gets
 *   403 with the reason instead of Engine.IO's 400);
 * - socket.io's `Client#_packet(packets, { preEncoded: true })` writes packets the gateway encoded
 *   itself (ClientSession.sendSnapshot, writeUpdate);
 * - engine.io's `Socket#writeBuffer` and its WebSocket transport's `socket` (a ws WebSocket, whose
 *   `bufferedAmount` is public) give the unsent bytes of a connection (bufferedBytes, the flow
 *   control of slow clients).
 */
import { createRequire } from 'node:module';
import { createServer, request, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import type { Server, Socket } from 'socket.io';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../config/gateway.config.js';
import { bufferedBytes } from './client.session.js';
import { GatewayIoAdapter } from './live.gateway.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
};
const EXACT = /^\d+\.\d+\.\d+$/;

/**
 * The version of `name` as `from` (a resolved module file) loads it: the package.json above its entry (engine.io
 * exports no ./package.json).
 */
function versionAt(from: string, name: string): { version: string; file: string } {
  for (let dir = dirname(createRequire(from).resolve(name)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkgAt = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
    if (pkgAt.name === name) return { version: pkgAt.version, file };
  }
  throw new Error(`no package.json of ${name} above its entry (resolved from ${from})`);
}

describe('the socket.io and engine.io the gateway runs', () => {
  it('are pinned to exact versions, and are the ones @nestjs/platform-socket.io (which creates the server) loads', () => {
    for (const name of ['socket.io', 'engine.io']) {
      expect(
        pkg.dependencies[name],
        `apps/gateway/package.json: ${name} must be an exact version (the gateway reads its private API)`,
      ).toMatch(EXACT);
    }
    const nest = createRequire(import.meta.url).resolve('@nestjs/platform-socket.io');
    const socketIo = versionAt(nest, 'socket.io');
    expect(
      socketIo.version,
      `the socket.io that @nestjs/platform-socket.io loads (${socketIo.file}) is not the pinned one`,
    ).toBe(pkg.dependencies['socket.io']);
    const engineIo = versionAt(socketIo.file, 'engine.io');
    expect(engineIo.version, `the engine.io that socket.io loads (${engineIo.file}) is not the pinned one`).toBe(
      pkg.dependencies['engine.io'],
    );
  });
});

describe('the private Socket.IO / Engine.IO APIs the gateway uses, on a real server', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function start(): Promise<{ url: string; port: number; server: Server; http: HttpServer }> {
    const http = createServer();
    const config = {
      socketPolling: false,
      allowedOrigins: { any: false, origins: ['https://allowed.example'] },
    } as unknown as GatewayConfig;
    // AbstractWsAdapter takes a Nest application or the HTTP server itself
    const adapter = new GatewayIoAdapter(http as unknown as INestApplicationContext, config);
    const server = adapter.create(0) as unknown as Server;
    await new Promise<void>((done) => http.listen(0, '127.0.0.1', done));
    const { port } = http.address() as AddressInfo;
    cleanup.push(() => new Promise<void>((done) => server.close(() => done())));
    return { url: `http://127.0.0.1:${port}`, port, server, http };
  }

  function connect(url: string): Promise<ClientSocket> {
    const client = connectClient(url, {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    cleanup.push(() => void client.close());
    return new Promise((done, fail) => {
      client.once('connect', () => done(client));
      client.once('connect_error', fail);
    });
  }

  /** A raw WebSocket handshake on the Socket.IO path: the HTTP status and body the server answers with. */
  function handshake(port: number, origin: string | undefined): Promise<{ status: number; body: string }> {
    return new Promise((done, fail) => {
      const req = request({
        host: '127.0.0.1',
        port,
        path: '/socket.io/?EIO=4&transport=websocket',
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
          ...(origin ? { Origin: origin } : {}),
        },
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        done({ status: res.statusCode ?? 0, body: '' });
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', fail);
      req.end();
    });
  }

  it("engine.io's WebSocket handling is the HTTP server's `upgrade` listener, which GatewayIoAdapter wraps with the Origin check", async () => {
    const { port, http } = await start();
    expect(
      http.listeners('upgrade'),
      'GatewayIoAdapter.guardUpgrades: one upgrade listener, wrapping the ones engine.io attach() added',
    ).toHaveLength(1);
    const refused = await handshake(port, 'https://evil.example');
    expect(
      refused.status,
      "a refused Origin: 403 from GatewayIoAdapter's check; Engine.IO's own refusal would be 400, or the upgrade would pass if engine.io attached its listener later than the Socket.IO server's creation",
    ).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'forbidden-origin' });
    const allowed = await handshake(port, 'https://allowed.example');
    expect(
      allowed.status,
      "an allowed Origin reaches engine.io's upgrade listener (called by the wrapper) and is switched to WebSocket",
    ).toBe(101);
    expect((await handshake(port, undefined)).status, 'no Origin (not a browser): allowed').toBe(101);
  });

  it("socket.io's Client#_packet writes pre-encoded packets; engine.io's Socket#writeBuffer and transport.socket.bufferedAmount count what a client has not read", async () => {
    const { url, server } = await start();
    const connected = new Promise<Socket>((done) => server.once('connection', done));
    const client = await connect(url);
    const socket = await connected;

    const internals = socket as unknown as {
      client?: { _packet?: unknown };
      conn: { writeBuffer?: unknown; transport?: { name?: string; socket?: { bufferedAmount?: unknown } } };
    };
    expect(
      typeof internals.client?._packet,
      'socket.io Client#_packet (ClientSession.sendSnapshot/writeUpdate write pre-encoded packets with it)',
    ).toBe('function');
    expect(
      Array.isArray(internals.conn.writeBuffer),
      'engine.io Socket#writeBuffer, an array of packets (bufferedBytes)',
    ).toBe(true);
    expect(internals.conn.transport?.name).toBe('websocket');
    expect(
      typeof internals.conn.transport?.socket?.bufferedAmount,
      "engine.io's WebSocket transport#socket, a ws WebSocket with bufferedAmount (bufferedBytes)",
    ).toBe('number');
    expect(bufferedBytes(socket)).toBe(0);

    // the client stops reading (its TCP socket paused): what the server writes stays unsent
    const clientWs = (client.io.engine.transport as unknown as { ws?: { _socket?: NetSocket } }).ws;
    expect(
      clientWs?._socket,
      "the test's handle on the client's TCP socket (engine.io-client's ws transport, ws's _socket)",
    ).toBeDefined();
    clientWs!._socket!.pause();
    const received: { n: number; text: string }[] = [];
    client.on('update', (m: { n: number; text: string }) => received.push(m));
    const text = 'x'.repeat(1024 * 1024);
    const packet = (internals.client as { _packet: (p: string[], o: { preEncoded: boolean }) => void })._packet;
    const PACKETS = 16;
    for (let n = 0; n < PACKETS; n++)
      packet.call(internals.client, [`2["update",{"n":${n},"text":"${text}"}]`], { preEncoded: true });
    // loopback's kernel buffers take a few MB at most; the rest of the 16 MB waits in the process
    await new Promise((r) => setTimeout(r, 200));
    const waiting = bufferedBytes(socket);
    expect(
      waiting,
      'bufferedBytes of a client that reads nothing after 16 MB were written: engine.io writeBuffer + ws bufferedAmount',
    ).toBeGreaterThan(4 * 1024 * 1024);
    expect(waiting).toBeLessThanOrEqual(PACKETS * (text.length + 40));

    // once the client reads again, every pre-encoded packet arrives as the event it encodes, in order
    clientWs!._socket!.resume();
    const deadline = Date.now() + 20_000;
    while (received.length < PACKETS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(received.map((m) => m.n)).toEqual(Array.from({ length: PACKETS }, (_, n) => n));
    expect(received.every((m) => m.text === text)).toBe(true);
    const drained = Date.now() + 5_000;
    while (bufferedBytes(socket) > 0 && Date.now() < drained) await new Promise((r) => setTimeout(r, 20));
    expect(bufferedBytes(socket), 'bufferedBytes once the client has read everything').toBe(0);
  });
});
