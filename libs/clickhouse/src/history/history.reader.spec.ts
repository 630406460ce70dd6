import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { HistoryReader, isConnectionError } from './history.reader.js';

describe('HistoryReader reads after a broken connection', () => {
  const hangUp = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  const clickHouseError = () => Object.assign(new Error('Table orderflow.candles_1m does not exist'), { code: '60' });
  const client = (failures: (() => Error)[]) => {
    let calls = 0;
    const ch = {
      exec: async () => {
        calls++;
        const f = failures.shift();
        if (f) throw f();
        return { stream: Readable.from([Buffer.from('1\t2\n')]) };
      },
    };
    return { ch: ch as unknown as ClickHouseClient, calls: () => calls };
  };

  it('sends a read once more when the connection broke before ClickHouse answered', async () => {
    const { ch, calls } = client([hangUp]);
    expect(await new HistoryReader(ch, 'orderflow', 5000).rows('SELECT 1, 2')).toEqual([['1', '2']]);
    expect(calls()).toBe(2);
  });

  it('tries once more only: a second broken connection is the caller’s error', async () => {
    const { ch, calls } = client([hangUp, hangUp]);
    await expect(new HistoryReader(ch, 'orderflow', 5000).rows('SELECT 1')).rejects.toThrow(/socket hang up/);
    expect(calls()).toBe(2);
  });

  it('never repeats a query ClickHouse answered with an error', async () => {
    const { ch, calls } = client([clickHouseError]);
    await expect(new HistoryReader(ch, 'orderflow', 5000).rows('SELECT 1')).rejects.toThrow(/does not exist/);
    expect(calls()).toBe(1);
  });

  it('tells connection errors from ClickHouse errors', () => {
    expect(isConnectionError(hangUp())).toBe(true);
    expect(
      isConnectionError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
    expect(isConnectionError(clickHouseError())).toBe(false);
    expect(isConnectionError(new Error('Timeout error.'))).toBe(false);
    expect(isConnectionError(null)).toBe(false);
  });
});
