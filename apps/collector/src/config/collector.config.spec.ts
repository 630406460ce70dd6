import { ConfigError } from '@orderflow/config';
import { describe, expect, it } from 'vitest';
import { loadCollectorConfig } from './collector.config.js';

describe('collector configuration', () => {
  it('defaults to the real endpoints of the configured exchange', () => {
    const c = loadCollectorConfig({ COLLECTOR_EXCHANGE: 'binance-futures', COLLECTOR_SYMBOLS: 'BTCUSDT,ETHUSDT' });
    expect(c).toMatchObject({
      symbols: ['BTCUSDT', 'ETHUSDT'],
      wsUrl: 'wss://fstream.binance.com',
      restUrl: 'https://fapi.binance.com',
      natsServers: ['nats://127.0.0.1:4222'],
      startupBackfillMinutes: 5,
      plannedReconnectMs: 23 * 3_600_000,
    });
    expect(c.exchange).toMatchObject({ id: 'binance-futures', protocol: 'binance-usdm', simulated: false });
  });

  it('names every bad variable at once', () => {
    let err: unknown;
    try {
      loadCollectorConfig({
        COLLECTOR_EXCHANGE: 'ftx',
        COLLECTOR_BACKFILL_MINUTES: '-1',
        COLLECTOR_INSTRUMENTS: 'BTCUSDT:abc',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toMatch(/COLLECTOR_EXCHANGE must be one of binance, binance-futures, .*got "ftx"/);
    expect(problems).toMatch(/COLLECTOR_SYMBOLS is required/);
    expect(problems).toMatch(/COLLECTOR_INSTRUMENTS entries must be SYMBOL:TICK_SIZE:QUANTITY_STEP/);
    expect(problems).toMatch(/COLLECTOR_BACKFILL_MINUTES must be an integer from 0 to 1440, got "-1"/);
  });

  it('takes a NATS cluster as a comma-separated NATS_URL, and stream replicas for both streams', () => {
    const c = loadCollectorConfig({
      COLLECTOR_EXCHANGE: 'binance',
      COLLECTOR_SYMBOLS: 'BTCUSDT',
      NATS_URL: 'nats://10.0.0.1:4222, nats://10.0.0.2:4222,nats://10.0.0.3:4222',
      TRADES_REPLICAS: '3',
    });
    expect(c.natsServers).toEqual(['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222', 'nats://10.0.0.3:4222']);
    expect(c.stream.replicas).toBe(3);
    expect(() =>
      loadCollectorConfig({
        COLLECTOR_EXCHANGE: 'binance',
        COLLECTOR_SYMBOLS: 'BTCUSDT',
        NATS_URL: 'nats://a:1,http://b:2',
      }),
    ).toThrow('NATS_URL must be nats: or tls: URLs separated by commas, got "nats://a:1,http://b:2"');
  });

  it('requires explicit endpoints for a simulated exchange', () => {
    expect(() => loadCollectorConfig({ COLLECTOR_EXCHANGE: 'sim-binance', COLLECTOR_SYMBOLS: 'BTCUSDT' })).toThrow(
      /simulated exchange \(sim-binance\) needs COLLECTOR_WS_URL/,
    );
  });
});
