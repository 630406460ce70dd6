import { describe, expect, it } from 'vitest';
import { ConfigError } from '@orderflow/config';
import { type LogFormat, ServiceLogger, readLogFormat, serviceLoggerFromEnv, withFields } from './logging.js';

const T = Date.UTC(2026, 4, 1, 10, 0, 0, 123);

function capture(format: LogFormat, fields?: Record<string, unknown>) {
  const out: string[] = [];
  const err: string[] = [];
  const logger = new ServiceLogger({
    service: 'aggregator',
    format,
    streams: { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } },
    now: () => T,
    ...(fields ? { fields } : {}),
  });
  return { logger, out, err, json: () => [...out, ...err].map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('LOG_FORMAT', () => {
  it('is text unless set, json or text when set, and anything else is refused naming the variable', () => {
    expect(readLogFormat({})).toBe('text');
    expect(readLogFormat({ LOG_FORMAT: 'json' })).toBe('json');
    expect(readLogFormat({ LOG_FORMAT: ' text ' })).toBe('text');
    expect(() => readLogFormat({ LOG_FORMAT: 'JSON' })).toThrow(/LOG_FORMAT must be one of json, text, got "JSON"/);
  });

  it('a bad value still gives a (text) logger to report it with', () => {
    const streams = { stdout: { write: () => true }, stderr: { write: () => true } };
    const bad = serviceLoggerFromEnv('gateway', { LOG_FORMAT: 'yaml' }, streams);
    expect(bad.logger.format).toBe('text');
    expect(bad.problem).toBeInstanceOf(ConfigError);
    const good = serviceLoggerFromEnv('gateway', { LOG_FORMAT: 'json' }, streams);
    expect(good.logger.format).toBe('json');
    expect(good.problem).toBeNull();
  });
});

describe('ServiceLogger, json', () => {
  it('writes one JSON object per line: time, level, service, shard, exchange, symbol, message, then the other fields', () => {
    const c = capture('json', { shard: 2 });
    c.logger.warn('binance BTCUSDT: gap of 5 ids', { exchange: 'binance', symbol: 'BTCUSDT', from: 10, to: 14 });
    expect(c.out).toHaveLength(1);
    expect(c.out[0]!.endsWith('\n')).toBe(true);
    expect(c.out[0]!.trimEnd()).not.toContain('\n');
    const line = JSON.parse(c.out[0]!) as Record<string, unknown>;
    expect(line).toEqual({
      time: '2026-05-01T10:00:00.123Z',
      level: 'warn',
      service: 'aggregator',
      shard: 2,
      exchange: 'binance',
      symbol: 'BTCUSDT',
      message: 'binance BTCUSDT: gap of 5 ids',
      from: 10,
      to: 14,
    });
    expect(Object.keys(line)).toEqual([
      'time',
      'level',
      'service',
      'shard',
      'exchange',
      'symbol',
      'message',
      'from',
      'to',
    ]);
  });

  it("takes NestJS's calls: a trailing context, error(message, stack, context), Error objects; errors go to stderr", () => {
    const c = capture('json');
    c.logger.log('Nest application successfully started', 'NestApplication');
    const err = new Error('boom');
    c.logger.error(err.message, err.stack, 'ExceptionsHandler');
    c.logger.error('write failed', undefined, 'aggregator');
    c.logger.fatal(err);
    c.logger.debug({ a: 1 }, 'ctx');
    expect(c.out).toHaveLength(2);
    expect(c.err).toHaveLength(3);
    const [started, debug, thrown, failed, fatal] = c.json();
    expect(started).toMatchObject({
      level: 'info',
      context: 'NestApplication',
      message: 'Nest application successfully started',
    });
    expect(debug).toMatchObject({ level: 'debug', context: 'ctx', message: '{"a":1}' });
    expect(thrown).toMatchObject({ level: 'error', context: 'ExceptionsHandler', message: 'boom' });
    expect(thrown!['stack']).toContain('logging.spec.ts');
    expect(failed).toEqual(expect.objectContaining({ level: 'error', context: 'aggregator', message: 'write failed' }));
    expect(fatal).toMatchObject({ level: 'fatal', message: 'boom' });
  });

  it('a field cannot overwrite time, level, service or message; bigints and cycles do not break the line', () => {
    const c = capture('json');
    const cyclic: Record<string, unknown> = { n: 1 };
    cyclic['self'] = cyclic;
    c.logger.log('hello', { time: 'x', level: 'x', service: 'x', message: 'inner', big: 2n ** 70n, cyclic });
    const [line] = c.json();
    expect(line).toMatchObject({
      level: 'info',
      service: 'aggregator',
      message: 'hello',
      detail: 'inner',
      big: '1180591620717411303424',
      cyclic: { n: 1, self: '[circular]' },
    });
    expect(line!['time']).toBe('2026-05-01T10:00:00.123Z');
  });

  it('child loggers and withFields bind fields; a call site field wins', () => {
    const c = capture('json', { shard: 0 });
    const http = c.logger.child({ context: 'http' });
    http.log('GET /api/instruments 200');
    const actor = withFields(c.logger, { exchange: 'bybit', symbol: 'ETHUSDT' });
    actor.warn('restored', { symbol: 'SOLUSDT', minutes: 3 });
    expect(c.json()).toEqual([
      expect.objectContaining({ shard: 0, context: 'http', message: 'GET /api/instruments 200' }),
      expect.objectContaining({ shard: 0, exchange: 'bybit', symbol: 'SOLUSDT', minutes: 3 }),
    ]);
  });
});

describe('ServiceLogger, text', () => {
  it('one readable line: time, level, service/shard, [context], message, then the fields the message does not name', () => {
    const c = capture('text', { shard: 1 });
    c.logger.child({ context: 'runtime' }).warn('binance BTCUSDT: write failed', {
      exchange: 'binance',
      symbol: 'BTCUSDT',
      attempt: 3,
      why: 'socket hang up',
    });
    expect(c.out).toEqual([
      '2026-05-01T10:00:00.123Z WARN  aggregator/1 [runtime] binance BTCUSDT: write failed  attempt=3 why="socket hang up"\n',
    ]);
    c.logger.log('restored', { exchange: 'okx', symbol: 'BTC-USDT-SWAP' });
    expect(c.out[1]).toBe('2026-05-01T10:00:00.123Z INFO  aggregator/1 restored  exchange=okx symbol=BTC-USDT-SWAP\n');
  });

  it('an error prints its stack on the following lines', () => {
    const c = capture('text');
    const e = new Error('boom');
    c.logger.error(e.message, e.stack, 'ExceptionsHandler');
    expect(c.err[0]).toMatch(
      /^2026-05-01T10:00:00.123Z ERROR aggregator \[ExceptionsHandler\] boom\nError: boom\n\s+at /,
    );
  });
});
