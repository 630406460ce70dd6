import { EVENTS_STREAM, TRADES_STREAM } from '@orderflow/contracts';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from './logger.js';
import { connectNats, drainNats } from './nats.connection.js';
import { ensureStreams } from './streams.js';
import { startNats, type NatsServer } from './testing/nats-server.js';

const LIMITS = { maxAgeMs: 3_600_000, maxBytes: 64 * 1024 * 1024, duplicateWindowMs: 120_000 };

describe('ensureStreams (nats-server)', () => {
  let server: NatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await startNats();
    nc = await connectNats({ servers: server.url, name: 'streams-spec', logger: silentLogger });
  });
  afterAll(async () => {
    await drainNats(nc);
    await server.stop();
  });

  it('creates TRADES and COLLECTOR_EVENTS with the limits, and leaves them alone the second time', async () => {
    const first = await ensureStreams(nc, { ...LIMITS, events: { maxBytes: 8 * 1024 * 1024 } });
    expect(first.map((r) => [r.stream, r.action])).toEqual([
      [TRADES_STREAM, 'created'],
      [EVENTS_STREAM, 'created'],
    ]);
    const jsm = await jetstreamManager(nc);
    const trades = (await jsm.streams.info(TRADES_STREAM)).config;
    expect(trades).toMatchObject({
      subjects: ['trades.>'],
      storage: StorageType.File,
      max_age: nanos(3_600_000),
      max_bytes: 64 * 1024 * 1024,
      duplicate_window: nanos(120_000),
      num_replicas: 1,
      discard: 'old',
      retention: 'limits',
    });
    const events = (await jsm.streams.info(EVENTS_STREAM)).config;
    expect([...events.subjects].sort()).toEqual(['deadletter.>', 'gaps.>']);
    expect(events.max_bytes).toBe(8 * 1024 * 1024);
    expect(events.max_age).toBe(nanos(3_600_000));

    const again = await ensureStreams(nc, { ...LIMITS, events: { maxBytes: 8 * 1024 * 1024 } });
    expect(again.map((r) => r.action)).toEqual(['unchanged', 'unchanged']);
  });

  it('updates limits that changed', async () => {
    const res = await ensureStreams(nc, { ...LIMITS, maxBytes: 128 * 1024 * 1024 });
    expect(res.map((r) => [r.stream, r.action, r.changed])).toEqual([
      [TRADES_STREAM, 'updated', ['max_bytes']],
      [EVENTS_STREAM, 'updated', ['max_bytes']],
    ]);
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info(TRADES_STREAM)).config.max_bytes).toBe(128 * 1024 * 1024);
    expect((await ensureStreams(nc, { ...LIMITS, maxBytes: 128 * 1024 * 1024 })).map((r) => r.action)).toEqual([
      'unchanged',
      'unchanged',
    ]);
  });

  it('names the stream and the step when something fails', async () => {
    await expect(ensureStreams(nc, { ...LIMITS, storage: 'memory' })).rejects.toThrow(
      /stream TRADES has file storage but memory is configured/,
    );
    await expect(ensureStreams(nc, { ...LIMITS, duplicateWindowMs: LIMITS.maxAgeMs + 1 })).rejects.toThrow(
      /TRADES duplicateWindowMs .* must not exceed maxAgeMs/,
    );

    // another stream owns some of our subjects: creating COLLECTOR_EVENTS fails and says why
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(EVENTS_STREAM);
    await jsm.streams.add({ name: 'SOMEONE_ELSE', subjects: ['gaps.okx.>'] });
    await expect(ensureStreams(nc, LIMITS)).rejects.toThrow(
      /could not create stream COLLECTOR_EVENTS \(subjects deadletter\.>, gaps\.>\): .*overlap/,
    );
    await jsm.streams.delete('SOMEONE_ELSE');
    // (TRADES went back to LIMITS in the failed call, before COLLECTOR_EVENTS failed)
    expect((await ensureStreams(nc, LIMITS)).map((r) => r.action)).toEqual(['unchanged', 'created']);
  });
});
