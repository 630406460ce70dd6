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

  it('writes text and bytes in order: the body is the UTF-8 of the text with the bytes as they are', async () => {
    const res = Object.assign(new EventEmitter(), {
      destroyed: false,
      chunks: [] as (string | Buffer)[],
      write(s: string | Buffer) {
        this.chunks.push(s);
        return true;
      },
      ended: false,
      end() {
        this.ended = true;
      },
    });
    const w = new ChunkWriter(res as never);
    const parts: (string | Buffer)[] = [];
    for (let i = 0; i < 9_000; i++)
      parts.push(
        i % 3 === 0
          ? `{"é":${i}},`
          : i % 3 === 1
            ? Buffer.from(`[${i},${'7'.repeat(i % 50)}]`)
            : Buffer.from([0xe2, 0x82, 0xac]),
      );
    for (const p of parts) await w.write(p);
    await w.end();
    const body = Buffer.concat(res.chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
    expect(body.equals(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))))).toBe(true);
    expect(body.toString('utf8')).toContain('{"é":8997},');
    // chunks of about 64 KiB, not one per write
    expect(res.chunks.length).toBeGreaterThan(1);
    expect(res.chunks.length).toBeLessThan(10);
    expect(res.ended).toBe(true);
  });
});
