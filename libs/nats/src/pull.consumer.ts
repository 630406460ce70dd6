import { AckPolicy, DeliverPolicy, type ConsumerConfig, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
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
  /** At most this many delivered messages wait for their acknowledgement. */
  maxAckPending: number;
}

/**
 * Creates the durable consumer, or brings an existing one's ack wait and ack-pending limit to the
 * spec (the two that operators tune; the filter and the policies are fixed by the name).
 */
export async function ensureDurableConsumer(jsm: ConsumerManager, spec: DurableConsumerSpec): Promise<void> {
  const want: Partial<ConsumerConfig> = {
    durable_name: spec.durable,
    filter_subject: spec.filterSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(spec.ackWaitMs),
    max_ack_pending: spec.maxAckPending,
    max_deliver: -1,
  };
  try {
    const info = await jsm.consumers.info(spec.stream, spec.durable);
    if (info.config.ack_wait !== want.ack_wait || info.config.max_ack_pending !== want.max_ack_pending) {
      await jsm.consumers.update(spec.stream, spec.durable, { ack_wait: want.ack_wait!, max_ack_pending: want.max_ack_pending! });
    }
  } catch (e) {
    if (!/consumer not found/i.test((e as Error).message)) throw e;
    await jsm.consumers.add(spec.stream, want);
  }
}

export interface PullConsumerOptions extends DurableConsumerSpec {
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
  /**
   * Waits between attempts to open the consumer after a failure; back to the first once a message
   * was handled.
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
    this.loop ??= this.run();
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

  private async run(): Promise<void> {
    const backoff = new Backoff(this.o.backoff ?? { initialMs: 500, maxMs: 30_000 });
    while (!this.stopped) {
      try {
        await this.ensure();
        const consumer = await this.js.consumers.get(this.o.stream, this.o.durable);
        this.messages = await consumer.consume({ max_messages: this.maxMessages, expires: this.expiresMs });
        if (this.stopped) {
          // stop() ran while the consumer was being opened, before there was anything to close
          await this.messages.close().catch(() => undefined);
          break;
        }
        this.o.onOpen?.();
        for await (const m of this.messages) {
          await this.o.handle(m);
          backoff.reset();
          if (this.stopped) break;
        }
      } catch (e) {
        if (this.stopped) break;
        const wait = backoff.next();
        if (this.o.onFailure) this.o.onFailure(e, wait);
        else (this.o.logger ?? consoleLogger('nats')).warn(`${this.o.stream} ${this.o.durable}: consumer failed (${errorText(e)}); again in ${wait} ms`, { retryMs: wait });
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }
}
