/**
 * Where a symbol's collection resumes after the collector was stopped, and how a long catch-up is
 * reported. Pure decisions: the feeds do the I/O (JetStream's last stored trade, REST probes) and
 * act on what these functions answer.
 *
 * A symbol with trades stored resumes after its last stored trade id and fills the hole from REST,
 * as far back as the exchange serves it and no further back than `maxCatchUpMs` (the older part
 * is recorded as an unfilled gap). A symbol with nothing stored starts at the start-up backfill
 * window (COLLECTOR_BACKFILL_MINUTES), as on a first run.
 */

/** The last trade JetStream holds for a symbol (ids as the exchange spells them). */
export interface StoredTail {
  lastId: string;
  lastTimeUs: number;
  /** Ids of the stored trades with the last trade's exchange time (dedup where ids are unordered). */
  idsAtLastTime: readonly string[];
}

export interface ResumeSource {
  /** The last stored trade of `symbol`, or null when none is stored; throws when it cannot tell. */
  lastStored(symbol: string): Promise<StoredTail | null>;
}

export interface ResumeOptions {
  source: ResumeSource;
  /**
   * Trades older than this (exchange time, before now) are not fetched: their hole is recorded
   * (COLLECTOR_RESUME_MAX_HOURS).
   */
  maxCatchUpMs: number;
}

/** A trade's id and exchange time, as far as the resume decisions need them. */
export interface IdTime {
  id: number;
  timeUs: number;
}

/** Step 1, before any REST call: resume after the stored id, or from the bound when the stored trade is older. */
export type ResumePlan =
  | { kind: 'fresh' }
  | { kind: 'resume'; fromId: number; lastTimeUs: number }
  | { kind: 'bounded'; fromId: number; lastTimeUs: number; sinceMs: number };

export function planResume(o: {
  stored: StoredTail | null;
  nowMs: number;
  backfillMinutes: number;
  maxCatchUpMs: number;
}): ResumePlan {
  if (o.stored === null) return { kind: 'fresh' };
  const last = Number(o.stored.lastId);
  if (!Number.isSafeInteger(last) || last < 0) return { kind: 'fresh' };
  // the bound never cuts into the start-up backfill window
  const boundMs = Math.max(o.maxCatchUpMs, o.backfillMinutes * 60_000);
  const sinceMs = o.nowMs - boundMs;
  if (o.stored.lastTimeUs < sinceMs * 1000)
    return { kind: 'bounded', fromId: last + 1, lastTimeUs: o.stored.lastTimeUs, sinceMs };
  return { kind: 'resume', fromId: last + 1, lastTimeUs: o.stored.lastTimeUs };
}

/** A range of ids that cannot be filled, with the exchange times of the trades either side. */
export interface UnfilledRange {
  fromId: number;
  toId: number;
  fromTimeUs: number;
  toTimeUs: number;
  reason: string;
}

/** Step 2, with the REST probes' answers: where the sequencer starts and what is recorded as lost. */
export type ResumeDecision =
  /** The stored trades cannot be this exchange's history (ids or times went backwards): start afresh. */
  | { kind: 'foreign'; reason: string }
  /** Start the sequencer at `startAt`; `catchUp`: REST's newest trade is past it (offer it to open the catch-up). */
  | { kind: 'resume'; startAt: number; unfilled: UnfilledRange | null; catchUp: boolean };

export interface ResumeProbes {
  exchange: string;
  plan: Exclude<ResumePlan, { kind: 'fresh' }>;
  maxCatchUpMs: number;
  /** Bounded plans: the first id at or after the bound (firstIdSince), or null when REST did not say. */
  boundedFrom: number | null;
  /** REST's newest trade, or null when it has none. */
  newest: IdTime | null;
  /**
   * The first trade REST serves at or after the probe start (max of fromId and boundedFrom), or null when not asked.
   */
  firstServed: IdTime | null;
}

/** The id the REST probe starts from: after the stored trade, or at the bound. */
export function probeFrom(plan: Exclude<ResumePlan, { kind: 'fresh' }>, boundedFrom: number | null): number {
  return plan.kind === 'bounded' && boundedFrom !== null ? Math.max(plan.fromId, boundedFrom) : plan.fromId;
}

