/**
 * A bucket of `capacity` tokens refilled continuously at `perSecond` (pure; time passed in). Used
 * for the messages of a live connection (capacity = one second's worth) and the HTTP API's
 * requests per client (the gateway's http/fair-use.ts). Unlike the feeds' TokenBucket (which paces our own REST
 * calls by going into debt), a request over the limit is refused and costs nothing, so a client
 * that slows down is served again as soon as a token is back.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  refused = 0;

  constructor(
    private readonly perSecond: number,
    nowMs: number,
    private readonly capacity: number = perSecond,
  ) {
    if (!(perSecond > 0)) throw new Error('rate limit must be positive');
    if (!(capacity >= 1)) throw new Error('rate limit capacity must be at least 1');
    this.tokens = capacity;
    this.last = nowMs;
  }

  private refill(nowMs: number): void {
    if (nowMs > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + ((nowMs - this.last) / 1000) * this.perSecond);
      this.last = nowMs;
    }
  }

  tryTake(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.refused++;
    return false;
  }

  /** Milliseconds until a token is back (0: one is there now). */
  msUntilNext(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }

  /** Whether the bucket is full at `nowMs` (a client that has been quiet: its state can be dropped). */
  isFull(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= this.capacity;
  }
}
