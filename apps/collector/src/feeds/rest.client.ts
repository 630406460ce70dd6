import { Backoff, TokenBucket } from '@orderflow/resilience';
import type { FeedLogger } from './feed.types.js';

export class RestError extends Error {
  override readonly name = 'RestError';
  constructor(
    message: string,
    readonly status: number | null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface RestClientOptions {
  baseUrl: string;
  /** Request weight the exchange allows per minute; we spend at most half of it. */
  weightPerMinute: number;
  /** Unspent weight saved up for a burst, in seconds of that rate (default 10; OKX counts per 2 s: 1). */
  burstSeconds?: number;
  timeoutMs?: number;
  /** Attempts per request before giving up (429, 418, 5xx and network errors are retried). */
  attempts?: number;
  logger: FeedLogger;
  onRequest?: () => void;
}

/**
 * GET requests to an exchange's REST API, paced by a token bucket under its weight limit and
 * retried with the shared backoff. Honours Retry-After on 429/418 (Binance bans IPs that ignore it).
 */
export class RestClient {
  private readonly bucket: TokenBucket;
  private readonly timeoutMs: number;
  private readonly attempts: number;

  constructor(private readonly o: RestClientOptions) {
    const perMinute = o.weightPerMinute / 2;
    this.bucket = new TokenBucket(Math.max(1, (perMinute / 60) * (o.burstSeconds ?? 10)), perMinute / 60, Date.now());
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.attempts = o.attempts ?? 6;
  }

  async getText(path: string, weight = 1): Promise<string> {
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      const wait = this.bucket.take(weight, Date.now());
      if (wait > 0) await sleep(wait);
      this.o.onRequest?.();
      const url = this.o.baseUrl + path;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
        const body = await res.text();
        if (res.ok) return body;
        const retryAfter = Number(res.headers.get('retry-after'));
        lastError = new RestError(`GET ${url} answered ${res.status}: ${body.slice(0, 200)}`, res.status);
        if (res.status === 429 || res.status === 418 || res.status >= 500) {
          const delay = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : backoff.next();
          this.o.logger.warn(
            `${(lastError as Error).message}; retrying in ${delay} ms (attempt ${attempt}/${this.attempts})`,
          );
          await sleep(delay);
          continue;
        }
        throw lastError;
      } catch (e) {
        if (e instanceof RestError && e.status !== null && e.status < 500 && e.status !== 429 && e.status !== 418)
          throw e;
        lastError = e;
        const delay = backoff.next();
        this.o.logger.warn(
          `GET ${url} failed: ${(e as Error).message}; retrying in ${delay} ms (attempt ${attempt}/${this.attempts})`,
        );
        await sleep(delay);
      }
    }
    throw new RestError(`GET ${path} failed after ${this.attempts} attempts: ${(lastError as Error)?.message}`, null, {
      cause: lastError,
    });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
