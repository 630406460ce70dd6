import { ConfigError } from '@orderflow/config';
import { describe, expect, it } from 'vitest';
import { loadAggregatorConfig, ordinalOf } from './aggregator.config.js';

describe('aggregator configuration', () => {
  it('has defaults for a single local shard', () => {
    const c = loadAggregatorConfig({});
    expect(c).toMatchObject({
      natsServers: ['nats://127.0.0.1:4222'],
      shards: 1,
      shardIndex: 0,
      httpPort: 9400,
      migrate: true,
      flushIntervalMs: 1000,
      liveIntervalMs: 50,
      windowMinutes: 5,
    });
    expect(c.clickhouse).toEqual({
      url: 'http://127.0.0.1:8123',
      username: 'default',
      password: '',
      database: 'orderflow',
    });
  });

  it('runs the migrations as CLICKHOUSE_MIGRATIONS_USER when it is given', () => {
    const c = loadAggregatorConfig({
      CLICKHOUSE_USER: 'orderflow_writer',
      CLICKHOUSE_PASSWORD: 'w',
      CLICKHOUSE_MIGRATIONS_USER: 'orderflow_migrator',
      CLICKHOUSE_MIGRATIONS_PASSWORD: 'm',
    });
    expect(c.clickhouse).toEqual({
      url: 'http://127.0.0.1:8123',
      username: 'orderflow_writer',
      password: 'w',
      database: 'orderflow',
      migrations: { username: 'orderflow_migrator', password: 'm' },
    });
    expect(() => loadAggregatorConfig({ CLICKHOUSE_MIGRATIONS_PASSWORD: 'm' })).toThrow(
      'CLICKHOUSE_MIGRATIONS_PASSWORD is set without CLICKHOUSE_MIGRATIONS_USER',
    );
    expect(() => loadAggregatorConfig({ CLICKHOUSE_MIGRATIONS_USER: 'a b' })).toThrow(
      'CLICKHOUSE_MIGRATIONS_USER must be a ClickHouse user name (letters, digits, _), got "a b"',
    );
  });

  it('takes a NATS cluster as a comma-separated NATS_URL', () => {
    expect(loadAggregatorConfig({ NATS_URL: 'nats://n1:4222,nats://n2:4222,nats://n3:4222' }).natsServers).toEqual([
      'nats://n1:4222',
      'nats://n2:4222',
      'nats://n3:4222',
    ]);
    expect(() => loadAggregatorConfig({ NATS_URL: 'nats://n1:4222,n2:4222' })).toThrow(
      'NATS_URL must be nats: or tls: URLs separated by commas, got "nats://n1:4222,n2:4222"',
    );
  });

  it('takes the shard index from a StatefulSet pod name when not given', () => {
    expect(ordinalOf('orderflow-aggregator-12')).toBe(12);
    expect(ordinalOf('aggregator')).toBeUndefined();
    expect(loadAggregatorConfig({ AGG_SHARDS: '4', HOSTNAME: 'orderflow-aggregator-3' }).shardIndex).toBe(3);
    expect(
      loadAggregatorConfig({ AGG_SHARDS: '4', AGG_SHARD_INDEX: '1', HOSTNAME: 'orderflow-aggregator-3' }).shardIndex,
    ).toBe(1);
  });

  it('names every bad variable at once', () => {
    let err: ConfigError | undefined;
    try {
      loadAggregatorConfig({
        AGG_SHARDS: '3',
        HOSTNAME: 'box',
        CLICKHOUSE_DATABASE: 'x; DROP TABLE y',
        AGG_LIVE_INTERVAL_MS: '1',
      });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems).toEqual([
      'AGG_SHARD_INDEX is required when AGG_SHARDS > 1 (or a HOSTNAME ending in -<ordinal>, as in a StatefulSet), HOSTNAME is "box"',
      'CLICKHOUSE_DATABASE must be an identifier (letters, digits, _), got "x; DROP TABLE y"',
      'AGG_LIVE_INTERVAL_MS must be an integer from 5 to 60000, got "1"',
    ]);
    expect(() => loadAggregatorConfig({ AGG_SHARDS: '2', AGG_SHARD_INDEX: '2' })).toThrow(
      /shard index 2 must be below AGG_SHARDS \(2\)/,
    );
  });
});