export function decideResume(p: ResumeProbes): ResumeDecision {
  const { plan, newest } = p;
  const lastId = plan.fromId - 1;
  if (newest === null) return { kind: 'foreign', reason: `REST has no trades although id ${lastId} is stored` };
  if (newest.id < lastId || newest.timeUs < plan.lastTimeUs) {
    return {
      kind: 'foreign',
      reason: `REST's newest trade (id ${newest.id}, ${isoUs(newest.timeUs)}) is older than the last stored one (id ${lastId}, ${isoUs(plan.lastTimeUs)})`,
    };
  }
  const from = probeFrom(plan, p.boundedFrom);
  if (newest.id < from) return { kind: 'resume', startAt: from, unfilled: null, catchUp: false };
  const first = p.firstServed ?? newest;
  if (first.timeUs < plan.lastTimeUs) {
    return {
      kind: 'foreign',
      reason: `REST's trade ${first.id} (${isoUs(first.timeUs)}) is older than the last stored trade ${lastId} (${isoUs(plan.lastTimeUs)})`,
    };
  }
  if (first.id <= plan.fromId)
    return { kind: 'resume', startAt: plan.fromId, unfilled: null, catchUp: newest.id >= plan.fromId };
  const reasons: string[] = [];
  if (plan.kind === 'bounded' && p.boundedFrom !== null && p.boundedFrom > plan.fromId) {
    reasons.push(
      `more than ${hours(p.maxCatchUpMs)} behind: older trades are not fetched (COLLECTOR_RESUME_MAX_HOURS)`,
    );
  }
  if (first.id > from) reasons.push(`${p.exchange}'s REST history does not reach back before id ${first.id}`);
  return {
    kind: 'resume',
    startAt: first.id,
    unfilled: {
      fromId: plan.fromId,
      toId: first.id - 1,
      fromTimeUs: plan.lastTimeUs,
      toTimeUs: first.timeUs,
      reason: `resume after id ${lastId}: ${reasons.join('; ')}`,
    },
    catchUp: newest.id >= first.id,
  };
}

/**
 * Bybit: REST serves only the newest trades, so a resume (or a reconnect) fills what that window
 * still holds and records the rest. `recent` is REST's window, oldest first; `sinceUs` the exchange
 * time of the last trade kept; `seen` tells the ids already kept. Returns the trades to publish, in
 * order, and `holeBefore`: the window's oldest trade when the window does not reach back to the
 * last trade kept (trades between the two were missed; how many is unknown).
 */
export function bybitRecovery<T extends { id: string; exchangeTimeUs: number }>(
  recent: readonly T[],
  sinceUs: number | null,
  seen: (id: string) => boolean,
): { publish: T[]; holeBefore: T | null } {
  const oldest = recent[0];
  // The window reaches back when it starts before the last trade kept or holds a kept trade of its time.
  const reaches =
    sinceUs === null ||
    oldest === undefined ||
    oldest.exchangeTimeUs < sinceUs ||
    recent.some((t) => t.exchangeTimeUs === sinceUs && seen(t.id));
  const publish: T[] = [];
  for (const t of recent) {
    if (sinceUs !== null && t.exchangeTimeUs < sinceUs) continue;
    if (!seen(t.id)) publish.push(t);
  }
  return { publish, holeBefore: reaches ? null : oldest! };
}

// ---- progress -----------------------------------------------------------------------------

export type CatchUpReason = 'resume' | 'gap';

/** A catch-up's state, as /status and the log show it. */
export interface CatchUpStatus {
  /** 'resume': the trades missed while the collector was stopped; 'gap': an id gap in the live stream. */
  reason: CatchUpReason;
  active: boolean;
  /** First id of the catch-up, the last id it must reach, and the next id wanted. */
  fromId: string;
  toId: string;
  nextId: string;
  /** Trades published from REST so far, and ids still to fetch. */
  done: number;
  remaining: number;
  /** Exchange time still to cover: from the last trade published to the trade the catch-up ends at. */
  behindSeconds: number | null;
  /** Trades per second over the last ~10 s (the whole run once finished). */
  ratePerSecond: number;
  etaSeconds: number | null;
  startedAtMs: number;
  finishedAtMs: number | null;
  elapsedSeconds: number;
}

const RATE_WINDOW_MS = 10_000;

/** Progress of one symbol's catch-up; time is passed in (testable), nothing is read from clocks. */
export class CatchUpProgress {
  private done = 0;
  private nextId: number;
  private lastTimeUs: number | null;
  private finishedAtMs: number | null = null;
  private readonly samples: { atMs: number; done: number }[];
  /** When the log last showed it (the feed's timer sets it). */
  loggedAtMs = 0;

