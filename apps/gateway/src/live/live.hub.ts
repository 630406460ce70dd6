import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { SessionSummary } from '@orderflow/contracts';
import { type GroupingMode, TIMEFRAME_MS, type Timeframe } from '@orderflow/footprint';
import type { GatewayConfig } from '../config/gateway.config.js';
import type { WireFootprintCandle } from '../footprint/wire.js';
import { type HistoryService, bucketOf } from '../history/history.service.js';
import type { InstrumentCatalog } from '../instruments/instrument.catalog.js';
import { type InstrumentView, scaleUnits } from '../instruments/instrument.view.js';
import type { GatewayMetrics } from '../metrics/gateway.metrics.js';
import { RequestError } from '../request.error.js';
import { type GroupedChange, GroupedView } from './grouped-view.js';
import type { SnapshotMessage, SubscribeRequest } from './live.messages.js';
import { LiveStream, type StreamLogger } from './live.stream.js';
import type { HeldCandle, NativeEvent } from './native-candles.js';
import type { SnapshotClient } from './snapshot.client.js';

/** What the hub needs of a connection. */
export interface LiveClient {
  readonly closed: boolean;
  push(sub: Subscription, change: GroupedChange): void;
  sendSnapshot(msg: SnapshotMessage): void;
}

export interface ViewEntry {
  key: string;
  view: GroupedView;
  instrument: InstrumentView;
  timeframe: Timeframe;
  ticks: number;
  streams: LiveStream[];
  unlisten: (() => void)[];
  subscribers: Set<Subscription>;
  /** Subscriptions being set up (their snapshot is being read): the entry must not be dropped meanwhile. */
  opening: number;
  linger: NodeJS.Timeout | null;
  /** Recent history reads, shared by subscriptions that ask for the same range (a reconnect storm reads once). */
  historyCache: Map<string, { at: number; value: Promise<unknown> }>;
  sessionCache?: { refs: (SessionSummary | null)[]; value: SessionSummary | null };
}

/**
 * How long a history read serves later subscriptions. Safe: history only supplies candles older than
 * what the view holds (the view's candles win), and those are final in ClickHouse.
 */
const HISTORY_TTL_MS = 2000;

export class Subscription {
  seq = 0;
  active = true;
  readonly epoch = randomUUID();

  constructor(
    readonly id: string,
    readonly client: LiveClient,
    readonly entry: ViewEntry,
    readonly request: SubscribeRequest,
  ) {}
}

export interface HubDeps {
  config: GatewayConfig;
  catalog: InstrumentCatalog;
  history: HistoryService;
  snapshots: SnapshotClient;
  nats: () => Promise<NatsConnection>;
  metrics: GatewayMetrics;
  logger: StreamLogger;
}

/**
 * Live state shared by every connection of this gateway process: one LiveStream per subject, one
 * GroupedView per (view, timeframe, grouping), and the subscriptions that read them. A new
 * subscription gets a snapshot assembled from ClickHouse history and the view's candles (the
 * owner's snapshot kept current by its updates), the view's candles winning for the same open
 * time; it is registered in the same synchronous step, so every later change reaches it.
 */
