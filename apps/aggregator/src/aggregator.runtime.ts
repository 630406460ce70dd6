import type { ClickHouseClient } from '@clickhouse/client';
import {
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { FootprintStore, assertGapEvent, clickHouseProbe, connectClickHouse, migrate } from '@orderflow/clickhouse';
import {
  type DeadLetter,
  EVENTS_STREAM,
  type GapEvent,
  type SnapshotError,
  type SnapshotRequest,
  type SymbolSnapshot,
  TRADES_STREAM,
  assertToken,
  deadLetterSubject,
  parseTradeSubject,
  shardOf,
} from '@orderflow/contracts';
import {
  DependencyProbe,
  type LogFields,
  classifyError,
  endpointOf,
  errorDetail,
  redactCredentials,
  withFields,
} from '@orderflow/observability';
import { Backoff } from '@orderflow/resilience';
import { isTimeframe } from '@orderflow/footprint';
import { BatchPullConsumer, connectNats, drainNats } from '@orderflow/nats';
import type { AggregatorConfig } from './config/aggregator.config.js';
import type { AggregatorStore } from './store.port.js';
import { type ActorContext, type ActorLogger, SymbolActor } from './symbol.actor.js';

export interface WriterStats {
  flushes: number;
  failedFlushes: number;
  tradesWritten: number;
  minutesWritten: number;
  lastFlushMs: number;
  lastFlushAt: number;
  /** Since when writing has failed (0 when the last attempt worked). */
  failingSince: number;
  lastError: string | null;
  gapsWritten: number;
  deadLetters: number;
}

const GAPS_CONSUMER = 'agg_gaps';
/** A gap event is written to ClickHouse before it is acknowledged: unacknowledged, it comes back after this. */
const GAPS_ACK_WAIT_MS = 60_000;

/**
 * One aggregator shard: owns the symbols whose shardOf(...) is its index, runs an actor per
 * symbol, writes their batches to ClickHouse and only then acknowledges the messages, publishes
 * live updates and answers snapshot requests (through the Nest controller).
 */
export class AggregatorRuntime {
  nc: NatsConnection | null = null;
  js: JetStreamClient | null = null;
  jsm: JetStreamManager | null = null;
  ch: ClickHouseClient | null = null;
  store: AggregatorStore | null = null;
  readonly actors = new Map<string, SymbolActor>();
  readonly stats: WriterStats = {
    flushes: 0,
    failedFlushes: 0,
    tradesWritten: 0,
    minutesWritten: 0,
    lastFlushMs: 0,
    lastFlushAt: 0,
    failingSince: 0,
    lastError: null,
    gapsWritten: 0,
    deadLetters: 0,
  };
  /** Consumer lag per symbol (messages not yet delivered), read at each discovery. */
  readonly lag = new Map<string, number>();
  migrated = false;
  private stopped = false;
  private timers: NodeJS.Timeout[] = [];
  private flushing: Promise<void> | null = null;
  private flushAgain = false;
  private gateWaiters: (() => void)[] = [];
  private writeBackoff = new Backoff({ initialMs: 250, maxMs: 15_000 });
  private nextWriteAt = 0;
  private gaps: BatchPullConsumer | null = null;
  private discoverRunning = false;
  /** ClickHouse and NATS as a background check sees them: what readiness reports, at once. */
  private chProbe: DependencyProbe | null = null;
  private natsProbe: DependencyProbe | null = null;

  constructor(
    readonly config: AggregatorConfig,
    private readonly logger: ActorLogger,
    /** Tests inject a store; by default one is made on the configured ClickHouse. */
    private readonly makeStore?: (ch: ClickHouseClient) => AggregatorStore,
  ) {}

  async start(): Promise<void> {
    const c = this.config;
    this.logger.log(
      `shard ${c.shardIndex} of ${c.shards}; NATS ${redactCredentials(c.natsServers.join(','))}; ClickHouse ${redactCredentials(c.clickhouse.url)} database ${c.clickhouse.database}`,
    );
    this.ch = connectClickHouse({
      url: c.clickhouse.url,
      username: c.clickhouse.username,
      password: c.clickhouse.password,
    });
    this.chProbe = clickHouseProbe(this.ch, c.clickhouse.url, { logger: this.logger });
    this.chProbe.start();
    if (c.migrate) await this.migrateWithRetry();
    else this.migrated = true;
    this.store = this.makeStore ? this.makeStore(this.ch) : new FootprintStore(this.ch, c.clickhouse.database);
    const nc = await connectNats({
      servers: c.natsServers,
      ...c.natsAuth,
      name: `aggregator-${c.shardIndex}`,
      logger: {
        info: (m, f) => this.logger.log(m, f),
        warn: (m, f) => this.logger.warn(m, f),
        error: (m, f) => this.logger.error(m, f),
      },
    });
    this.nc = nc;
    // a round trip to the server (PING/PONG): a frozen server keeps the connection open but answers nothing
    this.natsProbe = new DependencyProbe(
      'NATS',
      () => (nc.isClosed() ? Promise.reject(new Error('connection closed')) : nc.flush()),
      { logger: this.logger, endpoint: endpointOf(c.natsServers.join(',')) },
    );
    this.natsProbe.start();
    this.js = jetstream(this.nc);
    this.jsm = await jetstreamManager(this.nc);
    await this.discover();
    this.timers.push(setInterval(() => void this.discover(), c.discoverIntervalMs));
    this.timers.push(setInterval(() => this.requestFlush(), c.flushIntervalMs));
    this.timers.push(setInterval(() => this.publishLive(), c.liveIntervalMs));
    this.timers.push(setInterval(() => this.extendHeld(), Math.max(1000, Math.floor(c.ackWaitMs / 3))));
    if (c.shardIndex === 0 && !this.stopped) this.startGaps();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // the gap events stop being fetched now; the batch in hand is written before the connection drains
    const gapsStopped = this.gaps?.stop().catch(() => undefined);
    for (const t of this.timers) clearInterval(t);
    this.chProbe?.stop();
    this.natsProbe?.stop();
    await Promise.all([...this.actors.values()].map((a) => a.stop()));
    // what was handled is written (and acknowledged) before leaving, if ClickHouse lets us
    await this.flushing;
    try {
      await this.flushOnce();
    } catch (e) {
      this.logger.warn(`final write failed (${(e as Error).message}): the unacknowledged messages will be redelivered`);
    }
    this.releaseGate();
    await gapsStopped;
    if (this.nc) await drainNats(this.nc).catch(() => undefined);
    await this.ch?.close();
  }

  private async migrateWithRetry(): Promise<void> {
    const backoff = new Backoff({ initialMs: 500, maxMs: 10_000 });
    const c = this.config.clickhouse;
    // the migrator's DDL rights stay on a connection of their own, closed once the schema is there
    const ch = c.migrations
      ? connectClickHouse({ url: c.url, username: c.migrations.username, password: c.migrations.password })
      : this.ch!;
    const as = c.migrations ? ` as ${c.migrations.username}` : '';
    try {
      for (;;) {
        try {
          const r = await migrate(ch, c.database, { log: (m) => this.logger.log(m), cluster: c.cluster });
          this.logger.log(
            `migrations${as}: applied [${r.applied.join(', ')}], already there [${r.skipped.join(', ')}]`,
          );
          this.migrated = true;
          return;
        } catch (e) {
          if (this.stopped) throw e;
          const wait = backoff.next();
          this.stats.lastError = `migrations: ${classifyError(e)}`;
          this.logger.warn(`migrations${as}: ${errorDetail(e)}; again in ${wait} ms`, { reason: this.stats.lastError });
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    } finally {
      if (ch !== this.ch) await ch.close();
    }
  }

  owns(exchange: string, symbol: string): boolean {
    return shardOf(exchange, symbol, this.config.shards) === this.config.shardIndex;
  }

  /** Finds the symbols in the TRADES stream that this shard owns and starts their actors; reads lag. */
  async discover(): Promise<void> {
    if (this.discoverRunning || this.stopped || !this.jsm) return;
    this.discoverRunning = true;
    try {
      const info = await this.jsm.streams.info(TRADES_STREAM, { subjects_filter: 'trades.>' });
      // stop() may have collected the actors while the request was out: start none after it
      if (this.stopped) return;
      for (const subject of Object.keys(info.state.subjects ?? {})) {
        const p = parseTradeSubject(subject);
        if (p === null || !this.owns(p.exchange, p.symbol)) continue;
        const key = `${p.exchange}.${p.symbol}`;
        if (this.actors.has(key)) continue;
        const actor = new SymbolActor(
          p.exchange,
          p.symbol,
          this.actorContext({ exchange: p.exchange, symbol: p.symbol }),
        );
        this.actors.set(key, actor);
        this.logger.log(`owning ${p.exchange} ${p.symbol} (consumer ${actor.durable})`, {
          exchange: p.exchange,
          symbol: p.symbol,
          consumer: actor.durable,
        });
        actor.start();
      }
      for (const [key, actor] of this.actors) {
        const ci = await this.jsm.consumers.info(TRADES_STREAM, actor.durable).catch(() => null);
        if (ci) this.lag.set(key, ci.num_pending);
      }
    } catch (e) {
      if (!/stream not found/i.test((e as Error).message)) this.logger.warn(`discovery: ${(e as Error).message}`);
    } finally {
      this.discoverRunning = false;
    }
  }

  /** An actor's view of the shard; its log lines carry its exchange and symbol. */
  private actorContext(fields: LogFields): ActorContext {
    return {
      config: this.config,
      js: this.js!,
      jsm: this.jsm!,
      store: this.store!,
      logger: withFields(this.logger, fields),
      gate: () => this.gate(),
      poke: () => this.requestFlush(),
      deadLetter: (exchange, code, reason, raw) => this.deadLetter(exchange, code, reason, raw),
      publish: (subject, data) => this.nc?.publish(subject, data),
    };
  }

  private async deadLetter(exchange: string, code: string, reason: string, raw: string): Promise<void> {
    const d: DeadLetter = {
      exchange,
      receivedAtMs: Date.now(),
      code: `aggregator-${code}`,
      reason,
      raw: raw.slice(0, 65_536),
    };
    await this.js!.publish(deadLetterSubject(assertToken(exchange, 'exchange')), JSON.stringify(d));
    this.stats.deadLetters++;
  }

  /** Unwritten trades held by all actors. */
  pendingTrades(): number {
    let n = 0;
    for (const a of this.actors.values()) n += a.pending;
    return n;
  }

  private gate(): Promise<void> {
    if (this.stopped || this.pendingTrades() < this.config.maxPendingTrades) return Promise.resolve();
    this.requestFlush();
    return new Promise((r) => this.gateWaiters.push(r));
  }

  private releaseGate(): void {
    if (!this.stopped && this.pendingTrades() >= this.config.maxPendingTrades) return;
    const w = this.gateWaiters;
    this.gateWaiters = [];
    for (const r of w) r();
  }

  /** Starts a write now unless one is running (then another follows it). */
  requestFlush(): void {
    if (this.stopped) return;
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    if (Date.now() < this.nextWriteAt) return; // backing off after a failure
    this.flushing = this.flushOnce()
      .catch(() => undefined)
      .finally(() => {
        this.flushing = null;
        if (this.flushAgain) {
          this.flushAgain = false;
          this.requestFlush();
        }
      });
  }

  /**
   * One write: every actor's changed minutes (complete state), then the raw trades, then the
   * acknowledgements. Minutes go first so that a raw trade in ClickHouse always means its minute
   * row counts it (a crash between the two leaves nothing that a redelivery cannot repair).
   */
  private async flushOnce(): Promise<void> {
    const store = this.store;
    if (!store) return;
    const parts: { actor: SymbolActor; part: NonNullable<ReturnType<SymbolActor['takeFlush']>> }[] = [];
    for (const actor of this.actors.values()) {
      const part = actor.takeFlush();
      if (part) parts.push({ actor, part });
    }
    if (parts.length === 0) return;
    const started = Date.now();
    try {
      let minutes = 0;
      const writes: Promise<void>[] = [];
      for (const { actor, part } of parts) {
        if (part.batch && part.batch.minutes.length > 0) {
          writes.push(store.insertMinutes(actor.exchange, actor.symbol, part.batch.minutes));
          minutes += part.batch.minutes.length;
        }
      }
      // every symbol's minutes at once, and all of them before any raw trade (see above)
      const failed = (await Promise.allSettled(writes)).find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      const trades = parts.flatMap(({ part }) => part.batch?.trades ?? []);
      if (trades.length > 0) await store.insertTrades(trades);
      for (const { actor, part } of parts) actor.flushed(part);
      this.stats.flushes++;
      this.stats.tradesWritten += trades.length;
      this.stats.minutesWritten += minutes;
      this.stats.lastFlushMs = Date.now() - started;
      this.stats.lastFlushAt = Date.now();
      if (this.stats.failingSince !== 0)
        this.logger.log(
          `writing to ClickHouse works again after ${Math.round((Date.now() - this.stats.failingSince) / 1000)} s`,
          { failedForMs: Date.now() - this.stats.failingSince, trades: trades.length },
        );
      this.stats.failingSince = 0;
      this.stats.lastError = null;
      this.writeBackoff.reset();
      this.nextWriteAt = 0;
      this.releaseGate();
    } catch (e) {
      for (const { actor, part } of parts) actor.flushFailed(part);
      this.stats.failedFlushes++;
      this.stats.lastError = classifyError(e);
      if (this.stats.failingSince === 0) this.stats.failingSince = Date.now();
      const wait = this.writeBackoff.next();
      this.nextWriteAt = Date.now() + wait;
      this.logger.warn(
        `write to ClickHouse failed (${errorDetail(e)}); holding ${this.pendingTrades()} trades, again in ${wait} ms`,
        {
          error: this.stats.lastError,
          pendingTrades: this.pendingTrades(),
          retryMs: wait,
          failingForMs: Date.now() - this.stats.failingSince,
          symbols: parts.length,
        },
      );
      setTimeout(() => this.requestFlush(), wait).unref();
      throw e;
    }
  }

  private extendHeld(): void {
    for (const a of this.actors.values()) a.extendHeld();
  }

  private publishLive(): void {
    const now = Date.now();
    for (const a of this.actors.values()) {
      try {
        a.publishLive(now);
      } catch (e) {
        this.logger.error(`${a.exchange} ${a.symbol}: live update failed: ${(e as Error).message}`, {
          exchange: a.exchange,
          symbol: a.symbol,
        });
      }
    }
  }

  /**
   * Gap events (shard 0 only): into ClickHouse, so that candles can say whether they are complete.
   * Fetched up to 500 at a time (one write each), acknowledged once written.
   */
  private startGaps(): void {
    this.gaps = new BatchPullConsumer(this.js!, this.jsm!, {
      stream: EVENTS_STREAM,
      durable: GAPS_CONSUMER,
      filterSubject: 'gaps.>',
      ackWaitMs: GAPS_ACK_WAIT_MS,
      maxMessages: 500,
      expiresMs: 1000,
      handle: (batch) => this.recordGaps(batch),
      onFailure: (e, wait) => this.logger.warn(`gap events: ${(e as Error).message}; again in ${wait} ms`),
    });
    this.gaps.start();
  }

  /** Writes a batch's gap events, then acknowledges all of its messages (those set aside too). */
  private async recordGaps(batch: JsMsg[]): Promise<void> {
    const events: GapEvent[] = [];
    for (const m of batch) {
      try {
        const g = JSON.parse(m.string()) as GapEvent;
        assertGapEvent(g);
        events.push(g);
      } catch (e) {
        this.logger.warn(`gap event ${m.subject} seq ${m.seq} set aside: ${(e as Error).message}`, {
          subject: m.subject,
          seq: m.seq,
        });
      }
    }
    if (events.length > 0) {
      await this.store!.insertGaps(events);
      this.stats.gapsWritten += events.length;
      for (const g of events) {
        const line = `${g.exchange} ${g.symbol}: gap ${g.fromId}..${g.toId} (${g.missing} missing) recorded as ${g.status}${g.reason ? `: ${g.reason}` : ''}`;
        const fields = {
          exchange: g.exchange,
          symbol: g.symbol,
          fromId: g.fromId,
          toId: g.toId,
          missing: g.missing,
          status: g.status,
        };
        if (g.status === 'unfilled') this.logger.warn(line, fields);
        else this.logger.log(line, fields);
      }
    }
    for (const m of batch) m.ack();
  }

  /** The snapshot reply for the gateway (through the Nest NATS transport). */
  snapshot(req: SnapshotRequest): SymbolSnapshot | SnapshotError {
    if (typeof req !== 'object' || req === null || typeof req.exchange !== 'string' || typeof req.symbol !== 'string') {
      return { error: 'bad-request', message: 'a snapshot request needs exchange and symbol strings' };
    }
    if (req.timeframes !== undefined && (!Array.isArray(req.timeframes) || !req.timeframes.every(isTimeframe))) {
      return { error: 'bad-request', message: 'timeframes must be a list of 1m, 5m, 15m, 30m, 1h, 4h, 1d' };
    }
    if (!this.owns(req.exchange, req.symbol)) {
      return {
        error: 'not-owner',
        message: `shard ${this.config.shardIndex} of ${this.config.shards} does not own ${req.exchange} ${req.symbol}`,
      };
    }
    const snap = this.actors.get(`${req.exchange}.${req.symbol}`)?.snapshot(req.timeframes);
    return (
      snap ?? {
        error: 'unknown-symbol',
        message: `no trades of ${req.exchange} ${req.symbol} have been seen by this shard`,
      }
    );
  }

  /**
   * Ready when migrations ran, NATS and ClickHouse answer the background probes, writes succeed
   * and every actor works. Reads state only: it answers at once whatever the dependencies do.
   */
  ready(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (!this.migrated)
      reasons.push(`migrations not applied${this.stats.lastError ? `: ${this.stats.lastError}` : ''}`);
    if (!this.nc || this.nc.isClosed()) reasons.push('not connected to NATS');
    for (const p of [this.chProbe, this.natsProbe]) if (p && !p.ok) reasons.push(p.problem!);
    if (this.stats.failingSince !== 0)
      reasons.push(
        `cannot write to ClickHouse for ${Math.round((Date.now() - this.stats.failingSince) / 1000)} s: ${this.stats.lastError}`,
      );
    for (const a of this.actors.values()) if (a.lastError) reasons.push(`${a.exchange} ${a.symbol}: ${a.lastError}`);
    return { ready: reasons.length === 0, reasons };
  }

  /** The probes' state, for /status. */
  dependencies(): Record<string, ReturnType<DependencyProbe['status']> | null> {
    return { clickhouse: this.chProbe?.status() ?? null, nats: this.natsProbe?.status() ?? null };
  }
}