  constructor(
    readonly reason: CatchUpReason,
    readonly fromId: number,
    private toId: number,
    private toTimeUs: number | null,
    lastTimeUs: number | null,
    readonly startedAtMs: number,
  ) {
    this.nextId = fromId;
    this.lastTimeUs = lastTimeUs;
    this.samples = [{ atMs: startedAtMs, done: 0 }];
  }

  get active(): boolean {
    return this.finishedAtMs === null;
  }

  /** The catch-up grew: a later gap joins it (its last id and the time of the trade after it). */
  extend(toId: number, toTimeUs: number | null): void {
    if (toId > this.toId) {
      this.toId = toId;
      if (toTimeUs !== null) this.toTimeUs = toTimeUs;
    }
  }

  /** `published` trades more from REST; `nextId`: the next id wanted; `lastTimeUs`: the last one's exchange time. */
  advance(published: number, nextId: number | null, lastTimeUs: number | null, nowMs: number): void {
    this.done += published;
    if (nextId !== null) this.nextId = Math.max(this.nextId, nextId);
    if (lastTimeUs !== null) this.lastTimeUs = lastTimeUs;
    this.samples.push({ atMs: nowMs, done: this.done });
    while (this.samples.length > 2 && this.samples[1]!.atMs <= nowMs - RATE_WINDOW_MS) this.samples.shift();
  }

  finish(nowMs: number): void {
    if (this.finishedAtMs === null) this.finishedAtMs = nowMs;
  }

  status(nowMs: number): CatchUpStatus {
    const end = this.finishedAtMs ?? nowMs;
    const elapsedMs = Math.max(0, end - this.startedAtMs);
    let rate: number;
    if (this.finishedAtMs !== null) rate = elapsedMs > 0 ? (this.done * 1000) / elapsedMs : 0;
    else {
      const first = this.samples[0]!;
      const span = nowMs - first.atMs;
      rate = span > 0 ? ((this.done - first.done) * 1000) / span : 0;
    }
    const remaining = this.finishedAtMs === null ? Math.max(0, this.toId - this.nextId + 1) : 0;
    const behindUs =
      this.finishedAtMs === null && this.toTimeUs !== null && this.lastTimeUs !== null
        ? Math.max(0, this.toTimeUs - this.lastTimeUs)
        : null;
    return {
      reason: this.reason,
      active: this.finishedAtMs === null,
      fromId: String(this.fromId),
      toId: String(this.toId),
      nextId: String(this.nextId),
      done: this.done,
      remaining,
      behindSeconds: behindUs === null ? null : Math.round(behindUs / 1000) / 1000,
      ratePerSecond: Math.round(rate),
      etaSeconds: this.finishedAtMs !== null ? 0 : rate > 0 ? Math.ceil(remaining / rate) : null,
      startedAtMs: this.startedAtMs,
      finishedAtMs: this.finishedAtMs,
      elapsedSeconds: Math.round(elapsedMs / 100) / 10,
    };
  }
}

/** One log line for a catch-up under way or just finished. */
export function describeCatchUp(exchange: string, symbol: string, s: CatchUpStatus): string {
  const what = s.reason === 'resume' ? 'resume catch-up' : 'gap backfill';
  if (!s.active)
    return `${exchange} ${symbol}: ${what} ${s.fromId}..${s.toId} done: ${s.done} trades from REST in ${s.elapsedSeconds} s (${s.ratePerSecond} trades/s)`;
  const total = s.done + s.remaining;
  const pct = total > 0 ? Math.floor((s.done * 100) / total) : 100;
  const behind = s.behindSeconds === null ? '' : `, ${formatDuration(s.behindSeconds)} of exchange time behind`;
  const eta = s.etaSeconds === null ? 'ETA unknown' : `ETA ${formatDuration(s.etaSeconds)}`;
  return `${exchange} ${symbol}: ${what} ${s.fromId}..${s.toId} at ${s.nextId}: ${s.done} of ${total} trades (${pct}%), ${s.remaining} ids to go${behind}, ${s.ratePerSecond} trades/s, ${eta}`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

function hours(ms: number): string {
  const h = ms / 3_600_000;
  return Number.isInteger(h) ? `${h} h` : `${Math.round(ms / 60_000)} min`;
}

function isoUs(us: number): string {
  const d = new Date(Math.floor(us / 1000));
  return Number.isNaN(d.getTime()) ? String(us) : d.toISOString();
}
