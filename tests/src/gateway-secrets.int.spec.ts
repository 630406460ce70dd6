/**
 * Error bodies and /status do not echo ClickHouse error texts or URLs: a real
 * gateway in-process whose ClickHouse URL carries credentials and points at a closed port (and a
 * NATS URL with credentials at another). Its HTTP answers say a stable code, a classified reason and
 * a correlation id; /status and /health/ready name the dependencies by role with host:port; none
 * of them holds the URL, the credentials or the client's error text. The log has the detail, under
 * the same correlation id, without the credentials.
 */
import { type Server, createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { ServiceLogger } from '@orderflow/observability';
import { loadGatewayConfig, startGatewayApp } from '@orderflow/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const SECRET = 'pa55-s3cret-word';
/** What a ClickHouse server answers to a query on a table it lacks: its text names the table and its version. */
const CH_EXCEPTION =
  "Code: 60. DB::Exception: Unknown table expression identifier 'secretdb.footprint_1m' in scope SELECT cells FROM secretdb.footprint_1m. (UNKNOWN_TABLE) (version 26.7.1.1 (official build))";

/**
 * A ClickHouse stand-in on HTTP: answers pings, the instruments table (one instrument) and fails
 * every other query as ClickHouse does (HTTP 404, the exception text, X-ClickHouse-Exception-Code).
 */
async function failingClickHouse(): Promise<{ server: Server; port: number }> {
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const query = `${decodeURIComponent(new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '')} ${body}`;
      if ((req.url ?? '').startsWith('/ping')) return void res.end('Ok.\n');
      if (/\.instruments\b/.test(query)) return void res.end('binance\tBTCUSDT\t2\t3\t1\t1700000000\n');
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=UTF-8', 'X-ClickHouse-Exception-Code': '60' });
      res.end(`${CH_EXCEPTION}\n`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

describe('gateway: no ClickHouse texts, URLs or credentials in error bodies and /status', () => {
  const lines: string[] = [];
  let app: Awaited<ReturnType<typeof startGatewayApp>> | undefined;
  /** A gateway whose ClickHouse answers with exceptions. */
  let app2: Awaited<ReturnType<typeof startGatewayApp>> | undefined;
  let fake: Awaited<ReturnType<typeof failingClickHouse>> | undefined;
  let chPort: number;
  let natsPort: number;

  beforeAll(async () => {
    chPort = await closedPort();
    natsPort = await closedPort();
    const write = (s: string) => void lines.push(s);
    const logger = new ServiceLogger({
      service: 'gateway',
      format: 'json',
      streams: { stdout: { write }, stderr: { write } },
    });
    const config = loadGatewayConfig({
      NATS_URL: `nats://natsuser:${SECRET}@127.0.0.1:${natsPort}`,
      CLICKHOUSE_URL: `http://orderflow:${SECRET}@127.0.0.1:${chPort}`,
      CLICKHOUSE_DATABASE: 'secretdb',
      GATEWAY_PORT: '0',
    });
    app = await startGatewayApp(config, { logger });
    fake = await failingClickHouse();
    app2 = await startGatewayApp(
      { ...config, clickhouse: { ...config.clickhouse, url: `http://orderflow:${SECRET}@127.0.0.1:${fake.port}` } },
      { logger },
    );
    await app2.runtime.catalog.refresh();
    // the ClickHouse probe has failed at least once
    for (let i = 0; i < 100 && app.runtime.chProbe.counts.failed === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(async () => {
    await app?.app.close();
    await app2?.app.close();
    if (fake?.server.listening) fake.server.close();
  });

  const leaks = (text: string) =>
    [
      SECRET,
      'orderflow:',
      'natsuser',
      'http://',
      'nats://',
      'ECONNREFUSED',
      'connect ',
      'secretdb',
      'DB::Exception',
      'version 26',
      'footprint_1m',
    ].filter((s) => text.includes(s));

  it('a history read ClickHouse fails: a stable code, no exception text; the log line with the same correlation id has it', async () => {
    const r = await fetch(
      `${app2!.url}/api/footprint?exchange=binance&symbol=BTCUSDT&timeframe=1m&from=1700000000000&to=1700003600000`,
    );
    const text = await r.text();
    expect([500, 503], text).toContain(r.status);
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(body['code'], text).toMatch(/^(storage-unavailable|internal-error)$/);
    expect(leaks(text)).toEqual([]);
    const logged = lines.find((l) => l.includes(String(body['correlationId'])));
    expect(logged).toContain('secretdb.footprint_1m');
  });

  it('a history request on a closed port: 503 storage-unavailable with a reason and a correlation id; the log line with the same id has the detail', async () => {
    // the stand-in goes away: the gateway that knows the instrument now reaches a closed port
    const port = fake!.port;
    fake!.server.closeAllConnections();
    await new Promise<void>((r) => fake!.server.close(() => r()));
    const r = await fetch(
      `${app2!.url}/api/footprint?exchange=binance&symbol=BTCUSDT&timeframe=1m&from=1700000000000&to=1700003600000`,
    );
    const text = await r.text();
    expect(r.status, text).toBe(503);
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(body).toMatchObject({
      statusCode: 503,
      code: 'storage-unavailable',
      reason: 'connection refused',
      message: 'the history store did not answer (connection refused)',
      correlationId: expect.any(String),
    });
    expect(leaks(text)).toEqual([]);
    expect(text).not.toContain(String(port));
    const logged = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['correlationId'] === body['correlationId']);
    expect(logged?.['message']).toMatch(new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('/status and /health/ready: dependencies by role with host:port and a classified reason', async () => {
    const status = await (await fetch(`${app!.metricsUrl}/status`)).text();
    const ready = await fetch(`${app!.url}/health/ready`);
    const readyText = await ready.text();
    expect(ready.status).toBe(503);
    for (const t of [status, readyText]) expect(leaks(t), t).toEqual([]);
    const s = JSON.parse(status) as {
      dependencies: Record<string, { endpoint: string; problem: string } | null>;
      instruments: { lastError: string | null };
    };
    expect(s.dependencies['clickhouse']).toMatchObject({
      endpoint: `127.0.0.1:${chPort}`,
      problem: 'ClickHouse: connection refused',
    });
    expect(s.instruments.lastError).toBe('connection refused');
    expect(JSON.parse(readyText).reasons).toContain('ClickHouse: connection refused');
  });
});
