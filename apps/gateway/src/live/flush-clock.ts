/** What the clock flushes: a connection with updates waiting. */
export interface Flushable {
  flush(): void;
  /** flush() threw: the connection is closed and says why. */
  failed(e: unknown): void;
}

/**
 * One flush pass for every connection with something waiting, at most once per interval
 * (GATEWAY_CONFLATION_MS), instead of a timer per connection.
 *
 * Why: the connections that follow a view then take their waiting changes at the same moment, so
 * they hold the same run of changes for a candle and the update's shared part is encoded once for
 * all of them (see ClientSession.flush); with a timer each, their runs drift apart and every
 * connection encodes its own. A pass also costs one timer instead of one per connection.
 *
 * A change that arrives when no pass ran for an interval goes out at once (setImmediate); the
 * next waits for the interval to end, as a connection's own conflation did.
 */
export class FlushClock {
  private readonly dirty = new Set<Flushable>();
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private lastPassAt = -Infinity;
  private stopped = false;
  /** Passes run and connections flushed (for tests and metrics). */
  passes = 0;
  flushed = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** `s` has something waiting: it is flushed in the next pass. */
  mark(s: Flushable): void {
    if (this.stopped) return;
    this.dirty.add(s);
    this.arm();
  }

  /** `s` is gone (closed): it is not flushed. */
  forget(s: Flushable): void {
    this.dirty.delete(s);
  }

  get waiting(): number {
    return this.dirty.size;
  }

  stop(): void {
    this.stopped = true;
    this.dirty.clear();
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = this.immediate = null;
  }

  private arm(): void {
    if (this.timer !== null || this.immediate !== null || this.dirty.size === 0) return;
    const delay = this.lastPassAt + this.intervalMs - this.now();
    if (delay <= 0) this.immediate = setImmediate(() => this.pass());
    else this.timer = setTimeout(() => this.pass(), delay);
  }

  /** Flushes every connection marked so far (one marked during the pass waits for the next). */
  pass(): void {
    this.timer = null;
    this.immediate = null;
    this.lastPassAt = this.now();
    this.passes++;
    const list = [...this.dirty];
    this.dirty.clear();
    for (const s of list) {
      this.flushed++;
      try {
        s.flush();
      } catch (e) {
        // one connection's failure neither skips the others nor escapes the timer
        s.failed(e);
      }
    }
    this.arm();
  }
}
