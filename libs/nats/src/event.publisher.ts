import { randomUUID } from 'node:crypto';
import { deadLetterSubject, EVENTS_STREAM, gapSubject, type DeadLetter, type GapEvent } from '@orderflow/contracts';
import type { Backoff } from '@orderflow/resilience';
import { consoleLogger, type NatsLogger } from './logger.js';
import { errorText, isLogWorthyAttempt, retryBackoff } from './retry.js';
import type { JetStreamPublisher } from './trade.publisher.js';

export interface EventPublisherOptions {
  /** At most this many events wait to be published (default 10,000) ... */
  maxQueued?: number;
  /** ... holding at most this many payload bytes (default 16 MiB). */
  maxQueuedBytes?: number;
  /** A publish not acknowledged within this time is retried (default 5,000 ms). */
  ackTimeoutMs?: number;
  /** Retry waits: first about retryBaseMs, doubling up to retryMaxMs (defaults 100 and 5,000 ms). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** The stream the events must land in (Nats-Expected-Stream); default COLLECTOR_EVENTS. */
  expectedStream?: string;
  logger?: NatsLogger;
}

export interface EventPublisherStats {
  deadLettersIn: number;
  gapsIn: number;
  published: number;
  duplicateAcks: number;
  retries: number;
  /** Events dropped because the queue was full (dead letters go first; each drop is logged). */
  dropped: number;
  queued: number;
  queuedBytes: number;
  inFlight: number;
}

interface QueuedEvent {
  readonly kind: 'deadletter' | 'gap';
  readonly subject: string;
  readonly msgId: string;
  readonly payload: Uint8Array;
  attempts: number;
}

/** Dead letters carry the raw frame cut to 64 KiB (UTF-8 bytes), as the contract says. */
export const MAX_RAW_BYTES = 64 * 1024;

const encoder = new TextEncoder();

function cutRaw(raw: string): string {
  if (raw.length * 3 <= MAX_RAW_BYTES || Buffer.byteLength(raw, 'utf8') <= MAX_RAW_BYTES) return raw;
  // cut on a character boundary: drop a trailing partial UTF-8 sequence (shown as U+FFFD)
  return Buffer.from(raw, 'utf8')
    .subarray(0, MAX_RAW_BYTES)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
}

/**
 * Publishes collector events as JSON to COLLECTOR_EVENTS: dead letters on `deadletter.<exchange>`,
 * gap events on `gaps.<exchange>.<symbol>`. One publish at a time, in the order given (a gap's
 * "detected" lands before its "filled"), each retried with backoff under the same Nats-Msg-Id
 * until acknowledged. The queue is bounded: when it is full the oldest waiting dead letter is
 * dropped (or, with none, the new event), counted in `dropped` and logged, never silently.
 */
export class EventPublisher {
  private readonly maxQueued: number;
  private readonly maxQueuedBytes: number;
  private readonly ackTimeoutMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly retryWaits: Backoff;
  private readonly expectedStream: string;
  private readonly log: NatsLogger;

  private queue: QueuedEvent[] = [];
  private queuedBytes = 0;
  private sending = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private closing = false;
  private stopped = false;
  private readonly counters = { deadLettersIn: 0, gapsIn: 0, published: 0, duplicateAcks: 0, retries: 0, dropped: 0 };

  constructor(
    private readonly js: JetStreamPublisher,
    o: EventPublisherOptions = {},
  ) {
    this.maxQueued = o.maxQueued ?? 10_000;
    this.maxQueuedBytes = o.maxQueuedBytes ?? 16 * 1024 * 1024;
    this.ackTimeoutMs = o.ackTimeoutMs ?? 5000;
    this.retryBaseMs = o.retryBaseMs ?? 100;
    this.retryMaxMs = o.retryMaxMs ?? 5000;
    this.expectedStream = o.expectedStream ?? EVENTS_STREAM;
    this.log = o.logger ?? consoleLogger('event-publisher');
    for (const [k, v] of [
      ['maxQueued', this.maxQueued],
      ['maxQueuedBytes', this.maxQueuedBytes],
      ['ackTimeoutMs', this.ackTimeoutMs],
      ['retryBaseMs', this.retryBaseMs],
      ['retryMaxMs', this.retryMaxMs],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 1)
        throw new Error(`EventPublisher: ${k} must be a positive integer, got ${v}`);
    }
    this.retryWaits = retryBackoff(this.retryBaseMs, this.retryMaxMs);
  }

  /** Queues a dead letter for `deadletter.<exchange>` (raw cut to 64 KiB). */
  deadLetter(d: DeadLetter): void {
    this.counters.deadLettersIn++;
    const body: DeadLetter = {
      exchange: d.exchange,
      receivedAtMs: d.receivedAtMs,
      code: d.code,
      reason: d.reason,
      raw: cutRaw(d.raw),
    };
    this.enqueue({
      kind: 'deadletter',
      subject: deadLetterSubject(d.exchange),
      msgId: `deadletter:${d.exchange}:${randomUUID()}`,
      payload: encoder.encode(JSON.stringify(body)),
      attempts: 0,
    });
  }

