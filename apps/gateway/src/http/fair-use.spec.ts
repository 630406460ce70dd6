import { describe, expect, it } from 'vitest';
import type { HttpLimits } from '../config/gateway.config.js';
import { type Admission, FairUse } from './fair-use.js';

const LIMITS: HttpLimits = { maxConcurrentPerClient: 2, ratePerMinute: 60, burst: 3, maxConcurrent: 4 };

function admitted(a: Admission): () => void {
  if (!a.ok) throw new Error(`refused: ${a.refusal.code}`);
  return a.release;
}

describe('FairUse (HTTP API limits, fake clock)', () => {
  it('refuses a client over its concurrency until one of its requests ends; other clients are served', () => {
    const f = new FairUse(LIMITS, 0);
    const r1 = admitted(f.admit('a', 0));
    admitted(f.admit('a', 0));
    const third = f.admit('a', 0);
    expect(third).toMatchObject({ ok: false, refusal: { code: 'too-many-concurrent', retryAfterSeconds: 1 } });
    admitted(f.admit('b', 0));
    r1();
    r1(); // a second release of the same request changes nothing
    admitted(f.admit('a', 0));
    expect(f.admit('a', 0)).toMatchObject({ ok: false, refusal: { code: 'too-many-concurrent' } });
  });

  it('refuses a burst beyond `burst`, then admits one request per 60/ratePerMinute seconds, Retry-After to the next token', () => {
    const f = new FairUse({ ...LIMITS, maxConcurrentPerClient: 100, maxConcurrent: 100 }, 0);
    for (let i = 0; i < 3; i++) admitted(f.admit('a', 0))();
    // 60 a minute = one a second: the next token is 1 s away
    expect(f.admit('a', 0)).toMatchObject({ ok: false, refusal: { code: 'rate-limited', retryAfterSeconds: 1 } });
    expect(f.admit('a', 999)).toMatchObject({ ok: false, refusal: { code: 'rate-limited' } });
    admitted(f.admit('a', 1000))();
    expect(f.admit('a', 1000).ok).toBe(false);
    // a quiet client gets its burst back, never more
    for (let i = 0; i < 3; i++) admitted(f.admit('a', 60_000))();
    expect(f.admit('a', 60_000).ok).toBe(false);
    // another client has a bucket of its own
    admitted(f.admit('b', 1000));
  });

  it('Retry-After is the whole seconds until the next token at a slow rate', () => {
    const f = new FairUse({ maxConcurrentPerClient: 10, ratePerMinute: 6, burst: 1, maxConcurrent: 10 }, 0);
    admitted(f.admit('a', 0))();
    // 6 a minute: a token every 10 s
    expect(f.admit('a', 2500)).toMatchObject({ ok: false, refusal: { code: 'rate-limited', retryAfterSeconds: 8 } });
    expect(f.admit('a', 10_000).ok).toBe(true);
  });

  it('caps the requests of all clients together (gateway-busy), and a refusal costs no token', () => {
    const f = new FairUse({ maxConcurrentPerClient: 1, ratePerMinute: 60, burst: 1, maxConcurrent: 2 }, 0);
    const ra = admitted(f.admit('a', 0));
    admitted(f.admit('b', 0));
    expect(f.inFlight).toBe(2);
    expect(f.admit('c', 0)).toMatchObject({ ok: false, refusal: { code: 'gateway-busy', retryAfterSeconds: 1 } });
    ra();
    // c was refused before its bucket was touched: its one token is still there
    admitted(f.admit('c', 0));
    expect(f.inFlight).toBe(2);
  });

  it('forgets quiet clients and bounds the clients it tracks', () => {
    const f = new FairUse(LIMITS, 0, 3);
    for (const c of ['a', 'b', 'c']) admitted(f.admit(c, 0))();
    expect(f.trackedClients).toBe(3);
    // at the bound, clients with full buckets and nothing in flight are dropped first (none yet: buckets not full)
    admitted(f.admit('d', 0));
    expect(f.trackedClients).toBe(4); // a, b, c kept (not full) + the shared overflow state
    // 10 s later every bucket is full again: a new client sweeps them away
    admitted(f.admit('e', 10_000));
    expect(f.trackedClients).toBeLessThanOrEqual(2);
  });
});
