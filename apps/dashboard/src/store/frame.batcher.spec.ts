import { describe, expect, it } from 'vitest';
import { FrameBatcher } from './frame.batcher.js';

describe('FrameBatcher', () => {
  it('hands over everything pushed between two frames at once, scheduling one frame at a time', () => {
    const frames: (() => void)[] = [];
    const flushed: number[][] = [];
    const b = new FrameBatcher<number>(
      (xs) => flushed.push(xs),
      (cb) => frames.push(cb),
    );
    for (let i = 0; i < 1000; i++) b.push(i);
    expect(frames).toHaveLength(1);
    expect(flushed).toHaveLength(0);
    frames.shift()!();
    expect(flushed).toHaveLength(1);
    expect(flushed[0]).toHaveLength(1000);
    b.push(1);
    b.push(2);
    expect(frames).toHaveLength(1);
    frames.shift()!();
    expect(flushed[1]).toEqual([1, 2]);
    expect(b.frames).toBe(2);
    expect(b.items).toBe(1002);
    // a frame with nothing queued (cleared) hands over nothing
    b.push(3);
    b.clear();
    frames.shift()!();
    expect(flushed).toHaveLength(2);
  });
});
