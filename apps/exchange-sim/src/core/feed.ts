import type { SimTrade } from '../trade.js';
import type { Market } from './market.js';

export type FeedMode = 'live' | 'replay';

export interface FeedOptions {
  /**
   * `live`: trades are released when their timestamp is due on the wall clock (synthetic markets,
   * timestamps = now). `replay`: sources are streamed as fast as `replayRate` allows (default
   * unlimited), in batches, yielding to the event loop between batches.
   */
  readonly mode?: FeedMode;
  /** Replay: at most this many trades per second (0 / undefined = unlimited). */
  readonly replayRate?: number;
  /** Replay: follow the recorded timing, `speed` times faster (1 = real time). Overrides nothing else. */
  readonly replaySpeed?: number;
  /** Replay: trades per batch between yields (default 1000). */
  readonly batchSize?: number;
  /** Live: timer period in ms (default 10). */
  readonly tickMs?: number;
  /** Start paused; `resume()` starts the flow. */
  readonly paused?: boolean;
  /** Hold the flow until this many clients have subscribed (see waitForClients). */
  readonly startAfterClients?: number;
  /** Replay waits while any client has more than this many bytes buffered (default 4 MiB). */
  readonly highWaterMark?: number;
}

export interface FeedSink {
  produce(market: Market, trades: SimTrade[]): void;
  waitForClients(n: number): Promise<void>;
  maxBufferedAmount(): number;
  log(message: string): void;
}

export type FeedState = 'waiting' | 'running' | 'paused' | 'done' | 'stopped';

export interface ReplayReport {
  /** Trades produced (sent or skipped) by the flow. */
  readonly trades: number;
  readonly startedAt: number;
  /** Wall time the last trade was handed to the sockets and the socket buffers drained. */
  readonly finishedAt: number;
  readonly durationMs: number;
  readonly markets: readonly {
    readonly symbol: string;
    readonly category: string;
    readonly produced: number;
    readonly lastId: number | undefined;
  }[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));
/**
 * Live: most trades one market releases in one tick. A simulator starved of CPU falls behind its
 * schedule and catches up in batches of this size (up to 2M trades/s per market at a 5 ms tick)
 * while its HTTP and control API stay responsive between them.
 */
const MAX_LIVE_PER_TICK = 10_000;

/** Moves trades from the markets' sources into the simulator (history + WebSocket). */
export class FeedDriver {
  private _state: FeedState = 'waiting';
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private pausedAt = 0;
  private pausedTotal = 0;
  private emitted = 0;
  private rateBase = 0;
  private rateBaseActive = 0;
  private resumeWaiters: (() => void)[] = [];
  private readonly finishedPromise: Promise<ReplayReport>;
  private resolveFinished!: (r: ReplayReport) => void;
  private readonly mode: FeedMode;
  private startRequested = false;
  private waitingForClients = false;

  constructor(
    private readonly sink: FeedSink,
    private readonly markets: readonly Market[],
    private readonly options: FeedOptions = {},
  ) {
    this.mode = options.mode ?? 'live';
    this.finishedPromise = new Promise((r) => (this.resolveFinished = r));
  }

  get state(): FeedState {
    return this._state;
  }

  /** Resolves when every source is exhausted and the sockets have drained (replay, or finite live sources). */
  finished(): Promise<ReplayReport> {
    return this.finishedPromise;
  }

  start(): void {
    if (this.startRequested) return;
    this.startRequested = true;
    void this.run();
  }

  pause(): void {
    if (this._state === 'running') {
      this._state = 'paused';
      this.pausedAt = Date.now();
    } else if (this._state === 'waiting') {
      this.pausedAt = Date.now();
      this._state = 'paused';
    }
  }

  resume(): void {
    if (this._state !== 'paused') return;
    const now = Date.now();
    if (this.startedAt > 0) this.pausedTotal += now - this.pausedAt;
    this._state = this.startedAt > 0 ? 'running' : this.waitingForClients ? 'waiting' : 'running';
    if (this.mode === 'live') for (const m of this.markets) m.source.rebase?.(now);
    const waiters = this.resumeWaiters;
    this.resumeWaiters = [];
    for (const w of waiters) w();
  }

  stop(): void {
    this._state = 'stopped';
    if (this.timer) clearTimeout(this.timer);
    const waiters = this.resumeWaiters;
    this.resumeWaiters = [];
    for (const w of waiters) w();
  }

  private untilResumed(): Promise<void> {
    return new Promise((r) => this.resumeWaiters.push(r));
  }

  /** State check that TypeScript does not narrow across awaits. */
  private is(state: FeedState): boolean {
    return this._state === state;
  }

  private activeMs(now: number): number {
    const pausedNow = this._state === 'paused' ? now - this.pausedAt : 0;
    return now - this.startedAt - this.pausedTotal - pausedNow;
  }

