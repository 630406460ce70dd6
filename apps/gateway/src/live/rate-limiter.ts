/**
 * Messages a connection may send (pure; time passed in): a bucket of `perSecond` tokens refilled
 * continuously. Unlike the feeds' TokenBucket (which paces our own REST calls by going into debt),
 * a message over the limit is refused and costs nothing, so a client that slows down is served
 * again within a second.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  refused = 0;

  constructor(
    private readonly perSecond: number,
    nowMs: number,
  ) {
    if (!(perSecond > 0)) throw new Error('rate limit must be positive');
    this.tokens = perSecond;
    this.last = nowMs;
  }

  tryTake(nowMs: number): boolean {
    if (nowMs > this.last) {
      this.tokens = Math.min(this.perSecond, this.tokens + ((nowMs - this.last) / 1000) * this.perSecond);
      this.last = nowMs;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.refused++;
    return false;
  }
}
