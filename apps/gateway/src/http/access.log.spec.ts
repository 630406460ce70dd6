import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServiceLogger } from '@orderflow/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessLogger, redactUrl } from './access.log.js';

describe('redactUrl', () => {
  it('replaces the values of secret query parameters, whatever their case or encoding, and keeps the rest as sent', () => {
    expect(redactUrl('/api/footprint?exchange=binance&token=abc123&symbol=BTCUSDT')).toBe(
      '/api/footprint?exchange=binance&token=[redacted]&symbol=BTCUSDT',
    );
    expect(redactUrl('/a?ACCESS_TOKEN=x&api_key=y&apiKey=z&Password=p&sig=s&x=1')).toBe(
      '/a?ACCESS_TOKEN=[redacted]&api_key=[redacted]&apiKey=[redacted]&Password=[redacted]&sig=[redacted]&x=1',
    );
    expect(redactUrl('/a?to%6Ben=x&%74oken=y')).toBe('/a?to%6Ben=[redacted]&%74oken=[redacted]');
    expect(redactUrl('/a?token&token=&q=token%3Dabc')).toBe('/a?token=[redacted]&token=[redacted]&q=token%3Dabc');
    expect(redactUrl('/a?%E0%A4%A=1')).toBe('/a?%E0%A4%A=1');
    expect(redactUrl('/api/instruments')).toBe('/api/instruments');
  });

  it("keeps /api/vwap's session flag, and redacts session ids", () => {
    expect(redactUrl('/api/vwap?symbol=BTCUSDT&session=true')).toBe('/api/vwap?symbol=BTCUSDT&session=true');
    expect(redactUrl('/a?sessionid=abc&SESSION_ID=def&x=1')).toBe('/a?sessionid=[redacted]&SESSION_ID=[redacted]&x=1');
  });

  it('bounds the URL', () => {
    const long = `/api/x?symbol=${'A'.repeat(5000)}`;
    expect(redactUrl(long)).toHaveLength(2003);
  });
});

describe('accessLogger', () => {
  const lines: Record<string, unknown>[] = [];
  const logger = new ServiceLogger({
    service: 'gateway',
    format: 'json',
    streams: {
      stdout: { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) },
      stderr: { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) },
    },
  }).child({ context: 'http' });
  const log = accessLogger(logger);
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) =>
      log(req, res, () => {
        const status = req.url?.startsWith('/fail') ? 503 : 200;
        res.statusCode = status;
        res.setHeader('Content-Length', 2);
        res.end('ok');
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('one line per request with method, path, status, duration, bytes and client; no query secret and no header', async () => {
    lines.length = 0;
    await (
      await fetch(`${base}/api/footprint?exchange=binance&symbol=BTCUSDT&token=query-secret-1`, {
        headers: { Authorization: 'Bearer header-secret-2', 'X-Forwarded-For': '203.0.113.9' },
      })
    ).text();
    await (await fetch(`${base}/fail?api_key=query-secret-3`, { method: 'POST', body: 'x' })).text();
    await new Promise((r) => setTimeout(r, 50));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'gateway',
      context: 'http',
      method: 'GET',
      path: '/api/footprint?exchange=binance&symbol=BTCUSDT&token=[redacted]',
      status: 200,
      bytes: 2,
      client: '127.0.0.1',
      forwardedFor: '203.0.113.9',
    });
    expect(lines[0]!['message']).toMatch(
      /^GET \/api\/footprint\?exchange=binance&symbol=BTCUSDT&token=\[redacted\] 200 \d+(\.\d)? ms$/,
    );
    expect(typeof lines[0]!['durationMs']).toBe('number');
    expect(lines[1]).toMatchObject({ level: 'warn', method: 'POST', path: '/fail?api_key=[redacted]', status: 503 });
    const all = JSON.stringify(lines);
    for (const secret of ['query-secret-1', 'header-secret-2', 'query-secret-3', 'Bearer', 'authorization'])
      expect(all).not.toContain(secret);
  });

  it('health probes and metric scrapes are not logged', async () => {
    lines.length = 0;
    for (const p of ['/health/ready', '/health/live', '/metrics']) await (await fetch(base + p)).text();
    await (await fetch(`${base}/status`)).text();
    await new Promise((r) => setTimeout(r, 50));
    expect(lines.map((l) => l['path'])).toEqual(['/status']);
  });
});
