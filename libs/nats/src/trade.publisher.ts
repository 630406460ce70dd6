import { batchMsgId, encodeTradeBatch, TRADES_STREAM, tradeSubject, type TradeBatch } from '@orderflow/contracts';
import { tradeRejectReason, type Instrument, type Trade } from '@orderflow/footprint';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { Backoff } from '@orderflow/resilience';
import { consoleLogger, type NatsLogger } from './logger.js';
import { errorText, isLogWorthyAttempt, retryBackoff } from './retry.js';

/** What the publishers need of a JetStream client (a fake in unit tests). */
export type JetStreamPublisher = Pick<JetStreamClient, 'publish'>;

export interface TradePublisherOptions {
  /** A batch is sealed when it holds this many trades (default 500). */
  maxBatchTrades?: number;
  /** ... or this long after its first trade (default 5 ms). */
  maxBatchDelayMs?: number;
  /** At most this many publishes wait for their ack at once, over all symbols (default 64). */
  maxInFlight?: number;
  /** `saturated` turns true when this many trades are not yet acknowledged (default 200,000). */
  maxBufferedTrades?: number;
  /** A publish not acknowledged within this time is retried (default 5,000 ms). */
  ackTimeoutMs?: number;
  /** Retry waits: first about retryBaseMs, doubling up to retryMaxMs (defaults 100 and 5,000 ms). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** The stream the trades must land in (Nats-Expected-Stream); default TRADES. */
  expectedStream?: string;
  logger?: NatsLogger;
}

export interface TradePublisherStats {
  /** Trades accepted by add(). */
  tradesIn: number;
  /** Trades whose batch JetStream acknowledged (duplicates included: they are stored). */
  tradesAcked: number;
  batchesAcked: number;
  /** Acks with `duplicate: true`: a retried batch the server had already stored. */
  duplicateAcks: number;
  /** Publishes repeated after a failure or an ack timeout. */
  retries: number;
  /** Trades added and not yet acknowledged (tradesIn - tradesAcked). */
  buffered: number;
  /** Publishes waiting for their ack right now. */
  inFlight: number;
  /** Sealed batches not yet acknowledged (in flight included). */
  queuedBatches: number;
  saturated: boolean;
}

interface PendingBatch {
  readonly msgId: string;
  readonly payload: Uint8Array;
  readonly trades: number;
  attempts: number;
}

type LaneState = 'idle' | 'ready' | 'sending' | 'backoff';

/** One exchange+symbol: its open batch, its sealed batches in order, its progress. */
interface Lane {
  readonly exchange: string;
  readonly symbol: string;
  readonly subject: string;
  priceScale: number;
  quantityScale: number;
  tick: number;
  open: Trade[];
  openTimer: NodeJS.Timeout | undefined;
  /** Sealed batches, oldest first, from `head`. */
  queue: (PendingBatch | undefined)[];
  head: number;
  state: LaneState;
  retryTimer: NodeJS.Timeout | undefined;
  added: number;
  acked: number;
  waiters: { target: number; resolve: () => void }[];
}

const encoder = new TextEncoder();

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1)
    throw new Error(`TradePublisher: ${name} must be a positive integer, got ${v}`);
  return v;
}

const isScale = (v: number) => Number.isInteger(v) && v >= 0 && v <= 15;

/**
 * Publishes trades to JetStream as TradeBatch v1 messages on `trades.<exchange>.<symbol>`.
 *
 * - Consecutive trades of one symbol are gathered into a batch, sealed at maxBatchTrades trades
 *   or maxBatchDelayMs after its first trade, and published with `Nats-Msg-Id: batchMsgId(batch)`.
 * - Order: a symbol has at most one publish in flight; its next batch goes out only once the
 *   previous one is acknowledged, so its trades are stored in the order they were added, retries
 *   included. Symbols proceed independently, at most maxInFlight publishes at once.
 * - Nothing is dropped: a failed or unacknowledged publish is retried with exponential backoff and
 *   the same message id (JetStream drops it as a duplicate when an earlier attempt did land),
 *   forever, while trades keep buffering. `saturated` tells the source to slow down; add() still
 *   accepts trades then. (After an outage longer than the stream's duplicate window a batch whose
 *   ack was lost can be stored twice; consumers drop trades they have seen by id.)
 * - add() throws, synchronously, on a trade that could not be decoded downstream (bad numbers,
 *   ids, a symbol that is no subject token) or that does not belong to the instrument given:
 *   the caller dead-letters it.
 */
