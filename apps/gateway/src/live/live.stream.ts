import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  type LiveUpdate,
  type SessionSummary,
  type SnapshotError,
  type SymbolSnapshot,
  liveSubject,
} from '@orderflow/contracts';
import { type CandleData, type PriceLevel, TIMEFRAME_MS, type Timeframe } from '@orderflow/footprint';
import { type LogFields, classifyError, errorDetail } from '@orderflow/observability';
import { Backoff } from '@orderflow/resilience';
import { type HeldCandle, type NativeEvent, NativeCandles, StreamSync } from '@orderflow/candle-views';
import type { SnapshotClient } from './snapshot.client.js';

export interface StreamLogger {
  log(m: string, fields?: LogFields): void;
  warn(m: string, fields?: LogFields): void;
}

export interface StreamHooks {
  resync(reason: string): void;
  malformed(): void;
}

export type StreamListener = (ev: NativeEvent, held: HeldCandle | undefined, sentAtMs: number | null) => void;

/** Stored whole native candles of [fromMs, toMs), ascending (HistoryService.nativeCandles). */
export type StoredCandles = (
  exchange: string,
  symbol: string,
  timeframe: Timeframe,
  fromMs: number,
  toMs: number,
) => Promise<CandleData[]>;

/** Stored native levels by open time (HistoryService.storedLevels). */
export type StoredLevels = (
  exchange: string,
  symbol: string,
  timeframe: Timeframe,
  openTimes: readonly number[],
) => Promise<Map<number, PriceLevel[]>>;

/**
 * A snapshot candle made whole: the stored levels, overlaid with the snapshot's (the levels
 * ClickHouse may not have yet) and its summary. Later updates (seq > the snapshot's) complete it.
 */
export function overlayStored(c: CandleData, stored: readonly PriceLevel[] | undefined): CandleData {
  const levels = new Map<number, PriceLevel>();
  for (const l of stored ?? []) levels.set(l.price, l);
  for (const l of c.levels) levels.set(l.price, l);
  return { ...c, levels: [...levels.values()].sort((a, b) => a.price - b.price) };
}

/**
 * One `live.<exchange>.<symbol>.<tf>` subject, subscribed once on core NATS for every client of
 * the gateway, with the owner's snapshot kept current by the updates (NativeCandles, StreamSync).
 * A seq gap, a new epoch or an update it cannot apply makes it ask the owner again; the new
 * snapshot reaches listeners as `replace` events of the candles it holds.
 */
export class LiveStream {
  readonly subject: string;
  readonly sync = new StreamSync();
  readonly native: NativeCandles;
  session: SessionSummary | null = null;
  /** True once the owner answered (with a snapshot, or "holds nothing"); false while it cannot be reached. */
  synced = false;
  /** Why the stream is not in sync: a classified reason (shown in /status), never the error's text. */
  lastError: string | null = null;
  /** The last error's full text, for the log only. */
  private lastDetail: string | null = null;
  private sub: Subscription | null = null;
  private readonly listeners = new Set<StreamListener>();
  private resyncing = false;
  private again = false;
  private stopped = false;
  private readonly backoff = new Backoff({ initialMs: 200, maxMs: 15_000 });
  private firstAttempt: Promise<void>;
  private resolveFirst!: () => void;
  private evictTimer: NodeJS.Timeout | null = null;
  updates = 0;
  resyncs = 0;

  constructor(
    readonly exchange: string,
    readonly symbol: string,
    readonly timeframe: Timeframe,
    private readonly nats: () => Promise<NatsConnection>,
    private readonly snapshots: SnapshotClient,
    private readonly stored: StoredLevels,
    private readonly logger: StreamLogger,
    private readonly hooks: StreamHooks,
    /** Whole candles from ClickHouse: what changed while the stream was out of sync and the owner no longer holds. */
    private readonly storedRange?: StoredCandles,
  ) {
    this.subject = liveSubject(exchange, symbol, timeframe);
    this.native = new NativeCandles(timeframe);
    this.firstAttempt = new Promise((r) => (this.resolveFirst = r));
  }

  /** Subscribes (confirmed by the server before the snapshot is asked for), then syncs. */
  start(): void {
    this.evictTimer = setInterval(() => this.native.evict(), 10_000);
    this.evictTimer.unref();
    void (async () => {
      const nc = await this.nats();
      if (this.stopped) return;
      this.sub = nc.subscribe(this.subject, { callback: (err, m) => (err ? undefined : this.onMessage(m.string())) });
      // the SUB must be registered before the owner takes the snapshot, or an update could fall between them
      await nc.flush();
      this.resync('start');
    })().catch((e: unknown) => {
      this.lastError = this.note(e);
      this.resolveFirst();
    });
  }

