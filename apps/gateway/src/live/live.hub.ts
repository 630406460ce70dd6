import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  DAY_MS,
  type GroupedChange,
  GroupedView,
  type HeldCandle,
  type MemberSession,
  MergedSessionState,
  type NativeEvent,
  mergeSessions,
  sessionDay,
} from '@orderflow/candle-views';
import type { SessionSummary, SnapshotMessage, SubscribeRequest, WireFootprintCandle } from '@orderflow/contracts';
import { type GroupingMode, TIMEFRAME_MS, type Timeframe, bucketStartOfMs } from '@orderflow/footprint';
import type { GatewayConfig } from '../config/gateway.config.js';
import type { HistoryService } from '../history/history.service.js';
import type { InstrumentCatalog } from '../instruments/instrument.catalog.js';
import type { InstrumentView } from '../instruments/instrument.view.js';
import type { GatewayMetrics } from '../metrics/gateway.metrics.js';
import { RequestError } from '../request.error.js';
import { LiveStream, type StreamLogger } from './live.stream.js';
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
  /** The session last computed, and what it was computed from (the same object until one of those changes). */
  sessionCache?: { refs: (SessionSummary | null)[]; revision: number; stored: number; value: SessionSummary | null };
  /**
   * Merged views: the merged `1d` entry of the same grouping whose day candle is the session
   * profile (the entry itself when its timeframe is 1d). Unset when it could not be opened: the
   * session then has sums and VWAP but no POC, value area or naked POCs.
   */
  sessionSource?: ViewEntry;
  /** A merged 1d entry: the earlier sessions (naked POCs) and how the last read of them went. */
  merged?: { state: MergedSessionState; loading: boolean; failedAt: number | null };
  /** Other entries whose session this one supplies: they keep it open, and are told when it changes. */
  dependents?: Set<ViewEntry>;
}

/**
 * How long a history read serves later subscriptions. Safe: history only supplies candles older than
 * what the view holds (the view's candles win), and those are final in ClickHouse.
 */
const HISTORY_TTL_MS = 2000;

/** How long after a failed read of the earlier merged sessions (naked POCs) it is tried again. */
const EARLIER_SESSIONS_RETRY_MS = 60_000;

