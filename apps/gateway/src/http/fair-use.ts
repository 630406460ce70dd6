import { RateLimiter } from '@orderflow/resilience';
import type { HttpLimits } from '../config/gateway.config.js';

/**
 * Fair use of the HTTP API (pure; time passed in). Every /api request of a client (its address, see
 * GATEWAY_TRUST_PROXY) must pass three checks before it runs, in this order, so that a refused
 * request costs nothing:
 *
 * - `too-many-concurrent`: the client already has `maxConcurrentPerClient` requests in flight;
 * - `gateway-busy`: the process already runs `maxConcurrent` requests of all clients together, each
 *   of which may hold a ClickHouse query, whose slots the aggregators' inserts share;
 * - `rate-limited`: the client started more than `ratePerMinute` requests a minute (a bucket of
 *   `burst` requests refilled continuously).
 *
 * A refusal says when to retry (HTTP 429 with Retry-After): when the client's next token is back
 * for the rate, in a second for the concurrency limits (requests of this API take tens of
 * milliseconds to seconds).
 */
export type FairUseCode = 'rate-limited' | 'too-many-concurrent' | 'gateway-busy';

export interface FairUseRefusal {
  code: FairUseCode;
  retryAfterSeconds: number;
  message: string;
}

export type Admission = { ok: true; release: () => void } | { ok: false; refusal: FairUseRefusal };

interface ClientState {
  bucket: RateLimiter;
  inFlight: number;
}

/** How often quiet clients (nothing in flight, a full bucket) are forgotten. */
const SWEEP_MS = 10_000;

export class FairUse {
  private readonly clients = new Map<string, ClientState>();
  private lastSweep: number;
  /** Requests in flight, all clients. */
  inFlight = 0;

  constructor(
    private readonly limits: HttpLimits,
    nowMs: number,
    /** Clients tracked at most; beyond it new clients share one state (an address flood cannot grow the map). */
    private readonly maxClients = 100_000,
  ) {
    this.lastSweep = nowMs;
  }

  get trackedClients(): number {
    return this.clients.size;
  }

  admit(client: string, nowMs: number): Admission {
    const l = this.limits;
    const c = this.stateOf(client, nowMs);
    if (c.inFlight >= l.maxConcurrentPerClient) {
      return refuse(
        'too-many-concurrent',
        1,
        `at most ${l.maxConcurrentPerClient} requests of one client at a time (GATEWAY_HTTP_MAX_CONCURRENT_PER_CLIENT): wait for one to finish`,
      );
    }
    if (this.inFlight >= l.maxConcurrent) {
      return refuse(
        'gateway-busy',
        1,
        `the gateway is serving ${l.maxConcurrent} requests (GATEWAY_HTTP_MAX_CONCURRENT): retry shortly`,
      );
    }
    if (!c.bucket.tryTake(nowMs)) {
      const wait = Math.max(1, Math.ceil(c.bucket.msUntilNext(nowMs) / 1000));
      return refuse(
        'rate-limited',
        wait,
        `more than ${l.ratePerMinute} requests a minute (bursts of ${l.burst}) from one client (GATEWAY_HTTP_RATE_PER_MINUTE): retry after ${wait} s`,
      );
    }
    c.inFlight++;
    this.inFlight++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        c.inFlight--;
        this.inFlight--;
      },
    };
  }

  private stateOf(client: string, nowMs: number): ClientState {
    let c = this.clients.get(client);
    if (c) return c;
    if (nowMs - this.lastSweep >= SWEEP_MS || this.clients.size >= this.maxClients) this.sweep(nowMs);
    const key = this.clients.size >= this.maxClients ? '(overflow)' : client;
    c = this.clients.get(key);
    if (!c) {
      c = { bucket: new RateLimiter(this.limits.ratePerMinute / 60, nowMs, this.limits.burst), inFlight: 0 };
      this.clients.set(key, c);
    }
    return c;
  }

  /** Forgets clients that have nothing in flight and a full bucket: a new state for them is the same. */
  private sweep(nowMs: number): void {
    this.lastSweep = nowMs;
    for (const [k, c] of this.clients) if (c.inFlight === 0 && c.bucket.isFull(nowMs)) this.clients.delete(k);
  }
}

function refuse(code: FairUseCode, retryAfterSeconds: number, message: string): Admission {
  return { ok: false, refusal: { code, retryAfterSeconds, message } };
}
