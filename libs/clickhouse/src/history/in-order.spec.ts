import { describe, expect, it } from 'vitest';
import { inOrder } from './in-order.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('inOrder', () => {
  it('hands results on in order with at most two reads running, and an abandoned read cannot go unhandled', async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const reads = [30, 5, 20, 1].map((ms, i) => async () => {
      started.push(i);
      most = Math.max(most, ++running);
      await sleep(ms);
      running--;
      return i;
    });
    const got: number[] = [];
    for await (const x of inOrder(reads)) got.push(x);
    expect(got).toEqual([0, 1, 2, 3]);
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3]);
    // more ahead: three at a time
    most = 0;
    const wider: number[] = [];
    for await (const x of inOrder(reads, 2)) wider.push(x);
    expect(wider).toEqual([0, 1, 2, 3]);
    expect(most).toBe(3);

    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const failing = [async () => 1, async () => Promise.reject(new Error('read after the consumer left'))];
      for await (const x of inOrder(failing)) {
        expect(x).toBe(1);
        break; // the second read is running and will reject
      }
      await sleep(20);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});
