import type { LiveUpdate } from '@orderflow/contracts';
import { describe, expect, it } from 'vitest';
import { StreamSync } from './stream-sync.js';

const u = (epoch: string, seq: number) => ({ epoch, seq }) as LiveUpdate;

describe('StreamSync', () => {
  it('buffers while a snapshot is awaited, then applies only what follows it', () => {
    const s = new StreamSync();
    for (const x of [u('e1', 4), u('e1', 5), u('e1', 6), u('e1', 7)]) expect(s.onUpdate(x)).toBe('buffered');
    const out = s.onSnapshot('e1', 5);
    expect(out).toEqual({ apply: [u('e1', 6), u('e1', 7)], resync: null });
    expect(s.onUpdate(u('e1', 8))).toBe('apply');
    expect(s.onUpdate(u('e1', 8))).toBe('ignore');
    expect(s.onUpdate(u('e1', 7))).toBe('ignore');
  });

  it('a seq jump or a new epoch means something was missed', () => {
    const s = new StreamSync();
    s.onSnapshot('e1', 10);
    expect(s.onUpdate(u('e1', 12))).toBe('resync');
    expect(s.onUpdate(u('e2', 1))).toBe('resync');
    expect(s.onUpdate(u('e1', 11))).toBe('apply');
  });

  it('drops buffered updates of an older epoch, re-syncs on a newer one or a gap', () => {
    const s = new StreamSync();
    s.onUpdate(u('old', 99));
    s.onUpdate(u('e1', 3));
    s.onUpdate(u('e2', 1));
    expect(s.onSnapshot('e1', 2)).toEqual({ apply: [u('e1', 3)], resync: "epoch e2 after the snapshot's e1" });
    s.beginResync();
    s.onUpdate(u('e1', 9));
    expect(s.onSnapshot('e1', 7).resync).toBe('seq 9 follows 7');
  });

  it('an owner that holds nothing: any update means it started since (re-sync)', () => {
    const s = new StreamSync();
    expect(s.onSnapshot(null, 0)).toEqual({ apply: [], resync: null });
    expect(s.onUpdate(u('e1', 1))).toBe('resync');
    s.beginResync();
    s.onUpdate(u('e1', 1));
    expect(s.onSnapshot(null, 0).resync).toMatch(/epoch e1/);
  });

  it('a buffer overflow asks for another snapshot', () => {
    const s = new StreamSync(2);
    for (let i = 1; i <= 3; i++) s.onUpdate(u('e', i));
    expect(s.onSnapshot('e', 0).resync).toMatch(/buffered/);
  });
});
