// @vitest-environment node
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVER_DISCONNECT_RETRY_MS, SocketGatewayAdapter } from './socket.adapter.js';

describe('SocketGatewayAdapter against a real Socket.IO server', () => {
  const stops: (() => void)[] = [];
  afterEach(() => stops.splice(0).forEach((f) => f()));

  it('connects again after the gateway closed the connection (a client too slow to keep up), which Socket.IO does not do by itself', async () => {
    const http = createServer();
    const server = new Server(http, { path: '/socket.io' });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    stops.push(() => void server.close());
    let connections = 0;
    server.on('connection', (socket) => {
      connections++;
      // the first connection is closed by the server, as the gateway does with a slow client
      if (connections === 1) setTimeout(() => socket.disconnect(true), 50);
    });
    const states: string[] = [];
    const adapter = new SocketGatewayAdapter(`http://127.0.0.1:${(http.address() as AddressInfo).port}`);
    adapter.connect({
      connection: (s: string) => void states.push(s),
      snapshot: () => undefined,
      update: () => undefined,
      error: () => undefined,
    } as never);
    stops.push(() => adapter.close());
    const until = Date.now() + SERVER_DISCONNECT_RETRY_MS + 5000;
    while (connections < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(connections).toBe(2);
    while (states.at(-1) !== 'connected' && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(states).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
  }, 15_000);
});
