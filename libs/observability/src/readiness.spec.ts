import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DependencyProbe } from './readiness.js';

function recorder() {
  const lines: { level: string; message: string; fields: unknown }[] = [];
  const rec = (level: string) => (message: string, fields?: unknown) => void lines.push({ level, message, fields });
  return { lines, logger: { log: rec('log'), warn: rec('warn'), error: rec('error') } };
}

describe('DependencyProbe', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('is down until the first answer, then up; a check that hangs turns it down after timeoutMs, and it is up again at the next answer', async () => {
    let mode: 'answer' | 'hang' = 'answer';
    const signals: AbortSignal[] = [];
    const check = vi.fn((signal: AbortSignal) => {
      signals.push(signal);
      if (mode === 'answer') return Promise.resolve();
      // a hung server: nothing until the probe aborts the request
      return new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    });
    const r = recorder();
    const p = new DependencyProbe('ClickHouse http://x', check, {
      intervalMs: 1000,
      timeoutMs: 2000,
      logger: r.logger,
      fields: { shard: 0 },
    });
    expect(p.ok).toBe(false);
    expect(p.problem).toBe('ClickHouse http://x: not checked yet');
    p.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(p.ok).toBe(true);
    expect(r.lines).toEqual([]);

    mode = 'hang';
    await vi.advanceTimersByTimeAsync(1000); // the check at 1 s hangs
    expect(p.ok).toBe(true);
    await vi.advanceTimersByTimeAsync(1999);
    expect(p.ok).toBe(true);
    await vi.advanceTimersByTimeAsync(1); // 2 s after it started
    expect(p.ok).toBe(false);
    expect(p.problem).toBe('ClickHouse http://x: no answer within 2000 ms');
    expect(signals.at(-1)!.aborted).toBe(true);
    expect(r.lines).toEqual([
      {
        level: 'warn',
        message: 'ClickHouse http://x does not answer (no answer within 2000 ms): not ready',
        fields: { shard: 0, dependency: 'ClickHouse http://x' },
      },
    ]);

    await vi.advanceTimersByTimeAsync(5000);
    expect(p.ok).toBe(false);
    mode = 'answer';
    await vi.advanceTimersByTimeAsync(3000);
    expect(p.ok).toBe(true);
    expect(r.lines[1]).toMatchObject({
      level: 'log',
      message: expect.stringMatching(/^ClickHouse http:\/\/x answers again after \d+\.\d s$/),
    });
    expect(p.counts.ok).toBeGreaterThan(1);
    expect(p.counts.failed).toBeGreaterThan(1);
    p.stop();
  });

  it('shows a classified reason and the endpoint, never the error text or a URL; the log has the detail', async () => {
    const r = recorder();
    const err = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:8123 (http://orderflow:s3cret@ch:8123)'), {
      code: 'ECONNREFUSED',
    });
    const p = new DependencyProbe('ClickHouse', () => Promise.reject(err), { logger: r.logger, endpoint: 'ch:8123' });
    p.tick();
    await vi.advanceTimersByTimeAsync(0);
    expect(p.problem).toBe('ClickHouse: connection refused');
    expect(p.status()).toMatchObject({ ok: false, endpoint: 'ch:8123', problem: 'ClickHouse: connection refused' });
    expect(JSON.stringify(p.status())).not.toMatch(/s3cret|ECONNREFUSED|10\.1\.2\.3/);
    expect(r.lines).toEqual([
      {
        level: 'warn',
        message: 'ClickHouse does not answer (connection refused): not ready',
        fields: { dependency: 'ClickHouse', error: 'connect ECONNREFUSED 10.1.2.3:8123 (http://[redacted]@ch:8123)' },
      },
    ]);
    p.stop();
  });

  it('a failing check reports its error; one that throws synchronously too', async () => {
    const p = new DependencyProbe('NATS', () => Promise.reject(new Error('connection closed')));
    p.tick();
    await vi.advanceTimersByTimeAsync(0);
    expect(p.problem).toBe('NATS: connection closed');
    const q = new DependencyProbe('NATS', () => {
      throw new Error('no connection');
    });
    q.tick();
    await vi.advanceTimersByTimeAsync(0);
    expect(q.problem).toBe('NATS: no connection');
  });

  it('starts no second check while one is pending, and ignores an answer that comes after the timeout', async () => {
    let release: () => void = () => undefined;
    let calls = 0;
    const p = new DependencyProbe(
      'NATS',
      () => {
        calls++;
        // cannot be cancelled (a NATS flush waits for its pong)
        return new Promise<void>((r) => (release = r));
      },
      { intervalMs: 1000, timeoutMs: 2000 },
    );
    p.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(1);
    expect(p.ok).toBe(false);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(p.ok).toBe(false); // late: does not count
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(2);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(p.ok).toBe(true);
    p.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(2);
  });
});