export class LiveHub {
  private readonly streams = new Map<string, { stream: LiveStream; refs: number }>();
  private readonly entries = new Map<string, ViewEntry>();
  private readonly creating = new Map<string, Promise<ViewEntry>>();
  private readonly evictTimer: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly deps: HubDeps) {
    this.evictTimer = setInterval(() => {
      for (const e of this.entries.values()) e.view.evict();
    }, 10_000);
    this.evictTimer.unref();
  }

  get streamCount(): number {
    return this.streams.size;
  }

  get viewCount(): number {
    return this.entries.size;
  }

  get subscriptionCount(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.subscribers.size;
    return n;
  }

  /** Streams and their state, for /status and readiness. */
  streamStates(): { subject: string; synced: boolean; epoch: string | null; seq: number; held: number; updates: number; resyncs: number; lastError: string | null }[] {
    return [...this.streams.values()].map(({ stream: s }) => ({ subject: s.subject, synced: s.synced, epoch: s.sync.epoch, seq: s.sync.seq, held: s.native.candles.size, updates: s.updates, resyncs: s.resyncs, lastError: s.lastError }));
  }

  /**
   * Opens a subscription: resolves the instrument, joins (or creates) its view, reads the history
   * and sends the snapshot. Null when the client left meanwhile. Throws RequestError.
   */
  async subscribe(client: LiveClient, id: string, req: SubscribeRequest): Promise<Subscription | null> {
    const started = performance.now();
    const instrument = await this.deps.catalog.resolve(req.exchange, req.symbol);
    const mode: GroupingMode = req.mode ?? 'nearest';
    const step = req.ticks * instrument.scales.tick;
    if (!Number.isSafeInteger(step)) throw new RequestError('bad-request', `ticks ${req.ticks} x tick ${instrument.scales.tick} is too large`);
    const entry = await this.entry(instrument, req.timeframe, req.ticks, step, mode);
    entry.opening++;
    if (entry.linger) {
      clearTimeout(entry.linger);
      entry.linger = null;
    }
    let history: WireFootprintCandle[] = [];
    let historyOk = true;
    let from: number;
    try {
      const len = TIMEFRAME_MS[req.timeframe];
      const held = entry.view.openTimes();
      let stored: number | null = null;
      try {
        stored = await this.cached(entry, 'latest', () => this.deps.history.latestMinute(instrument));
      } catch {
        historyOk = false;
      }
      const newest = Math.max(held.length > 0 ? held[held.length - 1]! : -Infinity, stored ?? -Infinity);
      const latest = bucketOf(Number.isFinite(newest) ? newest : Date.now(), req.timeframe);
      from = Math.max(0, latest - (req.candles - 1) * len);
      if (historyOk) {
        try {
          const to = latest + len;
          history = await this.cached(entry, `${from}:${to}`, () => this.deps.history.footprintList(instrument, req.timeframe, from, to, step, mode));
        } catch (e) {
          historyOk = false;
          this.deps.logger.warn(`history of ${req.exchange} ${req.symbol} ${req.timeframe} for a snapshot: ${(e as Error).message}`);
        }
      }
    } finally {
      entry.opening--;
    }
    if (client.closed || this.stopped) {
      this.maybeLinger(entry);
      return null;
    }
    // --- from here on synchronous: the snapshot and the registration see the same state ---
    const byTime = new Map<number, WireFootprintCandle>();
    for (const c of history) byTime.set(c.openTime, c);
    for (const t of entry.view.openTimes()) {
      if (t < from) continue;
      const c = entry.view.footprint(t);
      if (c) byTime.set(t, c);
    }
    const candles = [...byTime.values()].sort((a, b) => a.openTime - b.openTime).slice(-req.candles);
    const sub = new Subscription(id, client, entry, req);
    entry.subscribers.add(sub);
    client.sendSnapshot({
      subscriptionId: id,
      seq: 0,
      epoch: sub.epoch,
      exchange: req.exchange,
      symbol: req.symbol,
      timeframe: req.timeframe,
      ticks: req.ticks,
      mode,
      step,
      scales: instrument.scales,
      members: instrument.members.map((m) => ({ exchange: m.exchange, symbol: m.symbol })),
      live: entry.streams.every((s) => s.synced),
      history: historyOk,
      candles,
      session: this.session(entry),
      sentAtMs: Date.now(),
    });
    this.deps.metrics.snapshotLatency.observe((performance.now() - started) / 1000);
    return sub;
  }

  /** A read shared with concurrent and recent (HISTORY_TTL_MS) callers of the same key; failures are not kept. */
  private cached<T>(entry: ViewEntry, key: string, read: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = entry.historyCache.get(key);
    if (hit && now - hit.at < HISTORY_TTL_MS) return hit.value as Promise<T>;
    for (const [k, v] of entry.historyCache) if (now - v.at >= HISTORY_TTL_MS) entry.historyCache.delete(k);
    const value = read();
    entry.historyCache.set(key, { at: now, value });
    value.catch(() => entry.historyCache.delete(key));
    return value;
  }

  /** The subscription ends (unsubscribe, disconnect). */
  release(sub: Subscription): void {
    sub.active = false;
    sub.entry.subscribers.delete(sub);
    this.maybeLinger(sub.entry);
  }

  /** Session figures of a view: the owner's as they are, or a merged sum (no merged POC, value area or VWAP), the same object until a member's changes. */
  session(entry: ViewEntry): SessionSummary | null {
    if (entry.streams.length === 1) return entry.streams[0]!.session;
    const refs = entry.streams.map((s) => s.session);
    const c = entry.sessionCache;
    if (c && c.refs.every((r, i) => r === refs[i])) return c.value;
    const value = this.mergedSession(entry);
    entry.sessionCache = { refs, value };
    return value;
  }

  private mergedSession(entry: ViewEntry): SessionSummary | null {
    let start = -Infinity;
    for (const s of entry.streams) if (s.session && s.session.startMs > start) start = s.session.startMs;
    if (!Number.isFinite(start)) return null;
    let cvd = 0;
    let volume = 0;
    let trades = 0;
    entry.streams.forEach((s, i) => {
      const x = s.session;
      if (!x || x.startMs !== start) return;
      const qf = entry.instrument.members[i]!.quantityFactor;
      cvd += scaleUnits(x.cvd, qf, 'cvd');
      volume += scaleUnits(x.volume, qf, 'volume');
      trades += x.trades;
    });
    // no merged POC, value area, VWAP or naked POCs (they are not sums of the members'); the cast
    // keeps this compiling whether or not SessionSummary carries nakedPocs yet
    return { startMs: start, poc: null, vah: null, val: null, vwap: null, cvd, volume, trades, nakedPocs: [] } as SessionSummary;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.evictTimer);
    for (const e of this.entries.values()) if (e.linger) clearTimeout(e.linger);
    await Promise.allSettled(this.creating.values());
    for (const { stream } of this.streams.values()) stream.stop();
    this.streams.clear();
    this.entries.clear();
  }

  private maybeLinger(entry: ViewEntry): void {
    if (entry.subscribers.size > 0 || entry.opening > 0 || entry.linger || this.stopped) return;
    const drop = () => {
      entry.linger = null;
      if (entry.subscribers.size > 0 || entry.opening > 0) return;
      this.entries.delete(entry.key);
      for (const u of entry.unlisten) u();
      for (const s of entry.streams) this.releaseStream(s);
    };
    if (this.deps.config.streamLingerMs === 0) drop();
    else {
      entry.linger = setTimeout(drop, this.deps.config.streamLingerMs);
      entry.linger.unref();
    }
  }

  private acquireStream(exchange: string, symbol: string, timeframe: Timeframe): LiveStream {
    const k = `${exchange}.${symbol}.${timeframe}`;
    let s = this.streams.get(k);
    if (!s) {
      const m = this.deps.metrics;
      const stored = (e: string, s: string, tf: Timeframe, times: readonly number[]) => this.deps.history.storedLevels(e, s, tf, times);
      const stream = new LiveStream(exchange, symbol, timeframe, this.deps.nats, this.deps.snapshots, stored, this.deps.logger, {
        resync: () => m.resyncs.inc(),
        malformed: () => m.malformedUpdates.inc(),
      });
      s = { stream, refs: 0 };
      this.streams.set(k, s);
      stream.start();
    }
    s.refs++;
    return s.stream;
  }

  private releaseStream(stream: LiveStream): void {
    const k = `${stream.exchange}.${stream.symbol}.${stream.timeframe}`;
    const s = this.streams.get(k);
    if (!s || --s.refs > 0) return;
    this.streams.delete(k);
    stream.stop();
  }

  private entry(instrument: InstrumentView, timeframe: Timeframe, ticks: number, step: number, mode: GroupingMode): Promise<ViewEntry> {
    const key = `${instrument.exchange}|${instrument.symbol}|${timeframe}|${step}|${mode}|${instrument.members.map((m) => `${m.exchange}:${m.symbol}`).join(',')}`;
    const existing = this.entries.get(key);
    if (existing) return Promise.resolve(existing);
    let p = this.creating.get(key);
    if (!p) {
      p = this.createEntry(key, instrument, timeframe, ticks, step, mode).finally(() => this.creating.delete(key));
      this.creating.set(key, p);
    }
    return p;
  }

  /**
   * A new view: its member streams (started and synced, or given up on after the snapshot
   * timeout), seeded with what they hold. A merged view is also seeded from ClickHouse from the
   * oldest candle any member holds, so that it knows every member's part of every candle it follows.
   */
  private async createEntry(key: string, instrument: InstrumentView, timeframe: Timeframe, ticks: number, step: number, mode: GroupingMode): Promise<ViewEntry> {
    const streams = instrument.members.map((m) => this.acquireStream(m.exchange, m.symbol, timeframe));
    try {
      await Promise.all(streams.map((s) => s.ready(this.deps.config.snapshotTimeoutMs)));
      const view = new GroupedView(key, instrument.members, timeframe, step, mode);
      const entry: ViewEntry = { key, view, instrument, timeframe, ticks, streams, unlisten: [], subscribers: new Set(), opening: 0, linger: null, historyCache: new Map() };
      if (view.merged) {
        let floor = bucketOf(Date.now(), timeframe);
        for (const s of streams) for (const t of s.native.candles.keys()) if (t < floor) floor = t;
        view.floor = floor;
        const parts = await Promise.all(
          instrument.members.map((_, i) => this.deps.history.memberParts(instrument, i, timeframe, floor, floor + 400 * 86_400_000, step, mode).catch(() => new Map())),
        );
        parts.forEach((byTime, i) => {
          for (const [t, part] of byTime) view.seed(i, t, part);
        });
      }
      // synchronous from here: what the streams hold now, then every later event
      streams.forEach((s, i) => {
        const m = instrument.members[i]!;
        for (const [t, held] of s.native.candles) if (!view.merged || t >= view.floor) view.seed(i, t, view.part(m, held.summary, held.levels.values()));
        entry.unlisten.push(s.listen((ev, held, sentAtMs) => this.onEvent(entry, i, ev, held, sentAtMs)));
      });
      this.entries.set(key, entry);
      this.maybeLinger(entry);
      return entry;
    } catch (e) {
      for (const s of streams) this.releaseStream(s);
      throw e;
    }
  }

  private onEvent(entry: ViewEntry, member: number, ev: NativeEvent, held: HeldCandle | undefined, sentAtMs: number | null): void {
    let change: GroupedChange | null;
    try {
      change = entry.view.apply(member, ev, held, sentAtMs);
    } catch (e) {
      this.deps.logger.warn(`${entry.key}: ${(e as Error).message}`);
      return;
    }
    if (change === null) return;
    for (const sub of entry.subscribers) sub.client.push(sub, change);
  }
}