  /** Resolves once the first sync attempt ended (successfully or not), or after `ms`. */
  async ready(ms: number): Promise<void> {
    let t: NodeJS.Timeout | undefined;
    await Promise.race([this.firstAttempt, new Promise<void>((r) => (t = setTimeout(r, ms)))]);
    clearTimeout(t);
  }

  listen(l: StreamListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  stop(): void {
    this.stopped = true;
    if (this.evictTimer) clearInterval(this.evictTimer);
    this.sub?.unsubscribe();
    this.sub = null;
    this.listeners.clear();
  }

  private onMessage(text: string): void {
    let u: LiveUpdate;
    try {
      u = JSON.parse(text) as LiveUpdate;
      if (
        typeof u !== 'object' ||
        u === null ||
        u.v !== 1 ||
        typeof u.epoch !== 'string' ||
        !Number.isSafeInteger(u.seq) ||
        u.exchange !== this.exchange ||
        u.symbol !== this.symbol ||
        u.timeframe !== this.timeframe
      ) {
        throw new Error('not a LiveUpdate of this stream');
      }
    } catch {
      this.hooks.malformed();
      return;
    }
    this.updates++;
    try {
      const action = this.sync.onUpdate(u);
      if (action === 'apply') this.applyUpdate(u);
      else if (action === 'resync')
        this.resync(u.epoch !== this.sync.epoch ? `epoch ${u.epoch}` : `seq ${u.seq} after ${this.sync.seq}`);
    } catch (e) {
      // runs inside the NATS client's reader: a throw there would stop the connection's reading
      this.failed(`update ${u.seq}`, e);
      this.resync('an update could not be applied');
    }
  }

  private applyUpdate(u: LiveUpdate): boolean {
    const ev = this.native.apply(u);
    if ('refused' in ev) {
      this.resync(ev.refused);
      return false;
    }
    if (u.session && typeof u.session === 'object') this.session = u.session;
    this.emit(ev, u.sentAtMs);
    return true;
  }

  private emit(ev: NativeEvent, sentAtMs: number | null): void {
    const held = this.native.candles.get(ev.openTime);
    for (const l of this.listeners) l(ev, held, sentAtMs);
  }

  /** Asks the owner for a snapshot (one request at a time; a request made meanwhile runs after it). */
  resync(reason: string): void {
    if (this.stopped) return;
    if (reason !== 'start') {
      this.resyncs++;
      this.hooks.resync(reason);
      this.logger.log(`${this.subject}: resync (${reason})`);
    }
    if (this.resyncing) {
      this.again = true;
      return;
    }
    this.resyncing = true;
    // resyncLoop handles a shard's or ClickHouse's failures itself; anything else it throws (in
    // adopting a snapshot or in a listener) leaves the stream out of sync, said in /status and the log
    void this.resyncLoop().catch((e: unknown) => this.failed('resync', e));
  }

  /** A failure's classified reason (for lastError); its detail is kept for the log. */
  private note(e: unknown): string {
    this.lastDetail = errorDetail(e);
    return classifyError(e);
  }

  private failed(what: string, e: unknown): void {
    this.lastError = `${what}: ${this.note(e)}`;
    this.synced = false;
    this.resolveFirst();
    this.logger.warn(`${this.subject}: ${this.lastError} (${this.lastDetail})`);
  }

  private async resyncLoop(): Promise<void> {
    try {
      do {
        this.again = false;
        this.sync.beginResync();
        let snap: Awaited<ReturnType<SnapshotClient['request']>> | null = null;
        try {
          snap = await this.snapshots.request(this.exchange, this.symbol, [this.timeframe]);
        } catch (e) {
          this.lastError = `snapshot from shard ${this.snapshots.shardOf(this.exchange, this.symbol)}: ${this.note(e)}`;
          this.synced = false;
        }
        if (this.stopped) return;
        if (snap !== null && 'error' in snap && snap.error !== 'unknown-symbol') {
          this.lastError = `shard ${this.snapshots.shardOf(this.exchange, this.symbol)}: ${snap.error}: ${snap.message}`;
          this.synced = false;
          snap = null;
        }
        let candles: CandleData[] = [];
        let older: CandleData[] = [];
        if (snap !== null && 'error' in snap) {
          // the owner holds nothing (e.g. a restarted shard before its first trade): ClickHouse has
          // every candle, so the ones held here are read back whole (updates missed before the owner
          // went away may have changed them) and kept, so that the next snapshot's read-back starts there
          try {
            older = await this.heldFromStore();
          } catch (e) {
            this.lastError = `stored candles after "${snap.error}": ${this.note(e)}`;
            this.synced = false;
            snap = null;
          }
          if (this.stopped) return;
        } else if (snap !== null) {
          // the snapshot first, then the stored levels it does not carry (the contract's order)
          const tfSnap = snap.timeframes[this.timeframe] ?? { seq: 0, candles: [] };
          try {
            const stored = await this.stored(
              this.exchange,
              this.symbol,
              this.timeframe,
              tfSnap.candles.map((c) => c.openTime),
            );
            candles = tfSnap.candles.map((c) => overlayStored(c, stored.get(c.openTime)));
            older = await this.olderThanSnapshot(tfSnap.candles);
          } catch (e) {
            this.lastError = `stored levels of the snapshot's candles: ${this.note(e)}`;
            this.synced = false;
            snap = null;
          }
          if (this.stopped) return;
        }
        if (snap === null) {
          this.resolveFirst();
          const wait = this.backoff.next();
          this.logger.warn(
            `${this.subject}: ${this.lastError}${this.lastDetail ? ` (${this.lastDetail})` : ''}; again in ${wait} ms`,
          );
          this.lastDetail = null;
          await new Promise((r) => setTimeout(r, wait));
          this.again = true;
          continue;
        }
        this.adopt(snap, candles, older);
        this.resolveFirst();
        if (this.again) await new Promise((r) => setTimeout(r, Math.min(this.backoff.next(), 1000)));
        else this.backoff.reset();
      } while (this.again && !this.stopped);
    } finally {
      this.resyncing = false;
    }
  }

  /**
   * A resync: the updates missed meanwhile may have changed candles the owner no longer holds (an
   * outage longer than its window, or a replay running faster than the clock), and candles may have
   * opened and closed unseen. The owner writes a candle to ClickHouse before it lets it go, so the
   * candles from the oldest one held here up to the snapshot's oldest are read whole from
   * ClickHouse (after the snapshot was taken) and replace what is held.
   */
  private async olderThanSnapshot(snapCandles: readonly CandleData[]): Promise<CandleData[]> {
    if (this.storedRange === undefined || this.native.candles.size === 0) return [];
    let from = Infinity;
    for (const t of this.native.candles.keys()) if (t < from) from = t;
    let to = Infinity;
    for (const c of snapCandles) if (c.openTime < to) to = c.openTime;
    if (!Number.isFinite(to)) {
      const now = Date.now();
      to = now - (now % TIMEFRAME_MS[this.timeframe]) + TIMEFRAME_MS[this.timeframe];
    }
    if (from >= to) return [];
    return this.storedRange(this.exchange, this.symbol, this.timeframe, from, to);
  }

  /** Every candle from the oldest held to the newest held, whole, from ClickHouse. */
  private async heldFromStore(): Promise<CandleData[]> {
    if (this.storedRange === undefined || this.native.candles.size === 0) return [];
    let from = Infinity;
    let to = -Infinity;
    for (const t of this.native.candles.keys()) {
      if (t < from) from = t;
      if (t > to) to = t;
    }
    return this.storedRange(this.exchange, this.symbol, this.timeframe, from, to + TIMEFRAME_MS[this.timeframe]);
  }

  private adopt(snap: SymbolSnapshot | SnapshotError, candles: CandleData[], older: CandleData[] = []): void {
    let events: NativeEvent[];
    let outcome;
    if ('error' in snap) {
      outcome = this.sync.onSnapshot(null, 0);
      // held candles stay (those ClickHouse has are replaced by its version): clients hold them too
      events = this.native.put(older);
    } else {
      const tf = snap.timeframes[this.timeframe] ?? { seq: 0, candles: [] };
      try {
        const snapEvents = this.native.reset(candles);
        events = [...this.native.put(older), ...snapEvents];
      } catch (e) {
        this.lastError = this.note(e);
        this.again = true;
        return;
      }
      outcome = this.sync.onSnapshot(snap.epoch, tf.seq);
      this.session = snap.session ?? null;
    }
    this.synced = true;
    this.lastError = null;
    if (this.resyncs > 0)
      this.logger.log(
        `${this.subject}: ${'error' in snap ? `owner holds nothing (${snap.error})` : `snapshot of epoch ${snap.epoch} seq ${this.sync.seq}: ${candles.length} candles`}, ${older.length} read back from ClickHouse, ${outcome.apply.length} buffered updates to apply`,
      );
    for (const ev of events) this.emit(ev, null);
    for (const u of outcome.apply) if (!this.applyUpdate(u)) return;
    if (outcome.resync !== null) this.resync(outcome.resync);
  }
}
