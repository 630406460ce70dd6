/**
 * Keeps one symbol's trades in exchange id order across gaps, for feeds whose trade ids are
 * contiguous integers (Binance aggregate ids `a`; OKX trade ids). Pure state machine: the feed
 * does the I/O (WebSocket, REST) and tells it what arrived; it answers what to publish and which
 * ids are missing.
 *
 *   live trade  -> offer(t):     publish now, drop as already seen, or queue behind a gap
 *   REST page   -> backfilled(): publish what fills the gap, then the queue once it is closed
 *   REST failed -> giveUp():     record the hole as unfilled and go on with the queue
 */
export interface Sequenced {
  /** Contiguous integer id as a number (safe integer). */
  readonly seq: number;
}

export interface Gap {
  from: number;
  to: number;
}

export interface SequencerResult<T> {
  publish: T[];
  /** Set when this call found a new gap (the feed starts a backfill from gap.from). */
  gap?: Gap;
  duplicates: number;
}

export class IdSequencer<T extends Sequenced> {
  private next: number | null;
  private queue: T[] = [];
  private gapTo = -1;

  /** @param startAt the first id expected (from a startup backfill), or null to start at the first trade seen. */
  constructor(
    startAt: number | null = null,
    private readonly maxQueued = 1_000_000,
  ) {
    this.next = startAt;
  }

  /** Next id expected, or null before the first trade. */
  get nextId(): number | null {
    return this.next;
  }

  /** True while a gap is open (live trades are queued until it is filled or given up). */
  get filling(): boolean {
    return this.gapTo >= 0;
  }

  /** The gap being filled: from nextId to the last missing id. */
  get openGap(): Gap | null {
    return this.gapTo >= 0 && this.next !== null ? { from: this.next, to: this.gapTo } : null;
  }

  get queued(): number {
    return this.queue.length;
  }

  offer(t: T): SequencerResult<T> {
    const next = this.next;
    if (next === null) {
      this.next = t.seq + 1;
      return { publish: [t], duplicates: 0 };
    }
    if (t.seq < next) return { publish: [], duplicates: 1 };
    if (this.gapTo >= 0) {
      this.enqueue(t);
      return { publish: [], duplicates: 0 };
    }
    if (t.seq === next) {
      this.next = next + 1;
      return { publish: [t], duplicates: 0 };
    }
    this.gapTo = t.seq - 1;
    this.enqueue(t);
    return { publish: [], gap: { from: next, to: t.seq - 1 }, duplicates: 0 };
  }

  /**
   * Trades fetched from REST for the open gap, ascending by id (a page may reach past the gap).
   * Returns what to publish; `filled` once no gap is open any more.
   */
  backfilled(page: readonly T[]): SequencerResult<T> & { filled: boolean } {
    const out: T[] = [];
    let duplicates = 0;
    for (const t of page) {
      if (this.next === null || t.seq === this.next) {
        out.push(t);
        this.next = t.seq + 1;
      } else if (t.seq < this.next) duplicates++;
      else break; // REST itself skipped ids: the rest of the page is not contiguous, ask again from next
    }
    const drained = this.drain();
    duplicates += drained.duplicates;
    out.push(...drained.publish);
    return { publish: out, duplicates, filled: this.gapTo < 0, ...(drained.gap ? { gap: drained.gap } : {}) };
  }

  /** REST cannot deliver the open gap: skip it (the caller records it as unfilled) and drain the queue. */
  giveUp(): SequencerResult<T> & { skipped: Gap | null } {
    const skipped = this.openGap;
    if (skipped === null) return { publish: [], duplicates: 0, skipped: null };
    this.next = skipped.to + 1;
    const drained = this.drain();
    return { ...drained, skipped };
  }

  /** Publishes queued trades that are now contiguous; opens the next gap if the queue has one. */
  private drain(): SequencerResult<T> {
    const out: T[] = [];
    let duplicates = 0;
    let i = 0;
    for (; i < this.queue.length; i++) {
      const t = this.queue[i]!;
      if (t.seq < this.next!) duplicates++;
      else if (t.seq === this.next) {
        out.push(t);
        this.next = t.seq + 1;
      } else break;
    }
    this.queue = i === 0 ? this.queue : this.queue.slice(i);
    if (this.queue.length === 0) {
      this.gapTo = -1;
      return { publish: out, duplicates };
    }
    // Still a hole before the first queued trade (the old one, or a new one in the queue).
    const to = this.queue[0]!.seq - 1;
    const isNew = to !== this.gapTo;
    this.gapTo = to;
    return { publish: out, duplicates, ...(isNew ? { gap: { from: this.next!, to } } : {}) };
  }

  private enqueue(t: T): void {
    if (this.queue.length >= this.maxQueued) {
      throw new Error(
        `more than ${this.maxQueued} live trades queued behind a gap from id ${this.next}: the backfill is not keeping up`,
      );
    }
    const last = this.queue[this.queue.length - 1];
    if (last === undefined || t.seq > last.seq) this.queue.push(t);
    else if (t.seq !== last.seq) {
      // Out of order within the queue (rare: overlapping connections): insert in place, once.
      const at = this.queue.findIndex((q) => q.seq >= t.seq);
      if (this.queue[at]!.seq !== t.seq) this.queue.splice(at, 0, t);
    }
  }
}
