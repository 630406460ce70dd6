import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { encodeCandle } from '@orderflow/candle-views';
import type { InstrumentView } from '../instruments/instrument.view.js';
import { HistoryError, HistoryService, inOrder, isConnectionError, latestWireRows } from './history.service.js';

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

/**
 * The fallback when a server does not send FINAL rows in key order: a ClickHouse client whose
 * answers are scripted (the order of rows is the server's choice, which ClickHouse 18.16 never
 * varies, so a real server cannot be made to show it here).
 */
describe('latestWireRows', () => {
  const body = (rows: string[][]) => Buffer.from(rows.map((r) => `${r.join('\t')}\n`).join(''), 'utf8');

  it('keeps the highest version of each minute, whatever the order of the rows, its cells the bytes sent', () => {
    const rows = [
      ['120', '7', '1', '1', '1', '[[1,7,0,1,0]]'],
      ['60', '3', '1', '1', '1', '[[1,3,0,1,0]]'],
      ['120', '9', '2', '3', '1', '[[2,9,0,1,0]]'],
      ['60', '2', '1', '1', '1', '[[1,2,0,1,0]]'],
      ['120', '8', '1', '1', '1', '[[1,8,0,1,0]]'],
    ];
    const m = latestWireRows([body(rows)]);
    expect([...m.keys()].sort((a, b) => a - b)).toEqual([60_000, 120_000]);
    const plain = (t: number) => {
      const r = m.get(t)!;
      return { ...r, cells: r.cells.toString('utf8') };
    };
    expect(plain(60_000)).toEqual({ version: 3, poc: 1, vah: 1, val: 1, cells: '[[1,3,0,1,0]]' });
    expect(plain(120_000)).toEqual({ version: 9, poc: 2, vah: 3, val: 1, cells: '[[2,9,0,1,0]]' });
    expect(latestWireRows([])).toEqual(new Map());
    expect(latestWireRows([Buffer.alloc(0)])).toEqual(new Map());
    // without the last line break, and with an escaped tab left in the cells (which isWireCells refuses)
    const last = latestWireRows([Buffer.from('60\t1\t1\t1\t1\t[[1,\\t2]]')]);
    expect(last.get(60_000)!.cells.toString()).toBe('[[1,\\t2]]');
  });

  it('reads the same rows however the response is cut into network chunks', () => {
    const rows = Array.from({ length: 7 }, (_, i) => [String(60 * (i % 4)), String(i), String(i), '1', '2', JSON.stringify(Array.from({ length: i + 1 }, (_, k) => [k, i, 0, 1, 0]))]);
    const whole = body(rows);
    const plain = (m: Map<number, { version: number; cells: Buffer }>) => [...m].map(([t, r]) => `${t} ${r.version} ${r.cells.toString()}`).sort();
    const expected = plain(latestWireRows([whole]));
    expect(expected).toHaveLength(4);
    for (let a = 0; a <= whole.length; a++) {
      expect(plain(latestWireRows([whole.subarray(0, a), whole.subarray(a)])), `cut at ${a}`).toEqual(expected);
      for (let b = a; b <= whole.length; b += 7) expect(plain(latestWireRows([whole.subarray(0, a), whole.subarray(a, b), whole.subarray(b)])), `cut at ${a}, ${b}`).toEqual(expected);
    }
  });

  it('refuses a row whose fields are not integers, and says what ClickHouse said', () => {
    expect(() => latestWireRows([body([['x', '1', '1', '1', '1', '[]']])])).toThrow(HistoryError);
    expect(() => latestWireRows([body([['60', '1.5', '1', '1', '1', '[]']])])).toThrow(/version: expected an integer/);
    expect(() => latestWireRows([body([['60', '1', '1', '1']])])).toThrow(/val: expected an integer/);
    expect(() => latestWireRows([Buffer.from('Code: 241, e.displayText() = DB::Exception: Memory limit (for query) exceeded\n')])).toThrow(/^ClickHouse: Code: 241/);
  });
});

