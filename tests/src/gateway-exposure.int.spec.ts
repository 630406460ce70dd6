/**
 * What the gateway exposes, and to whom: a real gateway in-process
 * (startGatewayApp, serving the dashboard's build) on its own nats-server and ClickHouse (migrated
 * by a real aggregator shard).
 *
 * - /metrics and /status are served on the metrics port only; the public port answers 404 there
 *   (an Ingress routing the public port exposes neither); both ports answer the health probes;
 * - every response of the public port carries the security headers: the dashboard, the API, a
 *   404, a refused request, a 429;
 * - fair use of the HTTP API, per client (GATEWAY_TRUST_PROXY=loopback: the test names its
 *   clients with X-Forwarded-For): a client's parallel requests beyond its limit get 429 with
 *   Retry-After and a stable code while another client is served; a burst beyond the rate is
 *   refused the same way; the process-wide cap refuses everyone once reached; refusals are counted.
 *
 * A request is held in flight deterministically: its headers announce a JSON body that never comes,
 * so it waits in the body parser after fair use admitted it, until its socket closes.
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { loadAggregatorConfig, startAggregatorApp } from '@orderflow/aggregator';
import type { ApiErrorBody } from '@orderflow/contracts';
import { loadGatewayConfig, startGatewayApp } from '@orderflow/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTradeStreams, startClickHouse } from './aggregator-support.js';
import { type Cleanup, connectTo, runCleanup, startNatsWithStore, waitFor } from './support.js';

const DB = 'gwexposure';
const DASHBOARD_DIST = join(import.meta.dirname, '../../apps/dashboard/dist');
const OTHER_GATEWAY = 'https://gw2.example';

describe('gateway exposure: metrics port, security headers, fair use of the API', () => {
  const stack: Cleanup = [];
  let url: string;
  let metricsUrl: string;
  const held: Socket[] = [];

  beforeAll(async () => {
    const ch = await startClickHouse();
    stack.push(() => ch.stop());
    const nats = await startNatsWithStore(stack);
    const nc = await connectTo(nats.url);
    stack.push(() => nc.close());
    await ensureTradeStreams(nc);
    const agg = await startAggregatorApp(
      loadAggregatorConfig({ NATS_URL: nats.url, CLICKHOUSE_URL: ch.url, CLICKHOUSE_DATABASE: DB, AGG_HTTP_PORT: '0' }),
      { logger: false },
    );
    stack.push(() => agg.app.close());
    const g = await startGatewayApp(
      loadGatewayConfig({
        NATS_URL: nats.url,
        CLICKHOUSE_URL: ch.url,
        CLICKHOUSE_DATABASE: DB,
        GATEWAY_PORT: '0',
        GATEWAY_STATIC_DIR: DASHBOARD_DIST,
        GATEWAY_ALLOWED_ORIGINS: OTHER_GATEWAY,
        GATEWAY_TRUST_PROXY: 'loopback',
        GATEWAY_HTTP_MAX_CONCURRENT_PER_CLIENT: '2',
        GATEWAY_HTTP_RATE_PER_MINUTE: '6',
        GATEWAY_HTTP_BURST: '5',
        GATEWAY_HTTP_MAX_CONCURRENT: '4',
      }),
      { logger: false },
    );
    stack.push(() => g.app.close());
    url = g.url;
    metricsUrl = g.metricsUrl;
    await waitFor('the gateway ready', async () => (await fetch(`${url}/health/ready`)).status === 200, 60_000);
  }, 180_000);

  afterAll(async () => {
    for (const s of held) s.destroy();
    await runCleanup(stack);
  });

  /** A GET /api request of `client` that fair use admits and that then waits for its body: in flight until released. */
  async function hold(client: string): Promise<Socket> {
    const u = new URL(url);
    const s = connect(Number(u.port), u.hostname);
    held.push(s);
    await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
    s.write(
      `GET /api/instruments HTTP/1.1\r\nHost: ${u.host}\r\nX-Forwarded-For: ${client}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`,
    );
    return s;
  }

  async function release(...sockets: Socket[]): Promise<void> {
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
  }

  const get = (path: string, client: string, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, { headers: { 'X-Forwarded-For': client, ...headers } });

  it('serves /metrics and /status on the metrics port only; the public port answers 404 there', async () => {
    for (const path of ['/metrics', '/status']) {
      for (const accept of ['*/*', 'text/html']) {
        const r = await fetch(`${url}${path}`, { headers: { Accept: accept } });
        expect(r.status, `${path} (${accept}) on the public port`).toBe(404);
        expect(await r.text()).not.toMatch(/gateway_|process_cpu|"streams"/);
      }
    }
    const metrics = await fetch(`${metricsUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await metrics.text();
    expect(text).toMatch(/^# HELP gateway_connected_clients /m);
    expect(text).toMatch(/^# HELP gateway_http_refused_total /m);
    const status = (await (await fetch(`${metricsUrl}/status`)).json()) as { dependencies: Record<string, unknown> };
    expect(status).toMatchObject({ ready: { ready: true }, clients: 0 });
    expect(Object.keys(status.dependencies)).toEqual(['clickhouse', 'nats']);
    for (const base of [url, metricsUrl]) {
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    }
    expect((await fetch(`${metricsUrl}/api/instruments`)).status).toBe(404);
    expect(new URL(metricsUrl).port).not.toBe(new URL(url).port);
  });

  it('puts the security headers on every response: the dashboard, its assets, the API, a 404, a refused request', async () => {
    const responses = {
      dashboard: await get('/', '10.0.0.1', { Accept: 'text/html' }),
      'a dashboard path (index.html)': await get('/some/view', '10.0.0.1', { Accept: 'text/html' }),
      api: await get('/api/instruments', '10.0.0.1'),
      'api 404': await get('/api/nope', '10.0.0.1'),
      'static 404': await get('/nope.js', '10.0.0.1'),
      'api 400': await get('/api/footprint?exchange=binance', '10.0.0.1'),
      'dashboard config': await get('/dashboard-config.json', '10.0.0.1'),
    };
    expect(responses.dashboard.status).toBe(200);
    const html = await responses.dashboard.text();
    expect(html).toContain('<div id="app">');
    // the page's own script and style, which the policy allows ('self')
    const script = /<script[^>]*src="\.\/([^"]+)"/.exec(html)![1]!;
    const asset = await get(`/${script}`, '10.0.0.1');
    expect(asset.status).toBe(200);
    const all = { ...responses, asset };
    expect(Object.fromEntries(Object.entries(all).map(([k, r]) => [k, r.status]))).toEqual({
      dashboard: 200,
      'a dashboard path (index.html)': 200,
      api: 200,
      'api 404': 404,
      'static 404': 404,
      'api 400': 400,
      'dashboard config': 200,
      asset: 200,
    });
    for (const [name, r] of Object.entries(all)) {
      const csp = r.headers.get('content-security-policy') ?? '';
      const directives = Object.fromEntries(
        csp
          .split(';')
          .map((d) => d.trim().split(/\s+/))
          .map(([k, ...v]) => [k, v]),
      );
      expect(directives['default-src'], name).toEqual(["'self'"]);
      expect(directives['script-src'], name).toEqual(["'self'"]);
      expect(directives['frame-ancestors'], name).toEqual(["'none'"]);
      expect(directives['connect-src'], name).toEqual(["'self'", OTHER_GATEWAY, 'wss://gw2.example']);
      expect(r.headers.get('x-content-type-options'), name).toBe('nosniff');
      expect(r.headers.get('referrer-policy'), name).toBe('no-referrer');
      expect(r.headers.get('x-frame-options'), name).toBe('DENY');
      expect(r.headers.get('strict-transport-security'), `${name}: HSTS is the TLS terminator's`).toBeNull();
    }
    expect(await responses['dashboard config'].json()).toEqual({ allowedGateways: [OTHER_GATEWAY], anyGateway: false });
  });

  it("refuses a client's parallel requests beyond its concurrency with 429 and Retry-After, while another client is served", async () => {
    const a = [await hold('10.1.0.1'), await hold('10.1.0.1')];
    await waitFor(
      'both held requests admitted',
      async () => (await (await fetch(`${metricsUrl}/metrics`)).text()).includes('gateway_http_requests_in_flight 2'),
      10_000,
    );
    const refused = await get('/api/instruments', '10.1.0.1');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await refused.json()).toMatchObject({
      statusCode: 429,
      error: 'Too Many Requests',
      code: 'too-many-concurrent',
      retryAfterSeconds: 1,
    });
    const other = await get('/api/instruments', '10.1.0.2');
    expect(other.status).toBe(200);
    await release(...a);
    expect((await get('/api/instruments', '10.1.0.1')).status).toBe(200);
  });

  it('refuses everyone once the process serves GATEWAY_HTTP_MAX_CONCURRENT requests (gateway-busy)', async () => {
    const s = [await hold('10.2.0.1'), await hold('10.2.0.1'), await hold('10.2.0.2'), await hold('10.2.0.2')];
    await waitFor(
      'four held requests admitted',
      async () => (await (await fetch(`${metricsUrl}/metrics`)).text()).includes('gateway_http_requests_in_flight 4'),
      10_000,
    );
    const busy = await get('/api/instruments', '10.2.0.3');
    expect(busy.status).toBe(429);
    expect(busy.headers.get('retry-after')).toBe('1');
    expect(await busy.json()).toMatchObject({ code: 'gateway-busy' });
    await release(...s);
    expect((await get('/api/instruments', '10.2.0.3')).status).toBe(200);
  });

  it('refuses a burst beyond the rate with the wait until the next token, per client, and counts every refusal', async () => {
    // 5 at once, then one every 10 s (6 a minute): of 8 sequential requests the last 3 are refused
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 8; i++) {
      last = await get('/api/instruments', '10.3.0.1');
      statuses.push(last.status);
      if (last.status === 200) await last.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    const body = (await last!.json()) as ApiErrorBody;
    expect(body).toMatchObject({ code: 'rate-limited' });
    const wait = Number(last!.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(9);
    expect(wait).toBeLessThanOrEqual(10);
    expect(body.retryAfterSeconds).toBe(wait);
    expect((await get('/api/instruments', '10.3.0.2')).status).toBe(200);
    // the API docs are not limited
    expect((await get('/api/openapi.json', '10.3.0.1')).status).toBe(200);
    const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
    const count = (code: string) =>
      Number(new RegExp(`^gateway_http_refused_total\\{code="${code}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
    expect({
      rate: count('rate-limited'),
      concurrent: count('too-many-concurrent'),
      busy: count('gateway-busy'),
    }).toEqual({ rate: 3, concurrent: 1, busy: 1 });
  });

  it('bounds the work of one request: a range beyond GATEWAY_MAX_EXPORT_CANDLES is refused before any query', async () => {
    const r = await get(
      '/api/candles?exchange=binance&symbol=BTCUSDT&timeframe=1m&from=2020-01-01T00:00:00Z&to=2020-03-12T00:00:00Z',
      '10.4.0.1',
    );
    expect(r.status).toBe(400);
    expect(((await r.json()) as ApiErrorBody).message).toBe(
      'from..to covers 102240 1m candles, at most 100000 in one request: narrow the range or use a larger timeframe',
    );
  });
});
