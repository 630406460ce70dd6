/**
 * Feeds whose trade ids are contiguous integers per symbol (Binance aggregate ids, OKX trade ids):
 * id order kept by IdSequencer, gaps filled from REST before the live trades behind them are
 * published, every gap recorded with its outcome. Each exchange supplies its connections, its
 * normaliser and its REST paging (see binance.feed.ts, okx.feed.ts).
 */
import { IdSequencer } from '@orderflow/feeds';
import type { Instrument, Trade } from '@orderflow/footprint';
import { BaseFeed, type BaseFeedOptions, type ConnectionSpec } from './base.feed.js';
import type { FeedStatus } from './feed.types.js';
import { sleep } from './rest.client.js';

export type { ConnectionSpec } from './base.feed.js';

export interface SequencedFeedOptions extends BaseFeedOptions {
  /** Backfill this many minutes of history from REST at start (0: start with the live stream). */
  startupBackfillMinutes: number;
  /** REST attempts for one gap before it is recorded as unfilled. */
  backfillAttempts?: number;
}

interface Seq<T> {
  readonly seq: number;
  readonly trade: T;
}

export interface SymbolState<T> {
  instrument: Instrument;
  sequencer: IdSequencer<Seq<T>>;
  lastTradeAtMs: number | null;
  /** Exchange time (µs) of the last trade published: one side of a gap's time range. */
  lastTimeUs: number | null;
  backfilling: Promise<void> | null;
  /** Per-exchange continuity bookkeeping (Binance: the last underlying trade id). */
  extra: { lastUnderlying?: number };
}

export abstract class SequencedFeed<T extends Trade> extends BaseFeed {
  protected readonly symbols = new Map<string, SymbolState<T>>();

  constructor(protected override readonly o: SequencedFeedOptions) {
    super(o);
  }

  /** The WebSocket connections covering these symbols (subscriptions in the URL or sent on open). */
  protected abstract connectionSpecs(symbols: string[]): ConnectionSpec[];
  /** One frame: trades in exchange order, or a control frame; throws NormalizeError when malformed. */
  protected abstract parse(text: string, receivedAtMs: number): T[] | { control: true; payload: unknown };
  /** Trades of `symbol` from REST, ascending by id, starting at `fromId` (or the first id after it). */
  protected abstract fetchFrom(symbol: string, fromId: number): Promise<T[]>;
  /** The first trade id at or after `sinceMs` (start-up backfill), or null. */
  protected abstract firstIdSince(symbol: string, sinceMs: number): Promise<number | null>;
  /** Hook for per-trade continuity checks beyond the trade id (Binance's f/l). */
  protected checkContinuity(_state: SymbolState<T>, _trade: T): void {
    // most exchanges have nothing beyond the trade id
  }

  async start(): Promise<void> {
    const symbols = [...this.o.instruments.keys()];
    for (const s of symbols) {
      let startAt: number | null = null;
      if (this.o.startupBackfillMinutes > 0) startAt = await this.firstIdSince(s, Date.now() - this.o.startupBackfillMinutes * 60_000);
      this.symbols.set(s, { instrument: this.o.instruments.get(s)!, sequencer: new IdSequencer<Seq<T>>(startAt), lastTradeAtMs: null, lastTimeUs: null, backfilling: null, extra: {} });
    }
    this.openConnections(this.connectionSpecs(symbols));
  }

  override async stop(): Promise<void> {
    await super.stop();
    await Promise.all([...this.symbols.values()].map((s) => s.backfilling?.catch(() => undefined)));
  }

  protected symbolStatuses(): FeedStatus['symbols'] {
    return [...this.symbols.entries()].map(([symbol, s]) => ({
      symbol,
      nextId: s.sequencer.nextId === null ? null : String(s.sequencer.nextId),
      filling: s.sequencer.filling,
      queued: s.sequencer.queued,
      lastTradeAtMs: s.lastTradeAtMs,
    }));
  }