export class TradePublisher {
  private readonly maxBatchTrades: number;
  private readonly maxBatchDelayMs: number;
  private readonly maxInFlight: number;
  private readonly maxBufferedTrades: number;
  private readonly ackTimeoutMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly retryWaits: Backoff;
  private readonly expectedStream: string;
  private readonly log: NatsLogger;

  private readonly lanes = new Map<string, Lane>();
  private lastInstrument: Instrument | undefined;
  private lastLane: Lane | undefined;
  /** Lanes whose head batch can be sent, FIFO from readyHead. */
  private ready: (Lane | undefined)[] = [];
  private readyHead = 0;

  private tradesIn = 0;
  private tradesAcked = 0;
  private batchesAcked = 0;
  private duplicateAcks = 0;
  private retries = 0;
  private inFlight = 0;
  private queuedBatches = 0;
  private isSaturated = false;
  private drainedWaiters: (() => void)[] = [];
  private closing = false;
  private stopped = false;

  constructor(
    private readonly js: JetStreamPublisher,
    o: TradePublisherOptions = {},
  ) {
    this.maxBatchTrades = positiveInt('maxBatchTrades', o.maxBatchTrades ?? 500);
    this.maxBatchDelayMs = positiveInt('maxBatchDelayMs', o.maxBatchDelayMs ?? 5);
    this.maxInFlight = positiveInt('maxInFlight', o.maxInFlight ?? 64);
    this.maxBufferedTrades = positiveInt('maxBufferedTrades', o.maxBufferedTrades ?? 200_000);
    this.ackTimeoutMs = positiveInt('ackTimeoutMs', o.ackTimeoutMs ?? 5000);
    this.retryBaseMs = positiveInt('retryBaseMs', o.retryBaseMs ?? 100);
    this.retryMaxMs = Math.max(this.retryBaseMs, positiveInt('retryMaxMs', o.retryMaxMs ?? 5000));
    this.retryWaits = retryBackoff(this.retryBaseMs, this.retryMaxMs);
    this.expectedStream = o.expectedStream ?? TRADES_STREAM;
    this.log = o.logger ?? consoleLogger('trade-publisher');
  }

  /** True while at least maxBufferedTrades trades are not acknowledged; false again under half. */
  get saturated(): boolean {
    return this.isSaturated;
  }

  add(instrument: Instrument, trade: Trade): void {
    if (this.closing) throw new Error('TradePublisher: add() after close()');
    let lane = this.lastLane;
    if (lane === undefined || instrument !== this.lastInstrument) {
      lane = this.laneFor(instrument);
      this.lastInstrument = instrument;
      this.lastLane = lane;
    }
    if (trade.exchange !== lane.exchange || trade.symbol !== lane.symbol) {
      throw new Error(
        `TradePublisher: trade ${String(trade.id)} of ${trade.exchange} ${trade.symbol} added under instrument ${lane.exchange} ${lane.symbol}`,
      );
    }
    const reason =
      tradeRejectReason(trade) ??
      (Number.isSafeInteger(trade.receiveTimeMs)
        ? null
        : `receive time must be integer ms, got ${trade.receiveTimeMs}`);
    if (reason !== null)
      throw new Error(`TradePublisher: ${lane.exchange} ${lane.symbol} trade ${String(trade.id)}: ${reason}`);
    if (
      instrument.priceScale !== lane.priceScale ||
      instrument.quantityScale !== lane.quantityScale ||
      instrument.tick !== lane.tick
    ) {
      // a batch has one pair of scales: the trades so far go out with the old ones
      this.seal(lane);
      this.setScales(lane, instrument);
    }
    lane.open.push(trade);
    lane.added++;
    this.tradesIn++;
    if (lane.open.length >= this.maxBatchTrades) this.seal(lane);
    else if (lane.open.length === 1) lane.openTimer = setTimeout(() => this.seal(lane), this.maxBatchDelayMs);
    if (!this.isSaturated && this.tradesIn - this.tradesAcked >= this.maxBufferedTrades) {
      this.isSaturated = true;
      this.log.warn(
        `SATURATED: ${this.tradesIn - this.tradesAcked} trades not yet acknowledged by JetStream (limit ${this.maxBufferedTrades}); ` +
          'still buffering, nothing is dropped; slow the source down until it drains',
        { inFlight: this.inFlight, queuedBatches: this.queuedBatches, retries: this.retries },
      );
    }
  }

