import { randomUUID } from 'node:crypto';
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import {
  type FlushBatch,
  type IngestedTrade,
  MINUTE_MS,
  SymbolState,
  minuteFromTrades,
  minuteOfUs,
} from '@orderflow/aggregation';
import {
  type InstrumentScales,
  type LiveUpdate,
  type SessionSummary,
  type SymbolSnapshot,
  TRADES_STREAM,
  type TradeBatch,
  decodeTradeBatch,
  liveSubject,
  tradeSubject,
} from '@orderflow/contracts';
import { TIMEFRAMES, type Timeframe } from '@orderflow/footprint';
import { type FieldLogger, classifyError, errorDetail } from '@orderflow/observability';
import { Backoff } from '@orderflow/resilience';
import { PullConsumer } from '@orderflow/nats';
import type { AggregatorConfig } from './config/aggregator.config.js';
import type { AggregatorStore } from './store.port.js';

/** The shard's log; `fields` (exchange, symbol, counts) go on the line beside the message. */
export type ActorLogger = FieldLogger;

/** What an actor gets from its shard. */
export interface ActorContext {
  config: AggregatorConfig;
  js: JetStreamClient;
  jsm: JetStreamManager;
  store: AggregatorStore;
  logger: ActorLogger;
  /** Resolves when the shard has room for more unwritten trades (backpressure). */
  gate(): Promise<void>;
  /** Asks the shard to write soon (this actor holds many unwritten trades). */
  poke(): void;
  /** Sets a message aside on `deadletter.<exchange>` (durably); resolves once stored. */
  deadLetter(exchange: string, code: string, reason: string, raw: string): Promise<void>;
  publish(subject: string, data: string): void;
}

export interface ActorCounters {
  messages: number;
  trades: number;
  applied: number;
  duplicates: number;
  rejected: number;
  malformed: number;
  outOfWindow: number;
  corrections: number;
  liveUpdates: number;
}

/**
 * Durable consumer name of a symbol: per symbol, not per shard, so that a new owner resumes where the old one
 * acknowledged.
 */
export function consumerName(exchange: string, symbol: string): string {
  return `agg_${exchange}_${symbol}`;
}

/** Cells per live update message at most (about 80 bytes each in JSON). */
export const LIVE_MAX_CELLS = 5000;

/** Sessions looked back at for naked POCs after a restart. */
const NAKED_POC_DAYS = 14;

/** ingestSeq = stream sequence * 65536 + index in the batch: the order trades were applied in. */
export const MAX_BATCH_TRADES = 65_536;

/**
 * One (exchange, symbol): its durable JetStream consumer (a PullConsumer, which hands messages over
 * one at a time, in stream order) and its SymbolState. Messages are acknowledged by the shard's
 * writer once what they contributed is in ClickHouse.
 */
export class SymbolActor {
  readonly epoch = randomUUID();
  state: SymbolState | null = null;
  readonly counters: ActorCounters = {
    messages: 0,
    trades: 0,
    applied: 0,
    duplicates: 0,
    rejected: 0,
    malformed: 0,
    outOfWindow: 0,
    corrections: 0,
    liveUpdates: 0,
  };
  /** Handled, not yet acknowledged (waiting for the write that makes them durable). */
  private unacked: JsMsg[] = [];
  private readonly seqs = new Map<Timeframe, number>();
  private session: SessionSummary | null = null;
  private sessionAt = 0;
  private readonly consumer: PullConsumer;
  private stopped = false;
  /** Set while the consumer cannot be read (for readiness). */
  lastError: string | null = null;
  /** Trades handled and not yet written: waiting for a write, or in the write under way. */
  pending = 0;
  private writing = 0;