/** A view's log fields: its instrument (a merged view's name) and timeframe. */
function viewFields(entry: ViewEntry): { exchange: string; symbol: string; timeframe: Timeframe } {
  return { exchange: entry.instrument.exchange, symbol: entry.instrument.symbol, timeframe: entry.timeframe };
}

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
  streamStates(): {
    subject: string;
    synced: boolean;
    epoch: string | null;
    seq: number;
    held: number;
    updates: number;
    resyncs: number;
    lastError: string | null;
  }[] {
    return [...this.streams.values()].map(({ stream: s }) => ({
      subject: s.subject,
      synced: s.synced,
      epoch: s.sync.epoch,
      seq: s.sync.seq,
      held: s.native.candles.size,
      updates: s.updates,
      resyncs: s.resyncs,
      lastError: s.lastError,
    }));
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
    if (!Number.isSafeInteger(step))
      throw new RequestError('bad-request', `ticks ${req.ticks} x tick ${instrument.scales.tick} is too large`);
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
      const latest = bucketStartOfMs(Number.isFinite(newest) ? newest : Date.now(), req.timeframe);
      from = Math.max(0, latest - (req.candles - 1) * len);
      if (historyOk) {
        try {
          const to = latest + len;
          history = await this.cached(entry, `${from}:${to}`, () =>
            this.deps.history.footprintList(instrument, req.timeframe, from, to, step, mode),
          );
        } catch (e) {
          historyOk = false;
          this.deps.logger.warn(
            `history of ${req.exchange} ${req.symbol} ${req.timeframe} for a snapshot: ${(e as Error).message}`,
            { exchange: req.exchange, symbol: req.symbol, timeframe: req.timeframe },
          );
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

  /**
   * Session figures of a view: the owner's as they are, or a merged view's (merged-session.ts:
   * members' sums, exact VWAP from their notionals, POC and value area of the merged 1d view's day
   * candle at the view's grouping, naked POCs of the earlier merged sessions). The same object
   * until something it is computed from changes: session() runs on every flush of every client.
   */
  session(entry: ViewEntry): SessionSummary | null {
    if (!entry.view.merged) return entry.streams[0]!.session;
    const src = entry.sessionSource?.merged ? entry.sessionSource : entry;
    const refs = src.streams.map((s) => s.session);
    const revision = src.merged ? src.view.revision : 0;
    const stored = src.merged?.state.storedVersion ?? 0;
    const c = src.sessionCache;
    if (c && c.revision === revision && c.stored === stored && c.refs.every((r, i) => r === refs[i])) return c.value;
    const members: MemberSession[] = src.streams.map((s, i) => ({
      session: s.session,
      priceFactor: src.instrument.members[i]!.priceFactor,
      quantityFactor: src.instrument.members[i]!.quantityFactor,
    }));
    let value: SessionSummary | null;
    try {
      value = src.merged
        ? src.merged.state.summary(members, src.view)
        : mergeSessions(members, src.instrument.scales.priceScale, null, [], src.view.step, src.view.mode);
    } catch (e) {
      this.deps.logger.warn(`${src.key}: session: ${(e as Error).message}`, viewFields(src));
      value = null;
    }
    src.sessionCache = { refs, revision, stored, value };
    if (src.merged?.failedAt != null && Date.now() - src.merged.failedAt >= EARLIER_SESSIONS_RETRY_MS)
      void this.loadEarlierSessions(src);
    return value;
  }

  /**
   * Reads the earlier merged sessions (the NAKED_POC_DAYS days before the current one) of a merged
   * 1d entry from ClickHouse: merged day candles at the view's grouping, summed in SQL, with the
   * same profile metrics as the live view's. A failure is logged and tried again later (meanwhile
   * only the sessions the live view followed count).
   */
  private async loadEarlierSessions(entry: ViewEntry): Promise<void> {
    const m = entry.merged;
    if (!m || m.loading || this.stopped) return;
    m.loading = true;
    let start = -Infinity;
    for (const s of entry.streams) if (s.session && s.session.startMs > start) start = s.session.startMs;
    if (!Number.isFinite(start)) start = bucketStartOfMs(Date.now(), '1d');
    try {
      const days = await this.deps.history.footprintList(
        entry.instrument,
        '1d',
        start - m.state.lookbackDays * DAY_MS,
        start,
        entry.view.step,
        entry.view.mode,
      );
      m.state.setStored(days.map(sessionDay));
      m.failedAt = null;
      this.refreshSessions(entry, true, null, null);
    } catch (e) {
      m.failedAt = Date.now();
      this.deps.logger.warn(
        `${entry.key}: earlier sessions (naked POCs) from ClickHouse: ${(e as Error).message}`,
        viewFields(entry),
      );
    } finally {
      m.loading = false;
    }
  }

  /**
   * The merged session supplied by `src` changed without the subscribers' own candles changing (its
   * 1d view moved, or the earlier sessions were read): each subscription of a dependent entry (and
   * of `src` itself when `self`) gets an update of its newest candle with no cells, which carries
   * the new session. Conflated with the candle's own pending update when there is one.
   */
  private refreshSessions(
    src: ViewEntry,
    self: boolean,
    lastTradeUs: number | null,
    sourceSentAtMs: number | null,
  ): void {
    const targets = [...(src.dependents ?? [])];
    if (self) targets.push(src);
    for (const d of targets) {
      if (d.subscribers.size === 0) continue;
      const t = d.view.latestOpenTime();
      if (t === null) continue;
      const change: GroupedChange = {
        openTime: t,
        version: d.view.version(t),
        prices: [],
        replace: false,
        lastTradeUs,
        sourceSentAtMs,
      };
      for (const sub of d.subscribers) sub.client.push(sub, change);
    }
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

  /**
   * An entry is kept while it has subscribers, subscriptions being opened, or dependents (entries whose session it
   * supplies).
   */
  private inUse(entry: ViewEntry): boolean {
    return entry.subscribers.size > 0 || entry.opening > 0 || (entry.dependents?.size ?? 0) > 0;
  }

  private maybeLinger(entry: ViewEntry): void {
    if (this.inUse(entry) || entry.linger || this.stopped) return;
    const drop = () => {
      entry.linger = null;
      if (this.inUse(entry) || this.entries.get(entry.key) !== entry) return;
      this.entries.delete(entry.key);
      for (const u of entry.unlisten) u();
      for (const s of entry.streams) this.releaseStream(s);
      this.releaseSessionSource(entry);
    };
    // a timer even for 0 ms: whoever awaited the entry's creation claims it first (microtasks run before timers)
    entry.linger = setTimeout(drop, this.deps.config.streamLingerMs);
    entry.linger.unref();
  }

  /** A dependent entry is gone (or was never completed): its session source may linger. */
  private releaseSessionSource(entry: ViewEntry): void {
    const src = entry.sessionSource;
    if (!src || src === entry) return;
    entry.sessionSource = undefined;
    src.dependents?.delete(entry);
    this.maybeLinger(src);
  }

  /**
   * The merged 1d entry of the same grouping as a merged entry of another timeframe, claimed for
   * `dependent` in the same microtask as it resolves (before any linger timer can drop it).
   */
  private async sessionSourceFor(dependent: {
    instrument: InstrumentView;
    ticks: number;
    step: number;
    mode: GroupingMode;
    claim: (src: ViewEntry) => void;
  }): Promise<ViewEntry | undefined> {
    try {
      return await this.entry(dependent.instrument, '1d', dependent.ticks, dependent.step, dependent.mode).then(
        (src) => {
          dependent.claim(src);
          return src;
        },
      );
    } catch (e) {
      this.deps.logger.warn(
        `${dependent.instrument.exchange} ${dependent.instrument.symbol}: the merged 1d view for its session: ${(e as Error).message}`,
        {
          exchange: dependent.instrument.exchange,
          symbol: dependent.instrument.symbol,
        },
      );
      return undefined;
    }
  }

  private acquireStream(exchange: string, symbol: string, timeframe: Timeframe): LiveStream {
    const k = `${exchange}.${symbol}.${timeframe}`;
    let s = this.streams.get(k);
    if (!s) {
      const m = this.deps.metrics;
      const stored = (e: string, s: string, tf: Timeframe, times: readonly number[]) =>
        this.deps.history.storedLevels(e, s, tf, times);
      const range = (e: string, s: string, tf: Timeframe, from: number, to: number) =>
        this.deps.history.nativeCandles(e, s, tf, from, to);
      const stream = new LiveStream(
        exchange,
        symbol,
        timeframe,
        this.deps.nats,
        this.deps.snapshots,
        stored,
        {
          log: (msg, f) => this.deps.logger.log(msg, { exchange, symbol, timeframe, ...f }),
          warn: (msg, f) => this.deps.logger.warn(msg, { exchange, symbol, timeframe, ...f }),
        },
        {
          resync: () => m.resyncs.inc(),
          malformed: () => m.malformedUpdates.inc(),
        },
        range,
      );
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

  private entry(
    instrument: InstrumentView,
    timeframe: Timeframe,
    ticks: number,
    step: number,
    mode: GroupingMode,
  ): Promise<ViewEntry> {
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
  private async createEntry(
    key: string,
    instrument: InstrumentView,
    timeframe: Timeframe,
    ticks: number,
    step: number,
    mode: GroupingMode,
  ): Promise<ViewEntry> {
    const streams = instrument.members.map((m) => this.acquireStream(m.exchange, m.symbol, timeframe));
    // a merged view's session profile is the day candle of the merged 1d view of the same grouping:
    // opened (or joined) alongside, and kept open by this entry (a placeholder holds it until the entry exists)
    const placeholder = { key: `${key}#opening`, subscribers: new Set() } as unknown as ViewEntry;
    let source: ViewEntry | undefined;
    const sourceP =
      instrument.members.length > 1 && timeframe !== '1d'
        ? this.sessionSourceFor({
            instrument,
            ticks,
            step,
            mode,
            claim: (src) => {
              source = src;
              (src.dependents ??= new Set()).add(placeholder);
              if (src.linger) {
                clearTimeout(src.linger);
                src.linger = null;
              }
            },
          })
        : Promise.resolve(undefined);
    try {
      await Promise.all(streams.map((s) => s.ready(this.deps.config.snapshotTimeoutMs)));
      const view = new GroupedView(key, instrument.members, timeframe, step, mode, Date.now);
      const entry: ViewEntry = {
        key,
        view,
        instrument,
        timeframe,
        ticks,
        streams,
        unlisten: [],
        subscribers: new Set(),
        opening: 0,
        linger: null,
        historyCache: new Map(),
      };
      if (view.merged && timeframe === '1d') {
        entry.sessionSource = entry;
        entry.merged = {
          state: new MergedSessionState(instrument.scales.priceScale, step, mode),
          loading: false,
          failedAt: null,
        };
      }
      if (view.merged) {
        let floor = bucketStartOfMs(Date.now(), timeframe);
        for (const s of streams) for (const t of s.native.candles.keys()) if (t < floor) floor = t;
        view.floor = floor;
        const [parts] = await Promise.all([
          Promise.all(
            instrument.members.map((_, i) =>
              this.deps.history
                .memberParts(instrument, i, timeframe, floor, floor + 400 * 86_400_000, step, mode)
                .catch(() => new Map()),
            ),
          ),
          // a merged 1d view: the earlier sessions (naked POCs) are read alongside
          entry.merged ? this.loadEarlierSessions(entry) : undefined,
        ]);
        parts.forEach((byTime, i) => {
          for (const [t, part] of byTime) view.seed(i, t, part);
        });
      }
      // the session's 1d view was opened alongside these reads (claimed as soon as it resolved)
      await sourceP;
      // synchronous from here: what the streams hold now, then every later event
      streams.forEach((s, i) => {
        const m = instrument.members[i]!;
        for (const [t, held] of s.native.candles)
          if (!view.merged || t >= view.floor) view.seed(i, t, view.part(m, held.summary, held.levels.values()));
        entry.unlisten.push(s.listen((ev, held, sentAtMs) => this.onEvent(entry, i, ev, held, sentAtMs)));
      });
      if (source) {
        source.dependents!.delete(placeholder);
        source.dependents!.add(entry);
        entry.sessionSource = source;
      }
      this.entries.set(key, entry);
      this.maybeLinger(entry);
      return entry;
    } catch (e) {
      for (const s of streams) this.releaseStream(s);
      await sourceP;
      if (source) {
        source.dependents?.delete(placeholder);
        this.maybeLinger(source);
      }
      throw e;
    }
  }

  private onEvent(
    entry: ViewEntry,
    member: number,
    ev: NativeEvent,
    held: HeldCandle | undefined,
    sentAtMs: number | null,
  ): void {
    let change: GroupedChange | null;
    try {
      change = entry.view.apply(member, ev, held, sentAtMs);
    } catch (e) {
      this.deps.logger.warn(`${entry.key}: ${(e as Error).message}`, viewFields(entry));
      return;
    }
    if (change === null) return;
    for (const sub of entry.subscribers) sub.client.push(sub, change);
    if ((entry.dependents?.size ?? 0) > 0)
      this.refreshSessions(entry, false, change.lastTradeUs, change.sourceSentAtMs);
  }
}
