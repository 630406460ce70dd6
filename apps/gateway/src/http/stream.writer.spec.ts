import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ChunkWriter } from './stream.writer.js';

describe('ChunkWriter', () => {
  it('waits for drain under backpressure without leaving listeners behind (a long response waits many times)', async () => {
    const res = Object.assign(new EventEmitter(), {
      destroyed: false,
      chunks: [] as string[],
      write(s: string) {
        this.chunks.push(s);
        setImmediate(() => res.emit('drain'));
        return false; // always full: every chunk waits for 'drain'
      },
      ended: false,
      end() {
        this.ended = true;
      },
    });
    const w = new ChunkWriter(res as never);
    for (let i = 0; i < 40; i++) await w.write('x'.repeat(70_000));
    await w.end();
    expect(res.chunks).toHaveLength(40);
    expect(res.ended).toBe(true);
    expect(['drain', 'close', 'error'].map((e) => res.listenerCount(e))).toEqual([0, 0, 0]);
  });
});