  constructor(
    readonly exchange: string,
    readonly symbol: string,
    private readonly ctx: ActorContext,
  ) {
    this.consumer = new PullConsumer(ctx.js, ctx.jsm, {
      stream: TRADES_STREAM,
      durable: consumerName(exchange, symbol),
      filterSubject: tradeSubject(exchange, symbol),
      ackWaitMs: ctx.config.ackWaitMs,
      maxAckPending: ctx.config.maxAckPending,
      handle: async (m) => {
        await this.ctx.gate();
        await this.handle(m);
      },
      onOpen: () => {
        this.lastError = null;
      },
      onFailure: (e, wait) => {
        this.lastError = `consumer: ${classifyError(e)}`;
        this.ctx.logger.warn(
          `${this.exchange} ${this.symbol}: consumer failed (${errorDetail(e)}); again in ${wait} ms`,
          { retryMs: wait },
        );
      },
    });
  }

  get durable(): string {
    return this.consumer.durable;
  }

  start(): void {
    this.consumer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.stop();
  }

  /** One message: decode, apply, merge out-of-window trades with ClickHouse, keep for acknowledgement. */
  async handle(m: JsMsg): Promise<void> {
    this.counters.messages++;
    let batch: TradeBatch;
    const text = m.string();
    try {
      batch = decodeTradeBatch(text);
      if (batch.exchange !== this.exchange || batch.symbol !== this.symbol) {
        throw new Error(`batch says ${batch.exchange} ${batch.symbol} but came on ${m.subject}`);
      }
      if (batch.trades.length >= MAX_BATCH_TRADES)
        throw new Error(`batch of ${batch.trades.length} trades (at most ${MAX_BATCH_TRADES - 1})`);
      if (batch.trades.length === 0) throw new Error('empty batch');
    } catch (e) {
      this.counters.malformed++;
      await this.setAside(m, 'bad-batch', (e as Error).message, text);
      return;
    }
    if (this.state === null) await this.init(batch);
    const state = this.state!;
    if (batch.priceScale !== state.scales.priceScale || batch.quantityScale !== state.scales.quantityScale) {
      this.counters.malformed++;
      await this.setAside(
        m,
        'scale-changed',
        `scales ${batch.priceScale}/${batch.quantityScale} differ from the stored ${state.scales.priceScale}/${state.scales.quantityScale}: re-scaling an instrument needs an operator`,
        text,
      );
      return;
    }
    const base = m.seq * MAX_BATCH_TRADES;
    const trades: IngestedTrade[] = new Array(batch.trades.length);
    for (let i = 0; i < batch.trades.length; i++) {
      const t = batch.trades[i]!;
      trades[i] = {
        exchange: t.exchange,
        symbol: t.symbol,
        id: t.id,
        price: t.price,
        quantity: t.quantity,
        side: t.side,
        exchangeTimeUs: t.exchangeTimeUs,
        receiveTimeMs: t.receiveTimeMs,
        ingestSeq: base + i,
      };
    }
    this.counters.trades += trades.length;
    const r = state.apply(trades);
    this.counters.applied += r.applied;
    this.counters.duplicates += r.duplicates;
    if (r.rejected.length > 0) {
      this.counters.rejected += r.rejected.length;
      const reasons = r.rejected.map((x) => `${x.trade.id}: ${x.reason}`).join('; ');
      await this.ctx.deadLetter(
        this.exchange,
        'invalid-trade',
        `${r.rejected.length} of ${trades.length} trades of ${m.subject} (stream seq ${m.seq}) rejected: ${reasons.slice(0, 2000)}`,
        JSON.stringify(r.rejected.map((x) => x.trade)),
      );
    }
    if (r.outOfWindow.length > 0) {
      this.counters.outOfWindow += r.outOfWindow.length;
      await this.merge(r.outOfWindow);
    }
    this.unacked.push(m);
    this.pending = state.pendingTrades + this.writing;
    if (state.pendingTrades >= this.ctx.config.flushMaxTrades) this.ctx.poke();
  }

  private async setAside(m: JsMsg, code: string, reason: string, raw: string): Promise<void> {
    this.ctx.logger.warn(`${m.subject} stream seq ${m.seq}: ${code}: ${reason}`, { seq: m.seq, code });
    await this.retry(`dead-letter of seq ${m.seq}`, () =>
      this.ctx.deadLetter(this.exchange, code, `${m.subject} stream seq ${m.seq}: ${reason}`, raw),
    );
    m.ack();
  }