  private async run(): Promise<void> {
    const startPaused = this.options.paused === true;
    if (startPaused) {
      this._state = 'paused';
      this.pausedAt = Date.now();
      await this.untilResumed();
    }
    const n = this.options.startAfterClients ?? 0;
    if (n > 0 && !this.is('stopped')) {
      this.waitingForClients = true;
      if (!this.is('paused')) this._state = 'waiting';
      await this.sink.waitForClients(n);
      this.waitingForClients = false;
    }
    if (this.is('paused')) await this.untilResumed();
    if (this.is('stopped')) return;
    this._state = 'running';
    this.startedAt = Date.now();
    this.pausedTotal = 0;
    if (this.mode === 'live') {
      for (const m of this.markets) m.source.rebase?.(this.startedAt);
      this.liveTick();
    } else {
      await this.runReplay();
    }
  }

  private liveTick = (): void => {
    if (this._state === 'stopped' || this._state === 'done') return;
    if (this._state === 'running') {
      const now = Date.now();
      let exhausted = 0;
      for (const m of this.markets) {
        const batch: SimTrade[] = [];
        for (
          let t = m.source.peek();
          t !== undefined && t.time <= now && batch.length < MAX_LIVE_PER_TICK;
          t = m.source.peek()
        ) {
          batch.push(m.source.next()!);
        }
        if (batch.length > 0) {
          this.emitted += batch.length;
          this.sink.produce(m, batch);
        }
        if (m.source.peek() === undefined) exhausted++;
      }
      if (exhausted === this.markets.length) {
        void this.finish();
        return;
      }
    }
    this.timer = setTimeout(this.liveTick, this.options.tickMs ?? 10);
  };

  private async runReplay(): Promise<void> {
    const rate = this.options.replayRate && this.options.replayRate > 0 ? this.options.replayRate : 0;
    const speed = this.options.replaySpeed && this.options.replaySpeed > 0 ? this.options.replaySpeed : 0;
    const batchSize = Math.max(1, this.options.batchSize ?? 1000);
    const hwm = this.options.highWaterMark ?? 4 * 1024 * 1024;
    const firstTime = this.minPeekTime();
    this.rateBase = 0;
    this.rateBaseActive = 0;
    for (;;) {
      if (this._state === 'stopped') return;
      if (this._state === 'paused') {
        await this.untilResumed();
        continue;
      }
      if (this.sink.maxBufferedAmount() > hwm) {
        await sleep(1);
        continue;
      }
      const now = Date.now();
      const active = this.activeMs(now);
      let allowance = batchSize;
      if (rate > 0) {
        const tokens = Math.floor((rate * (active - this.rateBaseActive)) / 1000) - (this.emitted - this.rateBase);
        if (tokens < 1) {
          await sleep(Math.max(1, Math.min(50, 1000 / rate)));
          continue;
        }
        allowance = Math.min(allowance, tokens);
      }
      const until = speed > 0 ? firstTime + active * speed : Number.POSITIVE_INFINITY;
      const n = this.emitMerged(allowance, until);
      if (n === 0) {
        const next = this.minPeekTime();
        if (!Number.isFinite(next)) break;
        await sleep(Math.max(1, Math.min(250, (next - until) / speed)));
        continue;
      }
      await yieldToLoop();
    }
    await this.finish();
  }

  private minPeekTime(): number {
    let best = Number.POSITIVE_INFINITY;
    for (const m of this.markets) {
      const t = m.source.peek();
      if (t !== undefined && t.time < best) best = t.time;
    }
    return best;
  }

  /** Emits up to `max` trades with time <= until, merged across markets by time. */
  private emitMerged(max: number, until: number): number {
    if (this.markets.length === 1) {
      const m = this.markets[0]!;
      const batch: SimTrade[] = [];
      for (let t = m.source.peek(); t !== undefined && t.time <= until && batch.length < max; t = m.source.peek())
        batch.push(m.source.next()!);
      if (batch.length > 0) {
        this.emitted += batch.length;
        this.sink.produce(m, batch);
      }
      return batch.length;
    }
    let emitted = 0;
    let run: SimTrade[] = [];
    let runMarket: Market | undefined;
    while (emitted < max) {
      let best: Market | undefined;
      let bestTime = Number.POSITIVE_INFINITY;
      for (const m of this.markets) {
        const t = m.source.peek();
        if (t !== undefined && t.time < bestTime) {
          best = m;
          bestTime = t.time;
        }
      }
      if (best === undefined || bestTime > until) break;
      if (best !== runMarket) {
        if (runMarket && run.length > 0) this.sink.produce(runMarket, run);
        run = [];
        runMarket = best;
      }
      run.push(best.source.next()!);
      emitted++;
    }
    if (runMarket && run.length > 0) this.sink.produce(runMarket, run);
    this.emitted += emitted;
    return emitted;
  }

  private async finish(): Promise<void> {
    this._state = 'done';
    const deadline = Date.now() + 10_000;
    while (this.sink.maxBufferedAmount() > 0 && Date.now() < deadline) await sleep(2);
    const finishedAt = Date.now();
    const report: ReplayReport = {
      trades: this.emitted,
      startedAt: this.startedAt,
      finishedAt,
      durationMs: finishedAt - this.startedAt,
      markets: this.markets.map((m) => ({
        symbol: m.symbol,
        category: m.category,
        produced: m.produced,
        lastId: m.history.last()?.id,
      })),
    };
    this.sink.log(`feed finished: ${report.trades} trades in ${report.durationMs} ms`);
    this.resolveFinished(report);
  }
}
