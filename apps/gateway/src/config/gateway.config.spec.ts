import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@orderflow/config';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig, parseTrustProxy } from './gateway.config.js';

describe('gateway configuration', () => {
  it('has defaults for a local gateway', () => {
    const c = loadGatewayConfig({});
    expect(c).toMatchObject({
      natsServers: ['nats://127.0.0.1:4222'],
      aggShards: 1,
      host: '127.0.0.1',
      port: 8080,
      authToken: null,
      staticDir: null,
      socketPolling: false,
    });
    expect(c.clickhouse).toEqual({
      url: 'http://127.0.0.1:8123',
      username: 'default',
      password: '',
      database: 'orderflow',
    });
    expect(c.limits).toMatchObject({
      subscriptionsPerClient: 20,
      messagesPerSecond: 20,
      maxCandles: 2000,
      conflationMs: 50,
    });
  });

  it('reads every variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-static-'));
    const c = loadGatewayConfig({
      NATS_URL: 'nats://a:1,nats://b:2',
      CLICKHOUSE_URL: 'https://ch:8443/',
      CLICKHOUSE_USER: 'u',
      CLICKHOUSE_PASSWORD: 'p',
      CLICKHOUSE_DATABASE: 'of',
      AGG_SHARDS: '4',
      GATEWAY_HOST: '0.0.0.0',
      GATEWAY_PORT: '0',
      GATEWAY_AUTH_TOKEN: 'x'.repeat(32),
      GATEWAY_STATIC_DIR: dir,
      GATEWAY_SOCKET_POLLING: '1',
      GATEWAY_MAX_SUBSCRIPTIONS_PER_CLIENT: '3',
      GATEWAY_MAX_MESSAGES_PER_SECOND: '7',
      GATEWAY_MAX_CANDLES: '100',
      GATEWAY_CONFLATION_MS: '0',
    });
    expect(c).toMatchObject({
      natsServers: ['nats://a:1', 'nats://b:2'],
      aggShards: 4,
      host: '0.0.0.0',
      port: 0,
      authToken: 'x'.repeat(32),
      staticDir: dir,
      socketPolling: true,
    });
    expect(c.clickhouse).toEqual({ url: 'https://ch:8443', username: 'u', password: 'p', database: 'of' });
    expect(c.limits).toMatchObject({
      subscriptionsPerClient: 3,
      messagesPerSecond: 7,
      maxCandles: 100,
      conflationMs: 0,
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it('names every bad variable at once, and never prints the token', () => {
    let err: ConfigError | undefined;
    try {
      loadGatewayConfig({
        NATS_URL: 'http://x',
        CLICKHOUSE_DATABASE: 'x; DROP TABLE y',
        AGG_SHARDS: '0',
        GATEWAY_PORT: '70000',
        GATEWAY_AUTH_TOKEN: 'short secret',
        GATEWAY_STATIC_DIR: '/no/such/dir',
        GATEWAY_MAX_CANDLES: '5000',
        GATEWAY_SOCKET_POLLING: 'yes',
      });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems).toEqual([
      'CLICKHOUSE_DATABASE must be an identifier (letters, digits, _), got "x; DROP TABLE y"',
      'GATEWAY_AUTH_TOKEN must be 16-256 printable ASCII characters without spaces (the value is not shown)',
      'GATEWAY_STATIC_DIR must be an existing directory (the dashboard\'s build), got "/no/such/dir"',
      'NATS_URL must be nats: or tls: URLs separated by commas, got "http://x"',
      'AGG_SHARDS must be an integer from 1 to 1024, got "0"',
      'GATEWAY_PORT must be an integer from 0 to 65535, got "70000"',
      'GATEWAY_SOCKET_POLLING must be one of 0, 1, got "yes"',
      'GATEWAY_MAX_CANDLES must be an integer from 1 to 2000, got "5000"',
    ]);
    expect(err!.message).not.toContain('short secret');
  });

  it('serves the metrics on a port of its own: 9600 by default, any free one when GATEWAY_PORT is 0, never the public one', () => {
    expect(loadGatewayConfig({})).toMatchObject({ metricsHost: '127.0.0.1', metricsPort: 9600 });
    expect(loadGatewayConfig({ GATEWAY_PORT: '0' })).toMatchObject({ metricsPort: 0 });
    expect(loadGatewayConfig({ GATEWAY_METRICS_HOST: '0.0.0.0', GATEWAY_METRICS_PORT: '9091' })).toMatchObject({
      metricsHost: '0.0.0.0',
      metricsPort: 9091,
    });
    expect(() => loadGatewayConfig({ GATEWAY_PORT: '9000', GATEWAY_METRICS_PORT: '9000' })).toThrow(
      'GATEWAY_METRICS_PORT must differ from GATEWAY_PORT (9000)',
    );
  });

  it('reads the HTTP API limits, with defaults', () => {
    expect(loadGatewayConfig({}).http).toEqual({
      maxConcurrentPerClient: 4,
      ratePerMinute: 120,
      burst: 30,
      maxConcurrent: 16,
    });
    const c = loadGatewayConfig({
      GATEWAY_HTTP_MAX_CONCURRENT_PER_CLIENT: '2',
      GATEWAY_HTTP_RATE_PER_MINUTE: '600',
      GATEWAY_HTTP_BURST: '5',
      GATEWAY_HTTP_MAX_CONCURRENT: '8',
    });
    expect(c.http).toEqual({ maxConcurrentPerClient: 2, ratePerMinute: 600, burst: 5, maxConcurrent: 8 });
    expect(() => loadGatewayConfig({ GATEWAY_HTTP_RATE_PER_MINUTE: '0' })).toThrow(
      'GATEWAY_HTTP_RATE_PER_MINUTE must be an integer from 1 to 1000000, got "0"',
    );
  });

  it('GATEWAY_TRUST_PROXY: none by default, a hop count, or addresses, CIDRs and names; anything else is named', () => {
    expect(loadGatewayConfig({}).trustProxy).toBe(false);
    expect(parseTrustProxy('0').value).toBe(false);
    expect(parseTrustProxy('1').value).toBe(1);
    expect(parseTrustProxy('loopback, 10.0.0.0/8,fd00::/8, 192.168.1.7').value).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::/8',
      '192.168.1.7',
    ]);
    for (const bad of ['11', 'proxy.example', '10.0.0.0/33', '10.0.0.0/8/1', 'fd00::/129']) {
      expect(parseTrustProxy(bad).problem, bad).toMatch(/^GATEWAY_TRUST_PROXY must be/);
    }
    expect(() => loadGatewayConfig({ GATEWAY_TRUST_PROXY: 'everyone' })).toThrow(
      'GATEWAY_TRUST_PROXY must be a hop count (0-10) or IP addresses, CIDRs and loopback, linklocal, uniquelocal separated by commas, got "everyone"',
    );
  });
});