  /** First message: rebuild from ClickHouse (the day's minutes and the window's raw trades), then go on. */
  private async init(batch: TradeBatch): Promise<void> {
    const scales: InstrumentScales = {
      priceScale: batch.priceScale,
      quantityScale: batch.quantityScale,
      tick: batch.tick ?? 1,
    };
    const state = new SymbolState({
      exchange: this.exchange,
      symbol: this.symbol,
      scales,
      windowMinutes: this.ctx.config.windowMinutes,
    });
    await this.retry('restore', async () => {
      await this.ctx.store.upsertInstruments([{ exchange: this.exchange, symbol: this.symbol, ...scales }]);
      const latestUs = await this.ctx.store.latestTimeUs(this.exchange, this.symbol);
      if (latestUs === null) return;
      const latest = Math.floor(latestUs / 1000);
      const windowStart = latest - (latest % MINUTE_MS) - this.ctx.config.windowMinutes * MINUTE_MS;
      const dayStart = windowStart - (windowStart % 86_400_000);
      const stored = await this.ctx.store.loadMinutes(this.exchange, this.symbol, dayStart, windowStart);
      const trades = await this.ctx.store.loadTrades(
        this.exchange,
        this.symbol,
        windowStart * 1000,
        Number.MAX_SAFE_INTEGER,
      );
      const priorDays = await this.ctx.store.loadDailyLevels(
        this.exchange,
        this.symbol,
        dayStart - NAKED_POC_DAYS * 86_400_000,
        dayStart,
      );
      state.restore(windowStart, stored, trades, priorDays);
      this.ctx.logger.log(
        `${this.exchange} ${this.symbol}: restored ${stored.length} stored minutes and ${trades.length} raw trades from ${new Date(windowStart).toISOString()}, ${priorDays.length} prior sessions`,
        {
          minutes: stored.length,
          trades: trades.length,
          fromMs: windowStart,
          priorSessions: priorDays.length,
        },
      );
    });
    this.state = state;
  }

  /**
   * Trades of minutes no longer in memory: merged with the stored minute (raw trades by id), the
   * minute re-written (complete state, higher version), then the new raw trades. The 1m row goes
   * first so that a raw trade in ClickHouse always means its minute row counts it (what makes a
   * retry after a crash here exact).
   */
  private async merge(trades: IngestedTrade[]): Promise<void> {
    const byMinute = new Map<number, IngestedTrade[]>();
    for (const t of trades) {
      const minute = minuteOfUs(t.exchangeTimeUs);
      let l = byMinute.get(minute);
      if (!l) byMinute.set(minute, (l = []));
      l.push(t);
    }
    for (const [minute, ts] of [...byMinute].sort((a, b) => a[0] - b[0])) {
      await this.retry(`merge of ${new Date(minute).toISOString()}`, async () => {
        const stored = await this.ctx.store.loadTrades(
          this.exchange,
          this.symbol,
          minute * 1000,
          (minute + MINUTE_MS) * 1000,
        );
        const ids = new Set(stored.map((t) => t.id));
        const fresh: IngestedTrade[] = [];
        for (const t of ts) {
          if (ids.has(t.id)) continue;
          ids.add(t.id);
          fresh.push(t);
        }
        this.counters.duplicates += ts.length - fresh.length;
        if (fresh.length === 0) return;
        const candle = minuteFromTrades(minute, [...stored, ...fresh]);
        await this.ctx.store.insertMinutes(this.exchange, this.symbol, [candle.toData()]);
        await this.ctx.store.insertTrades(fresh);
        this.counters.corrections++;
        this.counters.applied += fresh.length;
        this.state!.applyCorrection(candle);
      });
    }
  }

