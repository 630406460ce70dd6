import type { JetStreamPublishOptions, PubAck } from '@nats-io/jetstream';
import type { Payload } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { EventPublisher } from './event.publisher.js';
import { silentLogger } from './logger.js';

const dl = (i: number) => ({ exchange: 'binance', receivedAtMs: 1, code: 'bad', reason: `r${i}`, raw: `frame ${i}` });
const gap = (i: number) => ({
  exchange: 'binance',
  symbol: 'BTCUSDT',
  fromId: String(i),
  toId: String(i),
  missing: 1,
  detectedAtMs: i,
  status: 'detected' as const,
  reason: 'x',
});

describe('EventPublisher (fake JetStream)', () => {
  it('retries a failed publish with the same msg id until it is acknowledged, keeping the order', async () => {
    const attempts: { subject: string; msgId: string | undefined }[] = [];
    let failures = 3;
    const js = {
      publish(subject: string, _p?: Payload, o?: Partial<JetStreamPublishOptions>): Promise<PubAck> {
        attempts.push({ subject, msgId: o?.msgID });
        if (failures-- > 0) return Promise.reject(new Error('timeout'));
        return Promise.resolve({ stream: 'COLLECTOR_EVENTS', seq: attempts.length, duplicate: false });
      },
    };
    const pub = new EventPublisher(js, { retryBaseMs: 1, retryMaxMs: 4, logger: silentLogger });
    pub.gap(gap(1));
    pub.deadLetter(dl(2));
    await pub.flush();
    expect(attempts.map((a) => a.subject)).toEqual([
      'gaps.binance.BTCUSDT',
      'gaps.binance.BTCUSDT',
      'gaps.binance.BTCUSDT',
      'gaps.binance.BTCUSDT',
      'deadletter.binance',
    ]);
    expect(new Set(attempts.slice(0, 4).map((a) => a.msgId)).size).toBe(1);
    expect(pub.stats()).toMatchObject({ published: 2, retries: 3, queued: 0 });
    await pub.close();
  });

  it('is bounded: drops old dead letters before gaps, counting and logging every drop', async () => {
    const errors: string[] = [];
    const js = { publish: () => new Promise<PubAck>(() => undefined) }; // never answers
    const pub = new EventPublisher(js, {
      maxQueued: 3,
      logger: { ...silentLogger, error: (m) => void errors.push(m) },
    });
    pub.deadLetter(dl(1)); // in flight: kept
    pub.gap(gap(2));
    pub.deadLetter(dl(3));
    pub.gap(gap(4)); // full: dead letter 3 goes
    pub.gap(gap(5)); // full of gaps (and the in-flight head): the new one goes
    expect(pub.stats()).toMatchObject({ deadLettersIn: 2, gapsIn: 3, queued: 3, dropped: 2 });
    expect(errors[0]).toMatch(/DROPPED deadletter event for deadletter.binance/);
    expect(errors[1]).toMatch(/DROPPED gap event for gaps.binance.BTCUSDT/);
    await expect(pub.close({ timeoutMs: 20 })).rejects.toThrow(/closed with 3 events not acknowledged/);
  });
});