  protected onFrame(text: string, receivedAtMs: number): void {
    this.counters.frames++;
    let result;
    try {
      result = this.parse(text, receivedAtMs);
    } catch (e) {
      this.malformed(text, receivedAtMs, e);
      return;
    }
    if (!Array.isArray(result)) {
      this.o.logger.log(`${this.o.exchange}: control frame ${text.slice(0, 200)}`);
      return;
    }
    for (const trade of result) {
      const state = this.symbols.get(trade.symbol);
      if (!state) continue;
      const r = state.sequencer.offer({ seq: Number(trade.id), trade });
      this.counters.duplicates += r.duplicates;
      this.publish(state, r.publish);
      if (r.gap) this.startBackfill(trade.symbol, state, r.gap, trade.exchangeTimeUs);
    }
  }

  private publish(state: SymbolState<T>, items: Seq<T>[]): void {
    for (const { trade } of items) {
      this.checkContinuity(state, trade);
      state.lastTradeAtMs = trade.receiveTimeMs;
      state.lastTimeUs = trade.exchangeTimeUs;
      this.emit(state.instrument, trade);
    }
    this.checkBackpressure();
  }

  private startBackfill(symbol: string, state: SymbolState<T>, gap: { from: number; to: number }, afterTimeUs: number): void {
    this.counters.gapsDetected++;
    this.o.logger.warn(`${this.o.exchange} ${symbol}: gap of ${gap.to - gap.from + 1} aggregate ids (${gap.from}..${gap.to}), backfilling from REST`);
    this.o.events.gap(this.gapEvent(symbol, String(gap.from), String(gap.to), gap.to - gap.from + 1, 'detected', 'id gap in the live stream', { fromTimeUs: state.lastTimeUs, toTimeUs: afterTimeUs }));
    if (state.backfilling) return; // the running loop continues with the sequencer's open gap
    state.backfilling = this.backfillLoop(symbol, state).finally(() => {
      state.backfilling = null;
    });
  }

  private async backfillLoop(symbol: string, state: SymbolState<T>): Promise<void> {
    let failures = 0;
    // The gap as first seen, for its record: pages move gap.from forward as they fill it.
    let reported = state.sequencer.openGap!;
    while (!this.stopped && state.sequencer.filling) {
      const gap = state.sequencer.openGap!;
      if (gap.to !== reported.to) reported = gap;
      try {
        const page = await this.fetchFrom(symbol, gap.from);
        const r = state.sequencer.backfilled(page.map((t) => ({ seq: Number(t.id), trade: t })));
        this.counters.duplicates += r.duplicates;
        const fromRest = r.publish.filter((x) => x.seq <= gap.to).length;
        this.counters.backfilledTrades += fromRest;
        this.publish(state, r.publish);
        if (r.publish.length === 0) {
          failures++;
          if (failures >= (this.o.backfillAttempts ?? 5)) throw new Error(`REST returned nothing from id ${gap.from}`);
          await sleep(500 * failures);
          continue;
        }
        failures = 0;
        if (r.filled || (state.sequencer.openGap?.from ?? Infinity) > gap.to) {
          this.counters.gapsFilled++;
          this.o.events.gap(this.gapEvent(symbol, String(reported.from), String(reported.to), reported.to - reported.from + 1, 'filled', 'backfilled from REST'));
          this.o.logger.log(`${this.o.exchange} ${symbol}: gap ${reported.from}..${reported.to} filled from REST`);
        }
        if (r.gap) {
          this.counters.gapsDetected++;
          this.o.events.gap(this.gapEvent(symbol, String(r.gap.from), String(r.gap.to), r.gap.to - r.gap.from + 1, 'detected', 'id gap in the live stream'));
        }
      } catch (e) {
        if (this.stopped) return;
        const g = state.sequencer.giveUp();
        this.counters.gapsUnfilled++;
        if (g.skipped) {
          this.o.logger.error(`${this.o.exchange} ${symbol}: gap ${g.skipped.from}..${g.skipped.to} could not be filled: ${(e as Error).message}`);
          const times = { fromTimeUs: state.lastTimeUs, toTimeUs: g.publish[0]?.trade.exchangeTimeUs ?? null };
          this.o.events.gap(this.gapEvent(symbol, String(g.skipped.from), String(g.skipped.to), g.skipped.to - g.skipped.from + 1, 'unfilled', (e as Error).message, times));
        }
        this.publish(state, g.publish);
      }
    }
  }
}
