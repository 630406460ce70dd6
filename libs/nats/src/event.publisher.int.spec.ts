import { EVENTS_STREAM, type DeadLetter, type GapEvent } from '@orderflow/contracts';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventPublisher, MAX_RAW_BYTES } from './event.publisher.js';
import { silentLogger } from './logger.js';
import { connectNats, drainNats } from './nats.connection.js';
import { ensureStreams } from './streams.js';
import { readStream, startNats, type NatsServer } from './testing/nats-server.js';

describe('EventPublisher (nats-server)', () => {
  let server: NatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await startNats();
    nc = await connectNats({ servers: server.url, name: 'event-publisher-spec', logger: silentLogger });
    await ensureStreams(nc, { maxAgeMs: 3_600_000, maxBytes: 64 * 1024 * 1024, duplicateWindowMs: 120_000 });
  });
  afterAll(async () => {
    await drainNats(nc);
    await server.stop();
  });

  it('publishes dead letters and gaps as JSON on their subjects, in order, a repeated gap once', async () => {
    const pub = new EventPublisher(jetstream(nc), { logger: silentLogger });
    const dl: DeadLetter = {
      exchange: 'binance',
      receivedAtMs: 1_735_689_600_123,
      code: 'bad-json',
      reason: 'Unexpected token',
      raw: '{"e":"aggTrade",',
    };
    const huge: DeadLetter = {
      exchange: 'okx',
      receivedAtMs: 1_735_689_600_124,
      code: 'too-big',
      reason: 'frame too large',
      raw: 'é'.repeat(50_000),
    };
    const detected: GapEvent = {
      exchange: 'binance',
      symbol: 'BTCUSDT',
      fromId: '3358000010',
      toId: '3358000019',
      missing: 10,
      detectedAtMs: 1_735_689_600_200,
      status: 'detected',
      reason: 'aggTrade id jumped',
    };
    const filled: GapEvent = { ...detected, status: 'filled', reason: 'filled from REST' };
    pub.deadLetter(dl);
    pub.gap(detected);
    pub.deadLetter(huge);
    pub.gap(filled);
    pub.gap(detected); // reported twice: the same message id, dropped by JetStream
    await pub.close();
    expect(pub.stats()).toMatchObject({
      deadLettersIn: 2,
      gapsIn: 3,
      published: 5,
      duplicateAcks: 1,
      dropped: 0,
      queued: 0,
      inFlight: 0,
    });

    const stored = await readStream(nc, EVENTS_STREAM);
    expect(stored.map((m) => m.subject)).toEqual([
      'deadletter.binance',
      'gaps.binance.BTCUSDT',
      'deadletter.okx',
      'gaps.binance.BTCUSDT',
    ]);
    expect(JSON.parse(stored[0]!.text)).toEqual(dl);
    expect(JSON.parse(stored[1]!.text)).toEqual(detected);
    expect(JSON.parse(stored[3]!.text)).toEqual(filled);
    const cut = JSON.parse(stored[2]!.text) as DeadLetter;
    expect(Buffer.byteLength(cut.raw)).toBeLessThanOrEqual(MAX_RAW_BYTES);
    expect(cut.raw).toBe('é'.repeat(MAX_RAW_BYTES / 2));
    expect(stored.every((m) => m.msgId !== undefined)).toBe(true);
  });
});