  /** Queues a gap event for `gaps.<exchange>.<symbol>`; the same gap and status twice is one message. */
  gap(g: GapEvent): void {
    this.counters.gapsIn++;
    const body: GapEvent = {
      exchange: g.exchange,
      symbol: g.symbol,
      fromId: g.fromId,
      toId: g.toId,
      missing: g.missing,
      detectedAtMs: g.detectedAtMs,
      status: g.status,
      reason: g.reason,
    };
    if (g.fromTimeUs !== undefined) body.fromTimeUs = g.fromTimeUs;
    if (g.toTimeUs !== undefined) body.toTimeUs = g.toTimeUs;
    this.enqueue({
      kind: 'gap',
      subject: gapSubject(g.exchange, g.symbol),
      msgId: `gap:${g.exchange}:${g.symbol}:${g.fromId}:${g.toId}:${g.status}:${g.detectedAtMs}`,
      payload: encoder.encode(JSON.stringify(body)),
      attempts: 0,
    });
  }

  /** Resolves when every event queued so far is acknowledged (or dropped). */
  flush(): Promise<void> {
    if (this.queue.length === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops accepting events and waits for the queue to empty (at most timeoutMs, then rejects). */
  async close(o: { timeoutMs?: number } = {}): Promise<void> {
    this.closing = true;
    if (this.stopped) return;
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      this.flush().then(() => false),
      ...(o.timeoutMs === undefined
        ? []
        : [new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), o.timeoutMs)))]),
    ]);
    clearTimeout(timer);
    const left = this.queue.length;
    this.stop();
    if (late && left > 0) {
      this.log.error(`closed with ${left} events not acknowledged after ${o.timeoutMs} ms: they were not published`);
      throw new Error(`EventPublisher: closed with ${left} events not acknowledged after ${o.timeoutMs} ms`);
    }
  }

  stats(): EventPublisherStats {
    return {
      ...this.counters,
      queued: this.queue.length,
      queuedBytes: this.queuedBytes,
      inFlight: this.sending ? 1 : 0,
    };
  }

  // -------------------------------------------------------------------------------------------

  private enqueue(e: QueuedEvent): void {
    if (this.closing) throw new Error('EventPublisher: event after close()');
    while (
      this.queue.length > 0 &&
      (this.queue.length + 1 > this.maxQueued || this.queuedBytes + e.payload.length > this.maxQueuedBytes)
    ) {
      // the head may be in flight: never drop it; prefer dropping an old dead letter to any gap
      const from = this.sending || this.retryTimer !== undefined ? 1 : 0;
      const i = this.queue.findIndex((q, k) => k >= from && q.kind === 'deadletter');
      if (i < 0) break;
      const [victim] = this.queue.splice(i, 1);
      this.queuedBytes -= victim!.payload.length;
      this.dropped(victim!, 'an older dead letter made room for a newer event');
    }
    if (this.queue.length + 1 > this.maxQueued || this.queuedBytes + e.payload.length > this.maxQueuedBytes) {
      this.dropped(e, 'queue full of events that could not be published');
      return;
    }
    this.queue.push(e);
    this.queuedBytes += e.payload.length;
    this.next();
  }

  private dropped(e: QueuedEvent, why: string): void {
    this.counters.dropped++;
    const n = this.counters.dropped;
    if (isLogWorthyAttempt(n) || n % 1000 === 0) {
      this.log.error(`DROPPED ${e.kind} event for ${e.subject} (${why}); ${n} dropped so far`, {
        queued: this.queue.length,
        queuedBytes: this.queuedBytes,
      });
    }
  }

  private next(): void {
    if (this.sending || this.retryTimer !== undefined || this.stopped) return;
    const e = this.queue[0];
    if (e === undefined) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    this.sending = true;
    e.attempts++;
    if (e.attempts > 1) this.counters.retries++;
    let sent;
    try {
      sent = this.js.publish(e.subject, e.payload, {
        msgID: e.msgId,
        timeout: this.ackTimeoutMs,
        expect: { streamName: this.expectedStream },
      });
    } catch (err) {
      sent = Promise.reject(err as Error);
    }
    sent.then(
      (ack) => {
        this.sending = false;
        if (this.stopped) return;
        this.queue.shift();
        this.queuedBytes -= e.payload.length;
        this.counters.published++;
        if (ack.duplicate) this.counters.duplicateAcks++;
        this.next();
      },
      (err: unknown) => {
        this.sending = false;
        if (this.stopped) return;
        const wait = this.retryWaits.delayAfter(e.attempts);
        if (isLogWorthyAttempt(e.attempts)) {
          this.log.warn(
            `${e.subject}: publish of ${e.kind} event failed (attempt ${e.attempts}: ${errorText(err)}); retrying in ${wait} ms`,
            { queued: this.queue.length },
          );
        }
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.next();
        }, wait);
      },
    );
  }

  private stop(): void {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const w of this.idleWaiters) w();
    this.idleWaiters = [];
  }
}
