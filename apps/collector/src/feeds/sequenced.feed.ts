/**
 * Feeds whose trade ids are contiguous integers per symbol (Binance aggregate ids, OKX trade ids):
 * id order kept by IdSequencer, gaps filled from REST before the live trades behind them are
 * published, every gap recorded with its outcome. Each exchange supplies its connections, its
 * normaliser and its REST paging (see binance.feed.ts, okx.feed.ts).
 *
 * Start: a symbol with trades in JetStream resumes after the last one stored (resume.ts decides
 * where): REST's newest trade is offered to the sequencer as if it had arrived live, which opens
 * the hole as a gap that the backfill loop fills page by page while the live trades queue behind
 * it. What REST no longer serves, or what lies beyond the catch-up bound, is recorded as an
 * unfilled gap. A symbol with nothing stored starts at the COLLECTOR_BACKFILL_MINUTES window.
 */
import { IdSequencer } from '@orderflow/resilience';
import type { Instrument, Trade } from '@orderflow/footprint';
import { BaseFeed, type BaseFeedOptions, type ConnectionSpec } from './base.feed.js';
import type { FeedStatus, StartStatus } from './feed.types.js';
import {
  CatchUpProgress,
  type CatchUpReason,
  decideResume,
  describeCatchUp,
  type IdTime,
  planResume,
  probeFrom,
} from './resume.js';
import { sleep } from './rest.client.js';

export type { ConnectionSpec } from './base.feed.js';

export interface SequencedFeedOptions extends BaseFeedOptions {
  /** Backfill this many minutes of history from REST at a first start (0: start with the live stream). */
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
  /** Exchange time (µs) of the last trade published (or stored, at a resume): one side of a gap's time range. */
  lastTimeUs: number | null;
  backfilling: Promise<void> | null;
  /** Per-exchange continuity bookkeeping (Binance: the last underlying trade id). */
  extra: { lastUnderlying?: number };
  start: StartStatus;
  /** The catch-up under way or the last one finished. */
  catchUp: CatchUpProgress | null;
  /** Why the next gap is opened: 'resume' for the hole since the last stored trade. */
  nextGapReason: CatchUpReason;
}

export abstract class SequencedFeed<T extends Trade> extends BaseFeed {
  protected readonly symbols = new Map<string, SymbolState<T>>();
  private progressTimer: NodeJS.Timeout | undefined;

  constructor(protected override readonly o: SequencedFeedOptions) {
    super(o);
  }

  /** The WebSocket connections covering these symbols (subscriptions in the URL or sent on open). */
  protected abstract connectionSpecs(symbols: string[]): ConnectionSpec[];
  /** One frame: trades in exchange order, or a control frame; throws NormalizeError when malformed. */
  protected abstract parse(text: string, receivedAtMs: number): T[] | { control: true; payload: unknown };
  /**
   * Trades of `symbol` from REST, ascending by id, starting at `fromId` (or the first id after it that REST serves).
   */
  protected abstract fetchFrom(symbol: string, fromId: number): Promise<T[]>;
  /** The first trade id at or after `sinceMs` (start-up backfill, catch-up bound), or null. */
  protected abstract firstIdSince(symbol: string, sinceMs: number): Promise<number | null>;
  /** REST's newest trade of `symbol`, or null when it has none. */
  protected abstract newestTrade(symbol: string): Promise<T | null>;
  /** Hook for per-trade continuity checks beyond the trade id (Binance's f/l). */
  protected checkContinuity(_state: SymbolState<T>, _trade: T): void {
    // most exchanges have nothing beyond the trade id
  }

  async start(): Promise<void> {
    const symbols = [...this.o.instruments.keys()];
    const prepared = await Promise.all(symbols.map(async (s) => [s, await this.prepare(s)] as const));
    for (const [s, { state }] of prepared) this.symbols.set(s, state);
    for (const [s, { state, newest }] of prepared) if (newest) this.offer(s, state, newest);
    this.openConnections(this.connectionSpecs(symbols));
    this.progressTimer = setInterval(() => this.logProgress(), this.o.progressLogMs ?? 5000);
    this.progressTimer.unref();
  }