describe('HistoryService natural order', () => {
  const minute = 1_767_225_600;
  const rowsOf = (order: 'sorted' | 'shuffled') => {
    const rows = [`${minute}\t100\t5\t0\t1\t0`, `${minute}\t101\t0\t7\t0\t2`, `${minute + 60}\t100\t3\t3\t1\t1`];
    return `${(order === 'sorted' ? rows : [rows[1], rows[0], rows[2]]).join('\n')}\n`;
  };
  const summary = (t: number, buy: number, sell: number, bt: number, st: number) => [t, 100, 101, 100, 101, buy, sell, bt, st, 5, -7].join('\t');

  function client(natural: 'sorted' | 'shuffled') {
    const queries: string[] = [];
    const answer = (text: string) => ({ stream: Readable.from([Buffer.from(text)]) });
    const ch = {
      exec: async ({ query }: { query: string }) => {
        if (/system\.columns/.test(query)) return answer(''); // a schema without footprint_1m_wire: cells from footprint_1m
        if (/candles_1m/.test(query)) return answer(`${summary(minute, 5, 7, 1, 2)}\n${summary(minute + 60, 3, 3, 1, 1)}\n`);
        queries.push(query);
        return answer(rowsOf(/ORDER BY/.test(query) ? 'sorted' : natural));
      },
    };
    return { ch: ch as unknown as ClickHouseClient, queries };
  }
  const view = { members: [{ exchange: 'binance', symbol: 'BTCUSDT', priceFactor: 1, quantityFactor: 1 }] } as unknown as InstrumentView;
  const read = async (h: HistoryService) => (await h.footprintList(view, '1m', minute * 1000, (minute + 120) * 1000, 1, 'nearest')).map((c) => JSON.parse(encodeCandle(c)) as { openTime: number; cells: number[][] });

  it('reads without ORDER BY while the rows come in key order', async () => {
    const { ch, queries } = client('sorted');
    const h = new HistoryService(ch, 'orderflow', 5000);
    const got = await read(h);
    expect(got.map((c) => [c.openTime, c.cells])).toEqual([
      [minute * 1000, [[100, 5, 0, 1, 0], [101, 0, 7, 0, 2]]],
      [(minute + 60) * 1000, [[100, 3, 3, 1, 1]]],
    ]);
    expect(queries).toHaveLength(1);
    expect(queries[0]).not.toMatch(/ORDER BY/);
    expect(h.naturalOrder).toBe(true);
  });

  it('reads the slice again with ORDER BY, and from then on, the first time they do not', async () => {
    const { ch, queries } = client('shuffled');
    const warnings: string[] = [];
    const h = new HistoryService(ch, 'orderflow', 5000, 0, (m) => warnings.push(m));
    const sorted = await read(new HistoryService(client('sorted').ch, 'orderflow', 5000));
    expect(await read(h)).toEqual(sorted);
    expect(queries.map((q) => /ORDER BY bucket, price/.test(q))).toEqual([false, true]);
    expect(h.naturalOrder).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/not ordered by price.*read with ORDER BY from now on/);
    await read(h);
    expect(queries.map((q) => /ORDER BY bucket, price/.test(q))).toEqual([false, true, true]);
    expect(warnings).toHaveLength(1);
  });
});

describe('HistoryService reads after a broken connection', () => {
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
    expect(await new HistoryService(ch, 'orderflow', 5000).rows('SELECT 1, 2')).toEqual([['1', '2']]);
    expect(calls()).toBe(2);
  });

  it('tries once more only: a second broken connection is the caller’s error', async () => {
    const { ch, calls } = client([hangUp, hangUp]);
    await expect(new HistoryService(ch, 'orderflow', 5000).rows('SELECT 1')).rejects.toThrow(/socket hang up/);
    expect(calls()).toBe(2);
  });

  it('never repeats a query ClickHouse answered with an error', async () => {
    const { ch, calls } = client([clickHouseError]);
    await expect(new HistoryService(ch, 'orderflow', 5000).rows('SELECT 1')).rejects.toThrow(/does not exist/);
    expect(calls()).toBe(1);
  });

  it('tells connection errors from ClickHouse errors', () => {
    expect(isConnectionError(hangUp())).toBe(true);
    expect(isConnectionError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectionError(clickHouseError())).toBe(false);
    expect(isConnectionError(new Error('Timeout error.'))).toBe(false);
    expect(isConnectionError(null)).toBe(false);
  });
});
