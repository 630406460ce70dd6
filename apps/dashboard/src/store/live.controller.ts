import type { GroupingMode, Timeframe } from '@orderflow/footprint';
import type { ErrorMessage, SnapshotMessage, SubscribeRequest, UpdateMessage } from '@orderflow/contracts';
import { type ConnectionState, type GatewayAdapter, GatewayRequestError } from '../protocol/gateway.protocol.js';
import { FootprintStore, suggestTicks } from './footprint.store.js';
import { FrameBatcher, type FrameScheduler, animationFrame } from './frame.batcher.js';

export interface FeedRequest {
  exchange: string;
  symbol: string;
  timeframe: Timeframe;
  /** 0: chosen from the data (see suggestTicks). */
  ticks: number;
  candles: number;
  mode?: GroupingMode;
}

export type ChangeKind = 'snapshot' | 'live' | 'regroup' | 'status' | 'completeness';

/** The first grouping tried when it is to be chosen from the data. */
export const AUTO_TICKS_GUESS = 100;

/**
 * One live subscription kept alive: subscribes, applies the snapshot, batches updates to one
 * application per animation frame, re-subscribes after a reconnect or when updates stop lining up
 * (seq jump or new epoch), and says what is wrong in words. Framework-free: the Vue layer listens
 * through `onChange`, tests drive it with a fake adapter and a manual frame scheduler.
 */
export class LiveController {
  readonly store: FootprintStore;
  connection: ConnectionState = 'connecting';
  connectionDetail: string | null = null;
  /** The last refusal or failure, in the gateway's words (null when all is well). */
  error: { code: string; reason: string } | null = null;
  /** A subscription is on its way (no snapshot yet). */
  loading = false;
  resyncs = 0;
  private request: FeedRequest | null = null;
  /** The request as sent (ticks resolved). */
  private sent: SubscribeRequest | null = null;
  private autoTicks = false;
  private generation = 0;
  readonly batcher: FrameBatcher<UpdateMessage>;

  constructor(
    private readonly adapter: GatewayAdapter,
    private readonly onChange: (kind: ChangeKind) => void,
    schedule: FrameScheduler = animationFrame,
    maxCandles = 2000,
  ) {
    this.store = new FootprintStore(maxCandles);
    this.batcher = new FrameBatcher((items) => this.applyUpdates(items), schedule);
  }

  start(): void {
    this.adapter.connect({
      snapshot: (m) => this.onSnapshot(m),
      update: (m) => this.batcher.push(m),
      error: (m) => this.onError(m),
      connection: (state, detail) => this.onConnection(state, detail),
    });
  }

  stop(): void {
    this.batcher.clear();
    this.adapter.close();
  }

  get current(): SubscribeRequest | null {
    return this.sent;
  }

  /** Follows `req` instead of what was followed (changing grouping re-groups at once where exact). */
  follow(req: FeedRequest): void {
    const prev = this.sent;
    this.request = req;
    this.autoTicks = req.ticks === 0;
    const ticks =
      req.ticks === 0
        ? prev && prev.exchange === req.exchange && prev.symbol === req.symbol
          ? prev.ticks
          : AUTO_TICKS_GUESS
        : req.ticks;
    const same =
      prev &&
      prev.exchange === req.exchange &&
      prev.symbol === req.symbol &&
      prev.timeframe === req.timeframe &&
      (prev.mode ?? 'nearest') === (req.mode ?? 'nearest');
    if (same && prev.ticks !== ticks && this.store.regroup(ticks)) this.onChange('regroup');
    this.subscribe({
      exchange: req.exchange,
      symbol: req.symbol,
      timeframe: req.timeframe,
      ticks,
      candles: req.candles,
      ...(req.mode ? { mode: req.mode } : {}),
    });
  }

  /** Subscribes again to what is followed (after a reconnect or a seq jump). */
  resubscribe(): void {
    if (this.sent) this.subscribe(this.sent);
  }

  private subscribe(req: SubscribeRequest): void {
    const gen = ++this.generation;
    const old = this.store.subscriptionId;
    this.sent = req;
    this.loading = true;
    this.batcher.clear();
    if (old) {
      this.adapter.unsubscribe(old);
      this.store.subscriptionId = null;
    }
    this.onChange('status');
    this.adapter.subscribe(req).then(
      (id) => {
        if (gen === this.generation) return;
        // superseded: drop it, and if its snapshot was taken for the newer request, wait for that one's
        this.adapter.unsubscribe(id);
        if (this.store.subscriptionId === id) {
          this.store.subscriptionId = null;
          this.loading = true;
        }
      },
      (e: unknown) => {
        if (gen !== this.generation) return;
        // not connected: the subscription is made when the connection is (see onConnection)
        if (e instanceof GatewayRequestError && e.code === 'not-connected') return;
        this.loading = false;
        this.error =
          e instanceof GatewayRequestError
            ? { code: e.code, reason: e.message }
            : { code: 'internal', reason: String(e) };
        this.onChange('status');
      },
    );
  }

  private matches(m: SnapshotMessage): boolean {
    const r = this.sent;
    return (
      !!r &&
      m.exchange === r.exchange &&
      m.symbol === r.symbol &&
      m.timeframe === r.timeframe &&
      m.ticks === r.ticks &&
      (r.mode ?? 'nearest') === m.mode
    );
  }

  private onSnapshot(m: SnapshotMessage): void {
    if (!this.matches(m) || !this.loading) {
      // an answer to a request we no longer want
      this.adapter.unsubscribe(m.subscriptionId);
      return;
    }
    if (this.autoTicks && this.request) {
      const t = suggestTicks(m.candles, m.scales.tick);
      if (t !== m.ticks && (t / m.ticks >= 2.5 || m.ticks / t >= 2.5)) {
        this.adapter.unsubscribe(m.subscriptionId);
        this.subscribe({ ...this.sent!, ticks: t });
        return;
      }
    }
    this.loading = false;
    this.error = null;
    this.batcher.clear();
    this.store.applySnapshot(m);
    this.onChange('snapshot');
  }

  private applyUpdates(items: UpdateMessage[]): void {
    const r = this.store.applyBatch(items);
    if (r.resync) {
      this.resyncs++;
      this.resubscribe();
      return;
    }
    if (r.applied > 0) this.onChange('live');
  }

  private onError(m: ErrorMessage): void {
    this.error = { code: m.code, reason: m.reason };
    this.onChange('status');
  }

  private onConnection(state: ConnectionState, detail?: string): void {
    this.connection = state;
    this.connectionDetail = state === 'connected' ? null : (detail ?? null);
    if (state === 'connected') {
      // a new connection holds no subscriptions: ask (again)
      if (this.sent) this.subscribe(this.sent);
    }
    this.onChange('status');
  }
}
