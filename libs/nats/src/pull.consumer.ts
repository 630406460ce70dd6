import {
  AckPolicy,
  DeliverPolicy,
  type Consumer,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { Backoff, type BackoffOptions } from '@orderflow/resilience';
import { consoleLogger, type NatsLogger } from './logger.js';
import { errorText } from './retry.js';

/** What the pull consumer needs of a JetStream client and manager (fakes in unit tests). */
export type ConsumerClient = Pick<JetStreamClient, 'consumers'>;
export type ConsumerManager = Pick<JetStreamManager, 'consumers'>;

/**
 * A durable pull consumer that acknowledges explicitly and delivers the stream from its start:
 * every message of `filterSubject`, redelivered without limit until acknowledged.
 */
export interface DurableConsumerSpec {
  stream: string;
  durable: string;
  filterSubject: string;
  /** A delivered message not acknowledged within this time is delivered again. */
  ackWaitMs: number;
  /** At most this many delivered messages wait for their acknowledgement; without it, the server's default. */
  maxAckPending?: number;
}

/**
 * Creates the durable consumer, or brings an existing one's ack wait and ack-pending limit (when
 * the spec sets one) to the spec: the two that operators tune; the filter and the policies are
 * fixed by the name.
 */
export async function ensureDurableConsumer(jsm: ConsumerManager, spec: DurableConsumerSpec): Promise<void> {
  const want: Partial<ConsumerConfig> = {
    durable_name: spec.durable,
    filter_subject: spec.filterSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(spec.ackWaitMs),
    ...(spec.maxAckPending === undefined ? {} : { max_ack_pending: spec.maxAckPending }),
    max_deliver: -1,
  };
  try {
    const info = await jsm.consumers.info(spec.stream, spec.durable);
    const pendingDiffers = spec.maxAckPending !== undefined && info.config.max_ack_pending !== spec.maxAckPending;
    if (info.config.ack_wait !== want.ack_wait || pendingDiffers) {
      await jsm.consumers.update(spec.stream, spec.durable, {
        ack_wait: want.ack_wait!,
        ...(spec.maxAckPending === undefined ? {} : { max_ack_pending: spec.maxAckPending }),
      });
    }
  } catch (e) {
    if (!/consumer not found/i.test((e as Error).message)) throw e;
    await jsm.consumers.add(spec.stream, want);
  }
}

/** What every reader of a durable takes besides the durable: its backoff and where its failures go. */
export interface DurableReaderOptions extends DurableConsumerSpec {
  /**
   * Waits between attempts to open the consumer after a failure; back to the first once a message
   * (or a batch) was handled.
   * @default { initialMs: 500, maxMs: 30_000 } (Backoff's factor and jitter)
   */
  backoff?: BackoffOptions;
  /** Called each time consumption (re)starts: the consumer is readable. */
  onOpen?(): void;
  /**
   * Called when opening, reading or handling failed, before waiting `retryMs` and reopening; not
   * called for failures after stop(). Without it, the failure is logged as a warning.
   */
  onFailure?(err: unknown, retryMs: number): void;
  /** @default consoleLogger('nats') */
  logger?: NatsLogger;
}

/**
 * Reads a durable until `stopped()`: ensures it exists, gets it and hands it to `read`, which
 * returns once stopped (or when its reading ends) and throws on any failure; after a failure, reports
 * it, waits the backoff and starts again. `read` calls `handled()` after each step of progress,
 * which brings the backoff back to its first wait.
 */
async function readUntilStopped(
  js: ConsumerClient,
  jsm: ConsumerManager,
  o: DurableReaderOptions,
  stopped: () => boolean,
  read: (consumer: Consumer, handled: () => void) => Promise<void>,
): Promise<void> {
  const backoff = new Backoff(o.backoff ?? { initialMs: 500, maxMs: 30_000 });
  while (!stopped()) {
    try {
      await ensureDurableConsumer(jsm, o);
      const consumer = await js.consumers.get(o.stream, o.durable);
      await read(consumer, () => backoff.reset());
    } catch (e) {
      if (stopped()) break;
      const wait = backoff.next();
      if (o.onFailure) o.onFailure(e, wait);
      else
        (o.logger ?? consoleLogger('nats')).warn(
          `${o.stream} ${o.durable}: consumer failed (${errorText(e)}); again in ${wait} ms`,
          { retryMs: wait },
        );
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

export interface PullConsumerOptions extends DurableReaderOptions {
  /**
   * Handles one message. The next is handed over only once this resolves, so messages are handled
   * one at a time in stream order. Acknowledging is the handler's (now or later, from elsewhere);
   * a throw counts as a failure of the consumer: it is reopened, and the message is redelivered
   * once its ack wait has passed.
   */
  handle(m: JsMsg): Promise<void>;
  /**
   * Messages a pull request asks for.
   * @default 64
   */
  maxMessages?: number;
  /**
   * Lifetime of each pull request (ms). The client pulls again after two missed idle heartbeats
   * (half of it each) and, while the consumer cannot answer, retries at this interval: a pull held
   * by a JetStream server that died (the durable's leader in a cluster) is replaced within about
   * 5-10 s, instead of about a minute with the client's 30 s default.
   * @default 5000
   */
  expiresMs?: number;
}

/**
 * Consumes a durable pull consumer until stopped: ensures it exists, reads it with `consume()`
 * (which pulls ahead and watches the server's idle heartbeats), hands the messages over one at a
 * time, and on any failure reopens it after a backoff, for as long as it runs.
 */
export class PullConsumer {
  private messages: ConsumerMessages | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private readonly maxMessages: number;
  private readonly expiresMs: number;

  constructor(
    private readonly js: ConsumerClient,
    private readonly jsm: ConsumerManager,
    private readonly o: PullConsumerOptions,
  ) {
    this.maxMessages = o.maxMessages ?? 64;
    this.expiresMs = o.expiresMs ?? 5000;
  }

  get durable(): string {
    return this.o.durable;
  }

  start(): void {
    this.loop ??= readUntilStopped(
      this.js,
      this.jsm,
      this.o,
      () => this.stopped,
      (consumer, handled) => this.read(consumer, handled),
    );
  }

  /** Stops pulling; resolves once the message in hand (if any) is handled and the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close().catch(() => undefined);
    await this.loop;
  }

  /** Creates or updates the durable consumer (start() does it on every (re)open). */
  ensure(): Promise<void> {
    return ensureDurableConsumer(this.jsm, this.o);
  }

  private async read(consumer: Consumer, handled: () => void): Promise<void> {
    this.messages = await consumer.consume({ max_messages: this.maxMessages, expires: this.expiresMs });
    if (this.stopped) {
      // stop() ran while the consumer was being opened, before there was anything to close
      await this.messages.close().catch(() => undefined);
      return;
    }
    this.o.onOpen?.();
    for await (const m of this.messages) {
      await this.o.handle(m);
      handled();
      if (this.stopped) break;
    }
  }
}

export interface BatchPullConsumerOptions extends DurableReaderOptions {
  /**
   * Handles the messages of one fetch, in stream order; never called with none. The next fetch is
   * made only once this resolves. Acknowledging is the handler's; a throw counts as a failure of
   * the consumer: it is reopened after a backoff, and what was not acknowledged is redelivered once
   * its ack wait has passed.
   */
  handle(batch: JsMsg[]): Promise<void>;
  /**
   * Messages a fetch asks for: the largest batch.
   * @default 500
   */
  maxMessages?: number;
  /**
   * How long a fetch waits for its messages (ms): a batch is handed over at the latest this long
   * after its fetch was made, with what arrived by then.
   * @default 1000
   */
  expiresMs?: number;
}

/**
 * Consumes a durable pull consumer in batches until stopped: ensures it exists, fetches up to
 * `maxMessages` at a time, hands each fetched batch over whole (for one write per batch), and on
 * any failure reopens it after a backoff, for as long as it runs.
 */
export class BatchPullConsumer {
  private stopped = false;
  private loop: Promise<void> | null = null;
  private readonly maxMessages: number;
  private readonly expiresMs: number;

  constructor(
    private readonly js: ConsumerClient,
    private readonly jsm: ConsumerManager,
    private readonly o: BatchPullConsumerOptions,
  ) {
    this.maxMessages = o.maxMessages ?? 500;
    this.expiresMs = o.expiresMs ?? 1000;
  }

  get durable(): string {
    return this.o.durable;
  }

  start(): void {
    this.loop ??= readUntilStopped(
      this.js,
      this.jsm,
      this.o,
      () => this.stopped,
      (consumer, handled) => this.read(consumer, handled),
    );
  }

  /**
   * Stops fetching; resolves once the fetch in flight has ended (within `expiresMs`), its batch is
   * handled and the loop has ended.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async read(consumer: Consumer, handled: () => void): Promise<void> {
    if (this.stopped) return;
    this.o.onOpen?.();
    while (!this.stopped) {
      const batch: JsMsg[] = [];
      for await (const m of await consumer.fetch({ max_messages: this.maxMessages, expires: this.expiresMs }))
        batch.push(m);
      if (batch.length > 0) await this.o.handle(batch);
      handled();
    }
  }
}
