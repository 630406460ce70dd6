import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { encodeCandle } from '@orderflow/candle-views';
import type { InstrumentView } from '../instruments/instrument.view.js';
import { HistoryService } from './history.service.js';

/**
 * The fallback when a server does not send FINAL rows in key order: a ClickHouse client whose
 * answers are scripted (the order of rows is the server's choice, which ClickHouse 18.16 never
 * varies, so a real server cannot be made to show it here).
 */
describe('HistoryService natural order', () => {
  const minute = 1_767_225_600;
  const rowsOf = (order: 'sorted' | 'shuffled') => {
    const rows = [`${minute}\t100\t5\t0\t1\t0`, `${minute}\t101\t0\t7\t0\t2`, `${minute + 60}\t100\t3\t3\t1\t1`];
    return `${(order === 'sorted' ? rows : [rows[1], rows[0], rows[2]]).join('\n')}\n`;
  };
  const summary = (t: number, buy: number, sell: number, bt: number, st: number) =>
    [t, 100, 101, 100, 101, buy, sell, bt, st, 5, -7].join('\t');

  function client(natural: 'sorted' | 'shuffled') {
    const queries: string[] = [];
    const answer = (text: string) => ({ stream: Readable.from([Buffer.from(text)]) });
    const ch = {
      exec: async ({ query }: { query: string }) => {
        if (/system\.columns/.test(query)) return answer(''); // a schema without footprint_1m_wire: cells from footprint_1m
        if (/candles_1m/.test(query))
          return answer(`${summary(minute, 5, 7, 1, 2)}\n${summary(minute + 60, 3, 3, 1, 1)}\n`);
        queries.push(query);
        return answer(rowsOf(/ORDER BY/.test(query) ? 'sorted' : natural));
      },
    };
    return { ch: ch as unknown as ClickHouseClient, queries };
  }
  const view = {
    members: [{ exchange: 'binance', symbol: 'BTCUSDT', priceFactor: 1, quantityFactor: 1 }],
  } as unknown as InstrumentView;
  const read = async (h: HistoryService) =>
    (await h.footprintList(view, '1m', minute * 1000, (minute + 120) * 1000, 1, 'nearest')).map(
      (c) => JSON.parse(encodeCandle(c)) as { openTime: number; cells: number[][] },
    );

  it('reads without ORDER BY while the rows come in key order', async () => {
    const { ch, queries } = client('sorted');
    const h = new HistoryService(ch, 'orderflow', 5000);
    const got = await read(h);
    expect(got.map((c) => [c.openTime, c.cells])).toEqual([
      [
        minute * 1000,
        [
          [100, 5, 0, 1, 0],
          [101, 0, 7, 0, 2],
        ],
      ],
      [(minute + 60) * 1000, [[100, 3, 3, 1, 1]]],
    ]);
    expect(queries).toHaveLength(1);
    expect(queries[0]).not.toMatch(/ORDER BY/);
    expect(h.reader.naturalOrder).toBe(true);
  });

  it('reads the slice again with ORDER BY, and from then on, the first time they do not', async () => {
    const { ch, queries } = client('shuffled');
    const warnings: string[] = [];
    const h = new HistoryService(ch, 'orderflow', 5000, 0, (m) => warnings.push(m));
    const sorted = await read(new HistoryService(client('sorted').ch, 'orderflow', 5000));
    expect(await read(h)).toEqual(sorted);
    expect(queries.map((q) => /ORDER BY bucket, price/.test(q))).toEqual([false, true]);
    expect(h.reader.naturalOrder).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/not ordered by price.*read with ORDER BY from now on/);
    await read(h);
    expect(queries.map((q) => /ORDER BY bucket, price/.test(q))).toEqual([false, true, true]);
    expect(warnings).toHaveLength(1);
  });
});
