import type { ArgumentsHost } from '@nestjs/common';
import { Logger, NotFoundException } from '@nestjs/common';
import { HistoryError } from '@orderflow/clickhouse';
import { ServiceLogger } from '@orderflow/observability';
import { beforeAll, describe, expect, it } from 'vitest';
import { RequestError, badRequest } from '../request.error.js';
import { GatewayErrorsFilter, MAX_MESSAGE } from './errors.filter.js';

/** What the filter wrote: status, headers and the parsed body. */
function respond(e: unknown): { status: number; headers: Record<string, string>; body: Record<string, unknown> } {
  const headers: Record<string, string> = {};
  let text = '';
  const res = {
    statusCode: 200,
    headersSent: false,
    setHeader: (k: string, v: string) => void (headers[k.toLowerCase()] = v),
    end: (t: string) => void (text = t),
    destroy: () => undefined,
  };
  const req = { method: 'GET', url: '/api/footprint?symbol=BTCUSDT&token=query-secret' };
  const host = { switchToHttp: () => ({ getResponse: () => res, getRequest: () => req }) } as unknown as ArgumentsHost;
  new GatewayErrorsFilter().catch(e, host);
  return { status: res.statusCode, headers, body: JSON.parse(text) as Record<string, unknown> };
}

describe('GatewayErrorsFilter', () => {
  beforeAll(() => Logger.overrideLogger(false)); // the 500 case logs its stack
  it('answers a refused request 400 { statusCode, error, message } as JSON', () => {
    expect(respond(badRequest('ticks must be an integer from 1 to 10000, got 0'))).toEqual({
      status: 400,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: { statusCode: 400, error: 'Bad Request', message: 'ticks must be an integer from 1 to 10000, got 0' },
    });
    expect(respond(new RequestError('unauthorized', 'no token')).headers['www-authenticate']).toBe('Bearer');
  });

  it('bounds the message (found by the gateway fuzzer: a 404 quoted a 2,000-character path whole)', () => {
    const path = `/api/${'a'.repeat(5000)}`;
    const r = respond(new NotFoundException(`Cannot GET ${path}`));
    expect(r.status).toBe(404);
    expect(r.body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: `${`Cannot GET ${path}`.slice(0, MAX_MESSAGE)}...`,
    });
    expect(respond(badRequest('x'.repeat(MAX_MESSAGE + 1))).body['message']).toBe(`${'x'.repeat(MAX_MESSAGE)}...`);
    expect(respond(badRequest('x'.repeat(MAX_MESSAGE))).body['message']).toBe('x'.repeat(MAX_MESSAGE));
  });

  it('answers anything else 500 without internals, and logs it with the request (its query secrets redacted)', () => {
    const lines: string[] = [];
    const write = (s: string) => void lines.push(s);
    Logger.overrideLogger(
      new ServiceLogger({ service: 'gateway', format: 'json', streams: { stdout: { write }, stderr: { write } } }),
    );
    try {
      const body = respond(new TypeError('secret detail')).body;
      expect(body).toEqual({
        statusCode: 500,
        error: 'Internal Server Error',
        code: 'internal-error',
        message: 'internal error',
        correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({
        level: 'error',
        context: 'http',
        method: 'GET',
        path: '/api/footprint?symbol=BTCUSDT&token=[redacted]',
        correlationId: body['correlationId'],
        message: expect.stringContaining('TypeError: secret detail'),
      });
    } finally {
      Logger.overrideLogger(false);
    }
    expect(lines[0]).not.toContain('query-secret');
  });

  it('answers a ClickHouse failure 503 with a stable code and a classified reason: no URL, credentials nor exception text; the log has them under the same correlation id', () => {
    const lines: string[] = [];
    const write = (s: string) => void lines.push(s);
    Logger.overrideLogger(
      new ServiceLogger({ service: 'gateway', format: 'json', streams: { stdout: { write }, stderr: { write } } }),
    );
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1 (http://orderflow:s3cret@127.0.0.1:1)'), {
      code: 'ECONNREFUSED',
    });
    const server = new HistoryError(
      'ClickHouse: Code: 60. DB::Exception: Unknown table expression identifier secret_db.candles_1m. (UNKNOWN_TABLE) (version 26.7.1.1)',
    );
    let bodies: Record<string, unknown>[];
    try {
      bodies = [respond(refused), respond(server)].map((r) => {
        expect(r.status).toBe(503);
        return r.body;
      });
    } finally {
      Logger.overrideLogger(false);
    }
    expect(bodies[0]).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'storage-unavailable',
      message: 'the history store did not answer (connection refused)',
      reason: 'connection refused',
      correlationId: expect.any(String),
    });
    expect(bodies[1]).toMatchObject({ code: 'storage-unavailable', reason: 'ClickHouse UNKNOWN_TABLE' });
    for (const b of bodies)
      expect(JSON.stringify(b)).not.toMatch(
        /s3cret|orderflow:|127\.0\.0\.1|ECONNREFUSED|secret_db|DB::Exception|version/,
      );
    expect(lines).toHaveLength(2);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged[0]).toMatchObject({
      level: 'warn',
      correlationId: bodies[0]!['correlationId'],
      message: expect.stringContaining('ECONNREFUSED 127.0.0.1:1'),
    });
    expect(logged[1]).toMatchObject({
      correlationId: bodies[1]!['correlationId'],
      message: expect.stringContaining('secret_db.candles_1m'),
    });
    expect(lines.join('\n')).not.toContain('s3cret');
  });
});
