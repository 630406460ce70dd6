/**
 * The one reconnect policy every feed shares: exponential backoff with jitter. Defaults: 1 s
 * growing 1.6x per failed attempt to a 2 min cap, each delay spread by plus or minus 20 % so that
 * many collectors reconnecting after an exchange outage do not arrive in lockstep.
 * Pure: the random source is injected (tests pass a fixed one).
 */
export interface BackoffOptions {
  initialMs?: number;
  factor?: number;
  maxMs?: number;
  /** Fraction of the delay to spread either way (0.2 = plus or minus 20 %). */
  jitter?: number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly factor: number;
  private readonly maxMs: number;
  private readonly jitter: number;

  constructor(
    options: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.initialMs = options.initialMs ?? 1000;
    this.factor = options.factor ?? 1.6;
    this.maxMs = options.maxMs ?? 120_000;
    this.jitter = options.jitter ?? 0.2;
    if (
      !(this.initialMs > 0) ||
      !(this.factor >= 1) ||
      !(this.maxMs >= this.initialMs) ||
      !(this.jitter >= 0 && this.jitter < 1)
    ) {
      throw new Error(`invalid backoff options ${JSON.stringify(options)}`);
    }
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    return this.delayAfter(++this.attempt);
  }

  /**
   * The delay after `failures` failures in a row (1 = the first), counting none: for a caller that
   * keeps the count itself, such as a publisher retrying each message on its own.
   */
  delayAfter(failures: number): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** Math.max(0, failures - 1));
    const spread = base * this.jitter * (2 * this.random() - 1);
    return Math.round(Math.min(this.maxMs * (1 + this.jitter), Math.max(0, base + spread)));
  }

  /** After a success (connected and receiving): start again from the initial delay. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