  /** Retries a ClickHouse step until it works (the mailbox waits: that is the backpressure). */
  private async retry(what: string, step: () => Promise<void>): Promise<void> {
    const backoff = new Backoff({ initialMs: 250, maxMs: 10_000 });
    for (let attempt = 1; ; attempt++) {
      try {
        await step();
        this.lastError = null;
        return;
      } catch (e) {
        this.lastError = `${what}: ${classifyError(e)}`;
        if (this.stopped) throw e;
        const wait = backoff.next();
        if (attempt === 1 || attempt % 10 === 0)
          this.ctx.logger.warn(
            `${this.exchange} ${this.symbol}: ${what}: ${errorDetail(e)} (attempt ${attempt}, again in ${wait} ms)`,
            { step: what, attempt, retryMs: wait },
          );
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** For the writer: what to write and the messages it makes durable. */
  takeFlush(): { batch: FlushBatch | null; messages: JsMsg[] } | null {
    if (this.state === null) return null;
    const batch = this.state.takeFlush();
    if (batch === null && this.unacked.length === 0) return null;
    const messages = this.unacked;
    this.unacked = [];
    this.writing = batch?.trades.length ?? 0;
    return { batch, messages };
  }

  flushed(part: { batch: FlushBatch | null; messages: JsMsg[] }): void {
    if (part.batch) this.state!.flushed(part.batch);
    for (const m of part.messages) m.ack();
    this.writing = 0;
    this.pending = this.state?.pendingTrades ?? 0;
  }

  flushFailed(part: { batch: FlushBatch | null; messages: JsMsg[] }): void {
    if (part.batch) this.state!.flushFailed(part.batch);
    this.unacked = part.messages.concat(this.unacked);
    this.writing = 0;
    this.pending = this.state?.pendingTrades ?? 0;
  }

  /** Keeps held messages from being redelivered while the writer cannot write. */
  extendHeld(): void {
    for (const m of this.unacked) m.working();
  }

  /** Publishes what changed since the last call: one update per timeframe and touched candle. */
  publishLive(now: number): void {
    const state = this.state;
    if (state === null) return;
    const changes = state.takeLiveChanges();
    if (changes.length === 0) return;
    const full = now - this.sessionAt >= this.ctx.config.sessionIntervalMs;
    this.session = state.session(full, this.session ?? undefined);
    if (full) this.sessionAt = now;
    for (const c of changes) {
      // a correction of a day at native ticks can list 10^5 levels: split so that every message
      // stays far below NATS's max_payload (values are full, so the parts apply in any grouping)
      for (let i = 0; i === 0 || i < c.cells.length; i += LIVE_MAX_CELLS) {
        const seq = (this.seqs.get(c.timeframe) ?? 0) + 1;
        this.seqs.set(c.timeframe, seq);
        const u: LiveUpdate = {
          v: 1,
          exchange: this.exchange,
          symbol: this.symbol,
          timeframe: c.timeframe,
          epoch: this.epoch,
          seq,
          scales: state.scales,
          candle: c.candle,
          cells: c.cells.slice(i, i + LIVE_MAX_CELLS),
          session: this.session,
          sentAtMs: now,
        };
        try {
          this.ctx.publish(liveSubject(this.exchange, this.symbol, c.timeframe), JSON.stringify(u));
          this.counters.liveUpdates++;
        } catch (e) {
          // the seq is spent: a receiver sees the gap and asks for a snapshot
          this.ctx.logger.warn(
            `${this.exchange} ${this.symbol} ${c.timeframe}: live update ${seq} not published: ${(e as Error).message}`,
          );
        }
      }
    }
  }

  snapshot(timeframes: readonly Timeframe[] = TIMEFRAMES): SymbolSnapshot | null {
    const state = this.state;
    if (state === null) return null;
    const out: SymbolSnapshot = {
      v: 1,
      exchange: this.exchange,
      symbol: this.symbol,
      epoch: this.epoch,
      scales: state.scales,
      timeframes: {},
      session: state.session(true),
    };
    for (const tf of timeframes) out.timeframes[tf] = { seq: this.seqs.get(tf) ?? 0, candles: state.recentCandles(tf) };
    return out;
  }
}