  override async stop(): Promise<void> {
    clearInterval(this.progressTimer);
    await super.stop();
    await Promise.all([...this.symbols.values()].map((s) => s.backfilling?.catch(() => undefined)));
  }

  /**
   * A symbol's starting point. With a stored trade: after it (or at the catch-up bound), the part
   * REST cannot serve recorded, and REST's newest trade returned to be offered once every symbol
   * is set up. Without: the start-up backfill window, as on a first run.
   */
  private async prepare(symbol: string): Promise<{ state: SymbolState<T>; newest: T | null }> {
    const state: SymbolState<T> = {
      instrument: this.o.instruments.get(symbol)!,
      sequencer: new IdSequencer<Seq<T>>(null),
      lastTradeAtMs: null,
      lastTimeUs: null,
      backfilling: null,
      extra: {},
      start: { from: 'live' },
      catchUp: null,
      nextGapReason: 'gap',
    };
    const stored = this.o.resume ? await this.o.resume.source.lastStored(symbol) : null;
    const nowMs = Date.now();
    const maxCatchUpMs = this.o.resume?.maxCatchUpMs ?? 0;
    const plan = planResume({ stored, nowMs, backfillMinutes: this.o.startupBackfillMinutes, maxCatchUpMs });
    let note: string | undefined;
    if (plan.kind !== 'fresh') {
      const boundedFrom = plan.kind === 'bounded' ? await this.firstIdSince(symbol, plan.sinceMs) : null;
      const newest = await this.newestTrade(symbol);
      const from = probeFrom(plan, boundedFrom);
      const firstServed =
        newest !== null && Number(newest.id) >= from ? await this.firstServed(symbol, from, newest) : null;
      const d = decideResume({
        exchange: this.o.exchange,
        plan,
        maxCatchUpMs,
        boundedFrom,
        newest: newest && idTime(newest),
        firstServed,
      });
      if (d.kind === 'resume') {
        state.sequencer = new IdSequencer<Seq<T>>(d.startAt);
        state.lastTimeUs = plan.lastTimeUs;
        state.nextGapReason = 'resume';
        state.start = { from: 'stored', lastStoredId: String(plan.fromId - 1), lastStoredTimeUs: plan.lastTimeUs };
        if (d.unfilled) {
          const u = d.unfilled;
          state.start.unfilled = {
            fromId: String(u.fromId),
            toId: String(u.toId),
            fromTimeUs: u.fromTimeUs,
            toTimeUs: u.toTimeUs,
            reason: u.reason,
          };
          this.counters.gapsDetected++;
          this.counters.gapsUnfilled++;
          this.o.logger.error(`${this.o.exchange} ${symbol}: ids ${u.fromId}..${u.toId} cannot be filled: ${u.reason}`);
          this.o.events.gap(
            this.gapEvent(symbol, String(u.fromId), String(u.toId), u.toId - u.fromId + 1, 'unfilled', u.reason, u),
          );
          state.lastTimeUs = u.toTimeUs;
        }
        this.o.logger.log(
          `${this.o.exchange} ${symbol}: resuming after stored trade ${plan.fromId - 1} (${new Date(plan.lastTimeUs / 1000).toISOString()})` +
            (d.catchUp ? `, catching up to REST's newest trade ${newest!.id}` : ', nothing missed'),
        );
        return { state, newest: d.catchUp ? newest : null };
      }
      note = `stored trade ${plan.fromId - 1} not resumed after: ${d.reason} (another history, e.g. a restarted simulator)`;
      this.o.logger.warn(`${this.o.exchange} ${symbol}: ${note}; starting as on a first run`);
    }
    let startAt: number | null = null;
    if (this.o.startupBackfillMinutes > 0)
      startAt = await this.firstIdSince(symbol, nowMs - this.o.startupBackfillMinutes * 60_000);
    state.sequencer = new IdSequencer<Seq<T>>(startAt);
    state.start = { from: startAt === null ? 'live' : 'backfill', ...(note ? { note } : {}) };
    return { state, newest: null };
  }

