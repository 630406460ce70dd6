/**
 * Paces REST requests within an exchange's rate limit: `capacity` units, refilled at
 * `perSecond` units a second. take(cost) says how long to wait before spending `cost`.
 * Pure: time is passed in.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    nowMs: number,
  ) {
    if (!(capacity > 0) || !(perSecond > 0)) throw new Error('token bucket needs a positive capacity and rate');
    this.tokens = capacity;
    this.last = nowMs;
  }

  /** Spends `cost` units (going into debt if needed) and returns the milliseconds to wait first. */
  take(cost: number, nowMs: number): number {
    this.tokens = Math.min(this.capacity, this.tokens + ((nowMs - this.last) / 1000) * this.perSecond);
    this.last = nowMs;
    this.tokens -= cost;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.perSecond) * 1000);
  }
}
