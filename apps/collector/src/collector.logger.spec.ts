import { describe, expect, it } from 'vitest';
import { collectorLogger } from './collector.logger.js';
import type { CollectorConfig } from './config/collector.config.js';

describe('collectorLogger', () => {
  const config = { exchange: { id: 'binance-futures' }, symbols: ['BTCUSDT', 'ETHUSDT'] } as unknown as CollectorConfig;
  const lines: { level: string; m: string; f: unknown }[] = [];
  const rec = (level: string) => (m: string, f?: unknown) => void lines.push({ level, m, f });
  const log = collectorLogger({ log: rec('log'), warn: rec('warn'), error: rec('error') }, config);

  it('puts the exchange on every line and the symbol on the lines about one of its symbols', () => {
    lines.length = 0;
    log.warn('binance-futures BTCUSDT: gap of 12 aggregate ids (100..111), backfilling from REST');
    log.error('binance-futures ETHUSDT 1m: something');
    log.warn('binance-futures: malformed frame (INVALID_JSON): Unexpected token');
    log.log('binance-futures connection 1: reconnecting in 1000 ms (attempt 2)');
    log.log('binance-futures SOLUSDT: not one of ours');
    log.log('NATS: connected to 127.0.0.1:4222', { server: '127.0.0.1:4222' });
    expect(lines.map((l) => [l.level, l.f])).toEqual([
      ['warn', { exchange: 'binance-futures', symbol: 'BTCUSDT' }],
      ['error', { exchange: 'binance-futures', symbol: 'ETHUSDT' }],
      ['warn', { exchange: 'binance-futures' }],
      ['log', { exchange: 'binance-futures' }],
      ['log', { exchange: 'binance-futures' }],
      ['log', { exchange: 'binance-futures', server: '127.0.0.1:4222' }],
    ]);
  });
});
