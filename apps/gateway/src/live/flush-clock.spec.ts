import { afterEach, describe, expect, it, vi } from 'vitest';
import { FlushClock } from './flush-clock.js';

describe('FlushClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('flushes every marked connection in one pass, at most once per interval, each once per pass', () => {
    vi.useFakeTimers();
    let now = 1_000_000;
    const clock = new FlushClock(50, () => now);
    const flushed: string[] = [];
    const a = { flush: () => flushed.push('a'), failed: () => undefined };
    const b = { flush: () => flushed.push('b'), failed: () => undefined };
    // idle: the first mark goes out on the next turn of the loop
    clock.mark(a);
    clock.mark(b);
    clock.mark(a);
    expect(flushed).toEqual([]);
    vi.runOnlyPendingTimers();
    expect(flushed).toEqual(['a', 'b']);
    expect(clock.passes).toBe(1);
    // within the interval: waits for its end
    now += 10;
    clock.mark(b);
    vi.advanceTimersByTime(39);
    expect(flushed).toEqual(['a', 'b']);
    now += 40;
    vi.advanceTimersByTime(1);
    expect(flushed).toEqual(['a', 'b', 'b']);
    expect(clock.passes).toBe(2);
  });

  it('a connection forgotten before the pass is not flushed; a stopped clock flushes nothing', () => {
    vi.useFakeTimers();
    const clock = new FlushClock(0);
    const flushed: string[] = [];
    const a = { flush: () => flushed.push('a'), failed: () => undefined };
    const b = { flush: () => flushed.push('b'), failed: () => undefined };
    clock.mark(a);
    clock.mark(b);
    clock.forget(a);
    vi.runOnlyPendingTimers();
    expect(flushed).toEqual(['b']);
    clock.mark(a);
    clock.stop();
    vi.runOnlyPendingTimers();
    clock.mark(b);
    vi.runOnlyPendingTimers();
    expect(flushed).toEqual(['b']);
    expect(clock.waiting).toBe(0);
  });

  it('a connection marked while a pass runs goes out in the next pass', () => {
    vi.useFakeTimers();
    const clock = new FlushClock(0);
    const flushed: string[] = [];
    const b = { flush: () => flushed.push('b'), failed: () => undefined };
    const a = {
      flush: () => {
        flushed.push('a');
        clock.mark(b);
      },
      failed: () => undefined,
    };
    clock.mark(a);
    vi.runOnlyPendingTimers();
    expect(flushed).toEqual(['a']);
    vi.runOnlyPendingTimers();
    expect(flushed).toEqual(['a', 'b']);
  });

  it('a connection whose flush throws is told so, and the others of the pass still go out', () => {
    vi.useFakeTimers();
    const clock = new FlushClock(0);
    const flushed: string[] = [];
    const failures: string[] = [];
    const bad = {
      flush: () => {
        throw new Error('socket gone');
      },
      failed: (e: unknown) => failures.push((e as Error).message),
    };
    const good = { flush: () => flushed.push('good'), failed: () => undefined };
    clock.mark(bad);
    clock.mark(good);
    expect(() => vi.runOnlyPendingTimers()).not.toThrow();
    expect(failures).toEqual(['socket gone']);
    expect(flushed).toEqual(['good']);
  });
});