  /** Resolves at once when not saturated, else when the buffer falls under half of maxBufferedTrades. */
  onceDrained(): Promise<void> {
    if (!this.isSaturated) return Promise.resolve();
    return new Promise((resolve) => this.drainedWaiters.push(resolve));
  }

  /** Seals the open batches now and resolves when everything added so far is acknowledged. */
  flush(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const lane of this.lanes.values()) {
      this.seal(lane);
      if (lane.acked < lane.added) {
        const target = lane.added;
        waits.push(new Promise((resolve) => lane.waiters.push({ target, resolve })));
      }
    }
    return Promise.all(waits).then(() => undefined);
  }

  /**
   * Stops accepting trades, publishes what is buffered and resolves when all of it is
   * acknowledged. With timeoutMs, gives up after that long and rejects naming how many trades were
   * never acknowledged (they are lost: this is the one way to lose trades, and it says so).
   */
  async close(o: { timeoutMs?: number } = {}): Promise<void> {
    this.closing = true;
    if (this.stopped) return;
    const flushed = this.flush();
    if (o.timeoutMs === undefined) {
      await flushed;
      this.stop();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), o.timeoutMs)));
    const late = await Promise.race([flushed.then(() => false), timedOut]);
    clearTimeout(timer);
    const lost = this.tradesIn - this.tradesAcked;
    this.stop();
    if (late && lost > 0) {
      this.log.error(`closed with ${lost} trades not acknowledged after ${o.timeoutMs} ms: they were not published`);
      throw new Error(`TradePublisher: closed with ${lost} trades not acknowledged after ${o.timeoutMs} ms`);
    }
  }

  stats(): TradePublisherStats {
    return {
      tradesIn: this.tradesIn,
      tradesAcked: this.tradesAcked,
      batchesAcked: this.batchesAcked,
      duplicateAcks: this.duplicateAcks,
      retries: this.retries,
      buffered: this.tradesIn - this.tradesAcked,
      inFlight: this.inFlight,
      queuedBatches: this.queuedBatches,
      saturated: this.isSaturated,
    };
  }

  // -------------------------------------------------------------------------------------------

  private laneFor(instrument: Instrument): Lane {
    const key = `${instrument.exchange}\u0000${instrument.symbol}`;
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      lane = {
        exchange: instrument.exchange,
        symbol: instrument.symbol,
        subject: tradeSubject(instrument.exchange, instrument.symbol),
        priceScale: 0,
        quantityScale: 0,
        tick: 1,
        open: [],
        openTimer: undefined,
        queue: [],
        head: 0,
        state: 'idle',
        retryTimer: undefined,
        added: 0,
        acked: 0,
        waiters: [],
      };
      this.setScales(lane, instrument);
      this.lanes.set(key, lane);
    }
    return lane;
  }

  private setScales(lane: Lane, instrument: Instrument): void {
    if (!isScale(instrument.priceScale) || !isScale(instrument.quantityScale)) {
      throw new Error(
        `TradePublisher: ${lane.exchange} ${lane.symbol}: scales must be integers 0..15, got ${instrument.priceScale} and ${instrument.quantityScale}`,
      );
    }
    lane.priceScale = instrument.priceScale;
    lane.quantityScale = instrument.quantityScale;
    lane.tick = Number.isSafeInteger(instrument.tick) && instrument.tick > 0 ? instrument.tick : 1;
  }

  private seal(lane: Lane): void {
    if (lane.openTimer !== undefined) {
      clearTimeout(lane.openTimer);
      lane.openTimer = undefined;
    }
    if (lane.open.length === 0 || this.stopped) return;
    const batch: TradeBatch = {
      exchange: lane.exchange,
      symbol: lane.symbol,
      priceScale: lane.priceScale,
      quantityScale: lane.quantityScale,
      tick: lane.tick,
      trades: lane.open,
    };
    lane.open = [];
    lane.queue.push({
      msgId: batchMsgId(batch),
      payload: encoder.encode(encodeTradeBatch(batch)),
      trades: batch.trades.length,
      attempts: 0,
    });
    this.queuedBatches++;
    if (lane.state === 'idle') {
      lane.state = 'ready';
      this.ready.push(lane);
      this.pump();
    }
  }

  /** Sends head batches of ready lanes while fewer than maxInFlight publishes are out. */
  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.readyHead < this.ready.length) {
      const lane = this.ready[this.readyHead]!;
      this.ready[this.readyHead++] = undefined;
      this.send(lane);
    }
    if (this.readyHead === this.ready.length) {
      this.ready = [];
      this.readyHead = 0;
    } else if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.readyHead);
      this.readyHead = 0;
    }
  }

  private send(lane: Lane): void {
    const batch = lane.queue[lane.head]!;
    lane.state = 'sending';
    batch.attempts++;
    if (batch.attempts > 1) this.retries++;
    this.inFlight++;
    let sent: Promise<PubAck>;
    try {
      sent = this.js.publish(lane.subject, batch.payload, {
        msgID: batch.msgId,
        timeout: this.ackTimeoutMs,
        expect: { streamName: this.expectedStream },
      });
    } catch (err) {
      sent = Promise.reject(err as Error);
    }
    sent.then(
      (ack) => this.acked(lane, batch, ack),
      (err: unknown) => this.failed(lane, batch, err),
    );
  }

  private acked(lane: Lane, batch: PendingBatch, ack: PubAck): void {
    this.inFlight--;
    if (this.stopped) return;
    lane.queue[lane.head++] = undefined;
    if (lane.head === lane.queue.length) {
      lane.queue = [];
      lane.head = 0;
    } else if (lane.head > 1024 && lane.head * 2 > lane.queue.length) {
      lane.queue = lane.queue.slice(lane.head);
      lane.head = 0;
    }
    this.queuedBatches--;
    lane.acked += batch.trades;
    this.tradesAcked += batch.trades;
    this.batchesAcked++;
    if (ack.duplicate) this.duplicateAcks++;
    if (batch.attempts > 1) {
      this.log.info(
        `${lane.subject}: batch ${batch.msgId} acknowledged after ${batch.attempts} attempts${ack.duplicate ? ' (duplicate: an earlier attempt had landed)' : ''}`,
      );
    }
    if (lane.waiters.length > 0) {
      const still: Lane['waiters'] = [];
      for (const w of lane.waiters) {
        if (w.target <= lane.acked) w.resolve();
        else still.push(w);
      }
      lane.waiters = still;
    }
    if (lane.head < lane.queue.length) {
      lane.state = 'ready';
      this.ready.push(lane);
    } else {
      lane.state = 'idle';
    }
    if (this.isSaturated && this.tradesIn - this.tradesAcked < this.maxBufferedTrades / 2) {
      this.isSaturated = false;
      this.log.warn(
        `RECOVERED from saturation: ${this.tradesIn - this.tradesAcked} trades not yet acknowledged (under half of ${this.maxBufferedTrades})`,
      );
      const waiters = this.drainedWaiters;
      this.drainedWaiters = [];
      for (const w of waiters) w();
    }
    this.pump();
  }

  private failed(lane: Lane, batch: PendingBatch, err: unknown): void {
    this.inFlight--;
    if (this.stopped) return;
    const wait = this.retryWaits.delayAfter(batch.attempts);
    if (isLogWorthyAttempt(batch.attempts)) {
      this.log.warn(
        `${lane.subject}: publish of batch ${batch.msgId} failed (attempt ${batch.attempts}: ${errorText(err)}); retrying in ${wait} ms`,
        {
          buffered: this.tradesIn - this.tradesAcked,
        },
      );
    }
    lane.state = 'backoff';
    lane.retryTimer = setTimeout(() => {
      lane.retryTimer = undefined;
      if (this.stopped) return;
      lane.state = 'ready';
      this.ready.push(lane);
      this.pump();
    }, wait);
    this.pump();
  }

  private stop(): void {
    this.stopped = true;
    for (const lane of this.lanes.values()) {
      if (lane.openTimer !== undefined) clearTimeout(lane.openTimer);
      if (lane.retryTimer !== undefined) clearTimeout(lane.retryTimer);
      lane.openTimer = lane.retryTimer = undefined;
      for (const w of lane.waiters) w.resolve();
      lane.waiters = [];
    }
    for (const w of this.drainedWaiters) w();
    this.drainedWaiters = [];
  }
}
