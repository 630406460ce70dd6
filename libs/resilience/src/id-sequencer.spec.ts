import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdSequencer } from './id-sequencer.js';

const t = (seq: number) => ({ seq });
const ids = (ts: { seq: number }[]) => ts.map((x) => x.seq);

describe('IdSequencer (hand-worked)', () => {
  it('publishes contiguous trades, drops repeats, queues behind a gap and fills it from REST', () => {
    const s = new IdSequencer<{ seq: number }>();
    expect(ids(s.offer(t(10)).publish)).toEqual([10]);
    expect(ids(s.offer(t(11)).publish)).toEqual([11]);
    expect(s.offer(t(11))).toMatchObject({ publish: [], duplicates: 1 });
    const r = s.offer(t(15)); // 12..14 missing
    expect(r).toMatchObject({ publish: [], gap: { from: 12, to: 14 } });
    expect(s.offer(t(16)).publish).toEqual([]); // queued behind the gap
    expect(s.filling).toBe(true);
    // a REST page from 12 that reaches into the queued ids
    const b = s.backfilled([t(12), t(13), t(14), t(15)]);
    expect(ids(b.publish)).toEqual([12, 13, 14, 15, 16]);
    expect(b).toMatchObject({ filled: true, duplicates: 1 });
    expect(s.nextId).toBe(17);
  });

  it('starts at the startup backfill id and treats the first live trade after it as a gap', () => {
    const s = new IdSequencer<{ seq: number }>(100);
    expect(s.offer(t(105)).gap).toEqual({ from: 100, to: 104 });
  });

  it('gives up on an unfillable gap and goes on with the queue', () => {
    const s = new IdSequencer<{ seq: number }>();
    s.offer(t(1));
    s.offer(t(5));
    s.offer(t(6));
    const g = s.giveUp();
    expect(g.skipped).toEqual({ from: 2, to: 4 });
    expect(ids(g.publish)).toEqual([5, 6]);
    expect(s.filling).toBe(false);
  });

  it('opens the next gap when the queue itself has a hole', () => {
    const s = new IdSequencer<{ seq: number }>();
    s.offer(t(1));
    s.offer(t(3)); // gap 2
    s.offer(t(6)); // queued: 3, 6 (hole 4..5)
    const b = s.backfilled([t(2)]);
    expect(ids(b.publish)).toEqual([2, 3]);
    expect(b).toMatchObject({ filled: false, gap: { from: 4, to: 5 } });
  });

  it('refuses to queue without bound', () => {
    const s = new IdSequencer<{ seq: number }>(null, 2);
    s.offer(t(1));
    s.offer(t(5));
    s.offer(t(6));
    expect(() => s.offer(t(7))).toThrow(/more than 2 live trades queued behind a gap from id 2/);
  });
});

describe('IdSequencer (property): live feed with drops, repeats and reordering, REST with everything', () => {
  it('publishes every id exactly once, in order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.array(fc.constantFrom('send', 'drop', 'repeat', 'swap'), { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 50 }),
        (count, ops, pageSize) => {
          const history = Array.from({ length: count }, (_, i) => t(1000 + i));
          // the live feed: the history with some ids dropped, repeated or swapped with the next
          const live: { seq: number }[] = [];
          for (let i = 0; i < history.length; i++) {
            const op = ops[i % ops.length]!;
            if (op === 'drop' && i > 0) continue;
            if (op === 'swap' && i + 1 < history.length && i > 0) {
              live.push(history[i + 1]!, history[i]!);
              i++;
              continue;
            }
            live.push(history[i]!);
            if (op === 'repeat') live.push(history[i]!);
          }
          const s = new IdSequencer<{ seq: number }>();
          const published: number[] = [];
          const fill = () => {
            while (s.filling) {
              const from = s.nextId!;
              const page = history.filter((h) => h.seq >= from).slice(0, pageSize);
              published.push(...ids(s.backfilled(page).publish));
            }
          };
          for (const x of live) {
            const r = s.offer(x);
            published.push(...ids(r.publish));
            if (s.filling) fill();
          }
          // a contiguous run of ids from the first, exactly once, in order, reaching at least the
          // last live id (a REST page may run ahead of the live feed: those are published early)
          const last = Math.max(...live.map((x) => x.seq));
          const end = published[published.length - 1]!;
          expect(end).toBeGreaterThanOrEqual(last);
          expect(published).toEqual(history.filter((h) => h.seq <= end).map((h) => h.seq));
        },
      ),
      { numRuns: 500 },
    );
  });
});