  /**
   * The first trade REST serves at or after `fromId` (up to `newest`). Pages are by id; when
   * REST's history starts later (OKX keeps about 3 months, a simulator its last N trades) the
   * page at fromId is empty and the first served id is found by bisection, about log2(ids) requests.
   */
  private async firstServed(symbol: string, fromId: number, newest: T): Promise<IdTime> {
    const first = (await this.fetchFrom(symbol, fromId))[0];
    if (first !== undefined) return idTime(first);
    let found = idTime(newest);
    let lo = fromId + 1;
    let hi = found.id;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const t = (await this.fetchFrom(symbol, mid))[0];
      if (t !== undefined && Number(t.id) <= found.id) {
        found = idTime(t);
        hi = mid;
      } else lo = mid + 1;
    }
    return found;
  }

  protected symbolStatuses(): FeedStatus['symbols'] {
    const now = Date.now();
    return [...this.symbols.entries()].map(([symbol, s]) => ({
      symbol,
      nextId: s.sequencer.nextId === null ? null : String(s.sequencer.nextId),
      filling: s.sequencer.filling,
      queued: s.sequencer.queued,
      lastTradeAtMs: s.lastTradeAtMs,
      start: s.start,
      catchUp: s.catchUp?.status(now) ?? null,
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
      if (state) this.offer(trade.symbol, state, trade);
    }
  }

  /** One trade in exchange order (live, or REST's newest at a resume). */
  private offer(symbol: string, state: SymbolState<T>, trade: T): void {
    const r = state.sequencer.offer({ seq: Number(trade.id), trade });
    this.counters.duplicates += r.duplicates;
    this.publish(state, r.publish);
    if (r.gap) this.startBackfill(symbol, state, r.gap, trade.exchangeTimeUs);
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

  private startBackfill(
    symbol: string,
    state: SymbolState<T>,
    gap: { from: number; to: number },
    afterTimeUs: number,
  ): void {
    this.counters.gapsDetected++;
    const reason = state.nextGapReason;
    state.nextGapReason = 'gap';
    const why =
      reason === 'resume'
        ? `missed while the collector was stopped (after stored trade ${state.start.lastStoredId})`
        : 'id gap in the live stream';
    this.o.logger.warn(
      `${this.o.exchange} ${symbol}: gap of ${gap.to - gap.from + 1} ids (${gap.from}..${gap.to}), ${why}: backfilling from REST`,
    );
    this.o.events.gap(
      this.gapEvent(symbol, String(gap.from), String(gap.to), gap.to - gap.from + 1, 'detected', why, {
        fromTimeUs: state.lastTimeUs,
        toTimeUs: afterTimeUs,
      }),
    );
    if (state.catchUp?.active) state.catchUp.extend(gap.to, afterTimeUs);
    else state.catchUp = new CatchUpProgress(reason, gap.from, gap.to, afterTimeUs, state.lastTimeUs, Date.now());
    if (state.backfilling) return; // the running loop continues with the sequencer's open gap
    state.backfilling = this.backfillLoop(symbol, state).finally(() => {
      state.backfilling = null;
      const p = state.catchUp;
      if (p?.active) {
        p.finish(Date.now());
        // short fills stay quiet; a resume or a fill the progress log showed gets its summary
        if (p.reason === 'resume' || p.loggedAtMs > 0)
          this.o.logger.log(describeCatchUp(this.o.exchange, symbol, p.status(Date.now())));
      }
    });
    // what escapes the loop's own handling (publishing after close while stopping) is logged, not left unhandled
    state.backfilling.catch((e: unknown) => {
      if (!this.stopped) this.o.logger.error(`${this.o.exchange} ${symbol}: backfill stopped: ${(e as Error).message}`);
    });
  }

  private async backfillLoop(symbol: string, state: SymbolState<T>): Promise<void> {
    let failures = 0;
    // The gap as first seen, for its record: pages move gap.from forward as they fill it.
    let reported = state.sequencer.openGap!;
    while (!this.stopped && state.sequencer.filling) {
      const gap = state.sequencer.openGap!;
      if (gap.to !== reported.to) reported = gap;
      // a long catch-up outruns JetStream's acks: wait for the publisher rather than buffer without end
      if (this.o.sink.saturated) {
        await this.o.sink.onceDrained();
        continue;
      }
      try {
        const page = await this.fetchFrom(symbol, gap.from);
        const r = state.sequencer.backfilled(page.map((t) => ({ seq: Number(t.id), trade: t })));
        this.counters.duplicates += r.duplicates;
        const fromRest = r.publish.filter((x) => x.seq <= gap.to).length;
        this.counters.backfilledTrades += fromRest;
        this.publish(state, r.publish);
        state.catchUp?.advance(fromRest, state.sequencer.nextId, state.lastTimeUs, Date.now());
        if (r.publish.length === 0) {
          failures++;
          if (failures >= (this.o.backfillAttempts ?? 5)) throw new Error(`REST returned nothing from id ${gap.from}`);
          await sleep(500 * failures);
          continue;
        }
        failures = 0;
        if (r.filled || (state.sequencer.openGap?.from ?? Infinity) > gap.to) {
          this.counters.gapsFilled++;
          this.o.events.gap(
            this.gapEvent(
              symbol,
              String(reported.from),
              String(reported.to),
              reported.to - reported.from + 1,
              'filled',
              'backfilled from REST',
            ),
          );
          this.o.logger.log(`${this.o.exchange} ${symbol}: gap ${reported.from}..${reported.to} filled from REST`);
        }
        if (r.gap) {
          this.counters.gapsDetected++;
          this.o.events.gap(
            this.gapEvent(
              symbol,
              String(r.gap.from),
              String(r.gap.to),
              r.gap.to - r.gap.from + 1,
              'detected',
              'id gap in the live stream',
            ),
          );
          state.catchUp?.extend(r.gap.to, null);
        }
      } catch (e) {
        if (this.stopped) return;
        const g = state.sequencer.giveUp();
        this.counters.gapsUnfilled++;
        if (g.skipped) {
          this.o.logger.error(
            `${this.o.exchange} ${symbol}: gap ${g.skipped.from}..${g.skipped.to} could not be filled: ${(e as Error).message}`,
          );
          const times = { fromTimeUs: state.lastTimeUs, toTimeUs: g.publish[0]?.trade.exchangeTimeUs ?? null };
          this.o.events.gap(
            this.gapEvent(
              symbol,
              String(g.skipped.from),
              String(g.skipped.to),
              g.skipped.to - g.skipped.from + 1,
              'unfilled',
              (e as Error).message,
              times,
            ),
          );
        }
        this.publish(state, g.publish);
        state.catchUp?.advance(0, state.sequencer.nextId, state.lastTimeUs, Date.now());
      }
    }
  }

  /** Every few seconds: the progress of each catch-up that has been running that long. */
  private logProgress(): void {
    const now = Date.now();
    const every = this.o.progressLogMs ?? 5000;
    for (const [symbol, s] of this.symbols) {
      const p = s.catchUp;
      if (!p?.active || now - p.startedAtMs < every || now - p.loggedAtMs < every) continue;
      p.loggedAtMs = now;
      this.o.logger.log(describeCatchUp(this.o.exchange, symbol, p.status(now)));
    }
  }
}

function idTime(t: Trade): IdTime {
  return { id: Number(t.id), timeUs: t.exchangeTimeUs };
}
