import type { JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import {
  BatchPullConsumer,
  type ConsumerClient,
  type ConsumerManager,
  type DurableConsumerSpec,
  PullConsumer,
  ensureDurableConsumer,
} from './pull.consumer.js';

const SPEC: DurableConsumerSpec = {
  stream: 'TRADES',
  durable: 'agg_binance_BTCUSDT',
  filterSubject: 'trades.binance.BTCUSDT',
  ackWaitMs: 30_000,
  maxAckPending: 1000,
};

/** A consumer manager that records its calls; `stored` is the durable's config on the server. */
function fakeManager(stored: { ack_wait: number; max_ack_pending: number } | null, infoError?: Error) {
  const calls: string[] = [];
  const jsm = {
    consumers: {
      info: async (stream: string, durable: string) => {
        calls.push(`info ${stream} ${durable}`);
        if (infoError) throw infoError;
        if (stored === null) throw new Error('consumer not found');
        return { config: stored };
      },
      update: async (stream: string, durable: string, c: unknown) =>
        void calls.push(`update ${stream} ${durable} ${JSON.stringify(c)}`),
      add: async (stream: string, c: unknown) => void calls.push(`add ${stream} ${JSON.stringify(c)}`),
    },
  };
  return { jsm: jsm as unknown as ConsumerManager, calls };
}

describe('ensureDurableConsumer', () => {
  it('creates a missing durable: explicit acks, the whole stream, redelivered without limit', async () => {
    const { jsm, calls } = fakeManager(null);
    await ensureDurableConsumer(jsm, SPEC);
    expect(calls).toEqual([
      'info TRADES agg_binance_BTCUSDT',
      `add TRADES ${JSON.stringify({ durable_name: 'agg_binance_BTCUSDT', filter_subject: 'trades.binance.BTCUSDT', ack_policy: 'explicit', deliver_policy: 'all', ack_wait: nanos(30_000), max_ack_pending: 1000, max_deliver: -1 })}`,
    ]);
  });

  it('updates the ack wait and the ack-pending limit of an existing durable when they differ, else leaves it', async () => {
    const differs = fakeManager({ ack_wait: nanos(10_000), max_ack_pending: 1000 });
    await ensureDurableConsumer(differs.jsm, SPEC);
    expect(differs.calls).toEqual([
      'info TRADES agg_binance_BTCUSDT',
      `update TRADES agg_binance_BTCUSDT ${JSON.stringify({ ack_wait: nanos(30_000), max_ack_pending: 1000 })}`,
    ]);
    const same = fakeManager({ ack_wait: nanos(30_000), max_ack_pending: 1000 });
    await ensureDurableConsumer(same.jsm, SPEC);
    expect(same.calls).toEqual(['info TRADES agg_binance_BTCUSDT']);
  });

  it('without an ack-pending limit: creates the durable with the server default, and tunes only the ack wait', async () => {
    const { maxAckPending: _, ...spec } = SPEC;
    const missing = fakeManager(null);
    await ensureDurableConsumer(missing.jsm, spec);
    expect(missing.calls[1]).toBe(
      `add TRADES ${JSON.stringify({ durable_name: 'agg_binance_BTCUSDT', filter_subject: 'trades.binance.BTCUSDT', ack_policy: 'explicit', deliver_policy: 'all', ack_wait: nanos(30_000), max_deliver: -1 })}`,
    );
    const otherLimit = fakeManager({ ack_wait: nanos(30_000), max_ack_pending: 20 });
    await ensureDurableConsumer(otherLimit.jsm, spec);
    expect(otherLimit.calls).toEqual(['info TRADES agg_binance_BTCUSDT']);
    const otherWait = fakeManager({ ack_wait: nanos(10_000), max_ack_pending: 20 });
    await ensureDurableConsumer(otherWait.jsm, spec);
    expect(otherWait.calls).toEqual([
      'info TRADES agg_binance_BTCUSDT',
      `update TRADES agg_binance_BTCUSDT ${JSON.stringify({ ack_wait: nanos(30_000) })}`,
    ]);
  });

  it('passes on any other failure', async () => {
    const { jsm, calls } = fakeManager(null, new Error('timeout'));
    await expect(ensureDurableConsumer(jsm, SPEC)).rejects.toThrow('timeout');
    expect(calls).toEqual(['info TRADES agg_binance_BTCUSDT']);
  });
});

/** The messages of one consume(): yields what is pushed, ends on close(), throws what fail() gets. */
class FakeMessages implements AsyncIterable<JsMsg> {
  private queue: (JsMsg | Error)[] = [];
  private wake: (() => void) | null = null;
  closed = false;

  push(...items: (JsMsg | Error)[]): void {
    this.queue.push(...items);
    this.wake?.();
  }

  close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    return Promise.resolve();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<JsMsg> {
    for (;;) {
      const next = this.queue.shift();
      if (next instanceof Error) throw next;
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
    }
  }
}

const msg = (seq: number) => ({ seq }) as unknown as JsMsg;

function fakeClient(opened: FakeMessages[], options: unknown[]): ConsumerClient {
  return {
    consumers: {
      get: async () => ({
        consume: async (o: unknown) => {
          options.push(o);
          const m = new FakeMessages();
          opened.push(m);
          return m;
        },
      }),
    },
  } as unknown as ConsumerClient;
}

const until = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe('PullConsumer', () => {
  it('hands messages over one at a time, in order, pulling 64 at a time for 5 s', async () => {
    const opened: FakeMessages[] = [];
    const options: unknown[] = [];
    const handled: number[] = [];
    let busy = 0;
    let overlapped = false;
    const pc = new PullConsumer(
      fakeClient(opened, options),
      fakeManager({ ack_wait: nanos(30_000), max_ack_pending: 1000 }).jsm,
      {
        ...SPEC,
        handle: async (m) => {
          overlapped ||= busy > 0;
          busy++;
          await new Promise((r) => setTimeout(r, 1));
          handled.push(m.seq);
          busy--;
        },
      },
    );
    pc.start();
    await until(() => opened.length === 1);
    opened[0]!.push(msg(1), msg(2), msg(3));
    await until(() => handled.length === 3);
    await pc.stop();
    expect(handled).toEqual([1, 2, 3]);
    expect(overlapped).toBe(false);
    expect(options).toEqual([{ max_messages: 64, expires: 5000 }]);
    expect(opened[0]!.closed).toBe(true);
  });

  it('reopens after a failure with a growing wait, back to the first once a message was handled', async () => {
    const opened: FakeMessages[] = [];
    const events: string[] = [];
    let fail = true;
    const pc = new PullConsumer(
      fakeClient(opened, []),
      fakeManager({ ack_wait: nanos(30_000), max_ack_pending: 1000 }).jsm,
      {
        ...SPEC,
        backoff: { initialMs: 10, factor: 2, maxMs: 1000, jitter: 0 },
        handle: async (m) => {
          events.push(`handled ${m.seq}`);
          if (m.seq === 3 && fail) {
            fail = false;
            throw new Error('handler failed');
          }
        },
        onOpen: () => void events.push('open'),
        onFailure: (e, wait) => void events.push(`failed (${(e as Error).message}) ${wait}`),
      },
    );
    pc.start();
    await until(() => opened.length === 1);
    opened[0]!.push(new Error('heartbeats missed'));
    await until(() => opened.length === 2);
    opened[1]!.push(new Error('heartbeats missed'));
    await until(() => opened.length === 3);
    opened[2]!.push(msg(1), msg(2), msg(3));
    await until(() => opened.length === 4);
    opened[3]!.push(msg(3));
    await until(() => events.length === 11);
    await pc.stop();
    expect(events).toEqual([
      'open',
      'failed (heartbeats missed) 10',
      'open',
      'failed (heartbeats missed) 20',
      'open',
      'handled 1',
      'handled 2',
      'handled 3',
      'failed (handler failed) 10',
      'open',
      'handled 3',
    ]);
  });

  it('reopens when the consumer cannot be created, and logs the failure without onFailure', async () => {
    const { jsm } = fakeManager(null, new Error('JetStream not enabled'));
    const warnings: string[] = [];
    const pc = new PullConsumer(fakeClient([], []), jsm, {
      ...SPEC,
      backoff: { initialMs: 5, maxMs: 5 },
      handle: async () => undefined,
      logger: { info: () => undefined, error: () => undefined, warn: (m) => void warnings.push(m) },
    });
    pc.start();
    await until(() => warnings.length >= 2);
    await pc.stop();
    expect(warnings[0]).toMatch(
      /^TRADES agg_binance_BTCUSDT: consumer failed \(JetStream not enabled\); again in \d+ ms$/,
    );
  });

  it('stops while the consumer is being opened without leaving it open, and says nothing after stop()', async () => {
    const opened: FakeMessages[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const failures: unknown[] = [];
    const client = {
      consumers: {
        get: async () => {
          await gate;
          return { consume: async () => opened[opened.push(new FakeMessages()) - 1] };
        },
      },
    } as unknown as ConsumerClient;
    const pc = new PullConsumer(client, fakeManager({ ack_wait: nanos(30_000), max_ack_pending: 1000 }).jsm, {
      ...SPEC,
      handle: async () => undefined,
      onOpen: () => failures.push('opened'),
      onFailure: (e) => failures.push(e),
    });
    pc.start();
    const stopped = pc.stop();
    release();
    await stopped;
    expect(opened).toHaveLength(1);
    expect(opened[0]!.closed).toBe(true);
    expect(failures).toEqual([]);
  });
});

/**
 * A consumer whose fetches return the planned batches in turn (an Error is thrown while the batch
 * is read); with nothing planned, a fetch ends empty after a few ms, as an expired one does.
 */
function fakeFetchClient(plan: (JsMsg[] | Error)[], fetches: unknown[]): ConsumerClient {
  return {
    consumers: {
      get: async () => ({
        fetch: async (o: unknown) => {
          fetches.push(o);
          const next = plan.shift();
          return (async function* () {
            if (next === undefined) await new Promise((r) => setTimeout(r, 5));
            else if (next instanceof Error) throw next;
            else yield* next;
          })();
        },
      }),
    },
  } as unknown as ConsumerClient;
}

describe('BatchPullConsumer', () => {
  it('hands each fetched batch over whole, one at a time in stream order, fetching 500 for 1 s; an empty fetch is not handed over', async () => {
    const plan: (JsMsg[] | Error)[] = [[msg(1), msg(2), msg(3)], [], [msg(4)]];
    const fetches: unknown[] = [];
    const handled: number[][] = [];
    let busy = 0;
    let overlapped = false;
    const bc = new BatchPullConsumer(
      fakeFetchClient(plan, fetches),
      fakeManager({ ack_wait: nanos(30_000), max_ack_pending: 1000 }).jsm,
      {
        ...SPEC,
        handle: async (batch) => {
          overlapped ||= busy > 0;
          busy++;
          await new Promise((r) => setTimeout(r, 1));
          handled.push(batch.map((m) => m.seq));
          busy--;
        },
      },
    );
    bc.start();
    await until(() => handled.length === 2);
    await bc.stop();
    expect(handled).toEqual([[1, 2, 3], [4]]);
    expect(overlapped).toBe(false);
    expect(fetches.length).toBeGreaterThanOrEqual(3);
    expect(new Set(fetches.map((f) => JSON.stringify(f)))).toEqual(
      new Set([JSON.stringify({ max_messages: 500, expires: 1000 })]),
    );
  });

  it('reopens after a failed fetch or handler with a growing wait, back to the first once a fetch went through', async () => {
    const plan: (JsMsg[] | Error)[] = [
      new Error('heartbeats missed'),
      new Error('heartbeats missed'),
      [msg(1), msg(2)],
      [msg(3)],
      new Error('heartbeats missed'),
    ];
    const events: string[] = [];
    let fail = true;
    const bc = new BatchPullConsumer(
      fakeFetchClient(plan, []),
      fakeManager({ ack_wait: nanos(30_000), max_ack_pending: 1000 }).jsm,
      {
        ...SPEC,
        backoff: { initialMs: 10, factor: 2, maxMs: 1000, jitter: 0 },
        handle: async (batch) => {
          events.push(`handled ${batch.map((m) => m.seq).join(',')}`);
          if (fail) {
            fail = false;
            throw new Error('write failed');
          }
        },
        onOpen: () => void events.push('open'),
        onFailure: (e, wait) => void events.push(`failed (${(e as Error).message}) ${wait}`),
      },
    );
    bc.start();
    await until(() => events.length === 10);
    await bc.stop();
    expect(events).toEqual([
      'open',
      'failed (heartbeats missed) 10',
      'open',
      'failed (heartbeats missed) 20',
      'open',
      'handled 1,2',
      'failed (write failed) 40',
      'open',
      'handled 3',
      'failed (heartbeats missed) 10',
    ]);
  });

  it('reopens when the consumer cannot be created, and logs the failure without onFailure', async () => {
    const { jsm } = fakeManager(null, new Error('stream not found'));
    const warnings: string[] = [];
    const bc = new BatchPullConsumer(fakeFetchClient([], []), jsm, {
      ...SPEC,
      backoff: { initialMs: 5, maxMs: 5 },
      handle: async () => undefined,
      logger: { info: () => undefined, error: () => undefined, warn: (m) => void warnings.push(m) },
    });
    bc.start();
    await until(() => warnings.length >= 2);
    await bc.stop();
    expect(warnings[0]).toMatch(/^TRADES agg_binance_BTCUSDT: consumer failed \(stream not found\); again in \d+ ms$/);
  });

  it('stops while the consumer is being opened without fetching, and says nothing after stop()', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const said: unknown[] = [];
    let fetched = 0;
    const client = {
      consumers: {
        get: async () => {
          await gate;
          return { fetch: async () => void fetched++ };
        },
      },
    } as unknown as ConsumerClient;
    const bc = new BatchPullConsumer(client, fakeManager({ ack_wait: nanos(30_000), max_ack_pending: 1000 }).jsm, {
      ...SPEC,
      handle: async () => undefined,
      onOpen: () => said.push('opened'),
      onFailure: (e) => said.push(e),
    });
    bc.start();
    const stopped = bc.stop();
    release();
    await stopped;
    expect(fetched).toBe(0);
    expect(said).toEqual([]);
  });

  it('hands over the batch in hand before stop() resolves', async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const handled: number[][] = [];
    const bc = new BatchPullConsumer(
      fakeFetchClient([[msg(1)]], []),
      fakeManager({ ack_wait: nanos(30_000), max_ack_pending: 1000 }).jsm,
      {
        ...SPEC,
        handle: async (batch) => {
          await slow;
          handled.push(batch.map((m) => m.seq));
        },
      },
    );
    bc.start();
    await new Promise((r) => setTimeout(r, 20));
    const stopped = bc.stop();
    release();
    await stopped;
    expect(handled).toEqual([[1]]);
  });
});
