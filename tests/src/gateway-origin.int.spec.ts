/**
 * Which web pages may open the gateway's live connection: a real gateway
 * in-process (startGatewayApp, polling allowed as well as WebSocket) with its own nats-server,
 * ClickHouse and aggregator shard, and real socket.io-client connections that send an `Origin`
 * header as a browser page would.
 *
 * - a page of another origin is refused with HTTP 403 and the reason, on both transports: no
 *   connection, no snapshot; the refusal is logged once per origin and counted;
 * - the gateway's own origin (its Host with http:), an origin of GATEWAY_ALLOWED_ORIGINS, and a
 *   client without Origin connect and subscribe.
 */
import { consumerName, loadAggregatorConfig, startAggregatorApp } from '@orderflow/aggregator';
import { instrumentFromSteps } from '@orderflow/footprint';
import { loadGatewayConfig, startGatewayApp } from '@orderflow/gateway';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Recording, ensureTradeStreams, publish, startClickHouse, waitAllAcked } from './aggregator-support.js';
import { LiveClient } from './gateway-support.js';
import { type Cleanup, connectTo, needsSharedData, runCleanup, startNatsWithStore } from './support.js';

const DB = 'gworigin';
const EXTRA = 'https://dash.example';
const EVIL = 'https://evil.example';
const REQ = { exchange: 'binance', symbol: 'ORIGINUSDT', timeframe: '1m', ticks: 1, candles: 3 };

type Transport = 'polling' | 'websocket';

/** A socket.io-client connection over one transport, sending `origin` (if any) as a browser page would. */
function client(url: string, transport: Transport, origin?: string): LiveClient {
  const c = new LiveClient(url);
  c.socket.close();
  const socket = io(url, {
    path: '/socket.io',
    transports: [transport],
    upgrade: false,
    reconnection: false,
    forceNew: true,
    ...(origin ? { extraHeaders: { Origin: origin } } : {}),
  });
  // LiveClient's routing of snapshots to models, on this socket
  socket.on('snapshot', (s: { subscriptionId: string }) => c.model(s.subscriptionId).applySnapshot(s as never));
  (c as { socket: typeof socket }).socket = socket;
  return c;
}

describe('gateway: Socket.IO Origin allowlist', needsSharedData, () => {
  const stack: Cleanup = [];
  const clients: LiveClient[] = [];
  const warnings: string[] = [];
  let url: string;
  let metricsUrl: string;

  beforeAll(async () => {
    const ch = await startClickHouse();
    stack.push(() => ch.stop());
    const nats = await startNatsWithStore(stack);
    const nc = await connectTo(nats.url);
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
      { logger: false },
    );
    stack.push(() => agg.app.close());
    const rec: Recording = {
      exchange: 'binance',
      symbol: 'ORIGINUSDT',
      instrument: instrumentFromSteps('binance', 'ORIGINUSDT', '0.01', '0.001'),
      recorded: [],
      trades: [],
    };
    const t0 = Date.UTC(2024, 7, 8, 12) * 1000;
    await publish(
      nc,
      rec,
      Array.from({ length: 10 }, (_, i) => ({
        exchange: 'binance',
        symbol: 'ORIGINUSDT',
        id: String(i + 1),
        price: 1000 + i,
        quantity: 5,
        side: i % 2 ? 'buy' : 'sell',
        exchangeTimeUs: t0 + i,
        receiveTimeMs: t0 / 1000,
      })),
    );
    await waitAllAcked(nc, [consumerName('binance', 'ORIGINUSDT')]);
    const quietLog = () => undefined;
    const logger = {
      log: quietLog,
      error: quietLog,
      debug: quietLog,
      verbose: quietLog,
      fatal: quietLog,
      warn: (m: unknown) => warnings.push(String(m)),
    } as unknown as NonNullable<NonNullable<Parameters<typeof startGatewayApp>[1]>['logger']>;
    const config = loadGatewayConfig({
      NATS_URL: nats.url,
      CLICKHOUSE_URL: ch.url,
      CLICKHOUSE_DATABASE: DB,
      GATEWAY_PORT: '0',
      GATEWAY_SOCKET_POLLING: '1',
      GATEWAY_ALLOWED_ORIGINS: EXTRA,
    });
    const g = await startGatewayApp(config, { logger });
    stack.push(() => g.app.close());
    url = g.url;
    metricsUrl = g.metricsUrl;
  }, 180_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await runCleanup(stack);
  });

  const open = (transport: Transport, origin?: string) => {
    const c = client(url, transport, origin);
    clients.push(c);
    return c;
  };

  for (const transport of ['polling', 'websocket'] as const) {
    it(`${transport}: another origin is refused (no connection, no snapshot); its own, a configured one and none connect and subscribe`, async () => {
      const evil = open(transport, EVIL);
      await expect(evil.connected()).rejects.toThrow();
      expect(evil.socket.connected).toBe(false);
      expect(evil.models.size).toBe(0);

      const own = new URL(url).origin; // http://127.0.0.1:<port>, the Host the client sends
      for (const origin of [own, EXTRA, undefined]) {
        const c = open(transport, origin);
        await c.connected();
        const m = await c.subscribe(REQ);
        expect(m.snapshot!.candles.length, `origin ${origin}`).toBeGreaterThan(0);
        c.close();
      }
    });
  }

  it('the refusal is HTTP 403 with the reason on both transports, logged once per origin and counted', async () => {
    const polling = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: EVIL } });
    expect(polling.status).toBe(403);
    expect(await polling.text()).toContain(`Origin ${EVIL} is not allowed`);
    expect(
      (await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: new URL(url).origin } })).status,
    ).toBe(200);

    // the WebSocket upgrade, as a browser sends it
    const { request } = await import('node:http');
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${url}/socket.io/?EIO=4&transport=websocket`, {
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
          Origin: 'https://other.example',
        },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({
      code: 'forbidden-origin',
      message: expect.stringContaining('Origin https://other.example is not allowed'),
    });

    // once per origin, though each origin was refused several times
    const refusals = warnings.filter((w) => w.includes('refused Socket.IO handshakes'));
    expect(refusals.filter((w) => w.includes(EVIL))).toHaveLength(1);
    expect(refusals.filter((w) => w.includes('https://other.example'))).toHaveLength(1);
    const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
    const count = (t: string) =>
      Number(new RegExp(`^gateway_refused_origins_total\\{transport="${t}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? NaN);
    expect(count('polling')).toBeGreaterThanOrEqual(2);
    expect(count('websocket')).toBeGreaterThanOrEqual(2);
  });
});
