/**
 * Engine candles written to a real ClickHouse (18.16 here) and read back: every cell and candle of
 * a real recording equals the engine's to the last unit, after a retry and a stale replay.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { type FootprintCandle, FootprintSeries, TIMEFRAMES, type Timeframe, parseFixed } from '@orderflow/footprint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClickHouse } from './clickhouse.connection.js';
import { footprintRows } from './footprint.rows.js';
import { migrate } from './migrations.js';

const FILE = new URL('../../../../shared/data/binance-futures_BTCUSDT_trade-ws_2024-08-08T2354.jsonl', import.meta.url)
  .pathname;
const haveFile = existsSync(FILE);
const SERVICES_URL = new URL('../../../scripts/lib/services.mjs', import.meta.url).href;

describe(
  '1m footprints in ClickHouse',
  { skip: !haveFile, meta: { skipReason: `${FILE} is missing (the recordings exist only on the project's machines)` } },
  () => {
    let server: { url: string; stop(): Promise<void> };
    let ch: ClickHouseClient;
    beforeAll(async () => {
      server = await ((await import(SERVICES_URL)) as { startClickHouse(): Promise<typeof server> }).startClickHouse();
      ch = connectClickHouse({ url: server.url });
      await migrate(ch, 'of_rows');
    }, 90_000);
    afterAll(async () => {
      await ch?.close();
      await server?.stop();
    });

    it('stores the engine’s cells and candles exactly, and a retry or a stale replay changes nothing', async () => {
      const candles: FootprintCandle[] = [];
      const partial: FootprintCandle[] = [];
      const series = new FootprintSeries({ timeframes: ['1m'], onClose: (c) => candles.push(c) });
      const half = new FootprintSeries({ timeframes: ['1m'], onClose: (c) => partial.push(c) });
      const lines = readFileSync(FILE, 'utf8').trim().split('\n');
      lines.forEach((line, i) => {
        const r = JSON.parse(line) as { p: string; q: string; T: number; m: boolean };
        const args = [parseFixed(r.p, 2), parseFixed(r.q, 3), r.m ? 'sell' : 'buy', r.T * 1000] as const;
        series.add(...args);
        if (i % 3 !== 0) half.add(...args); // what a writer that crashed mid-stream had written
      });
      series.flush();
      half.flush();
      const rows = candles.map((c) => footprintRows('binance-futures', 'BTCUSDT', c));
      const stale = partial.map((c) => footprintRows('binance-futures', 'BTCUSDT', c));
      const insert = async (batch: typeof rows) => {
        await ch.insert({
          table: 'of_rows.footprint_1m',
          values: batch.flatMap((r) => r.cells),
          format: 'JSONEachRow',
        });
        await ch.insert({ table: 'of_rows.candles_1m', values: batch.map((r) => r.candle), format: 'JSONEachRow' });
      };
      await insert(stale); // an older, partial version
      await insert(rows);
      await insert(rows); // a retry
      await insert(stale); // the stale version again, late
      const cells = await (
        await ch.query({
          query:
            'SELECT toUnixTimestamp(minute) * 1000 AS t, price, argMax(buy_volume, version) AS b, argMax(sell_volume, version) AS s, argMax(buy_trades, version) AS bt, argMax(sell_trades, version) AS st FROM of_rows.footprint_1m GROUP BY minute, price ORDER BY minute, price',
          format: 'JSONEachRow',
        })
      ).json<{ t: string; price: string; b: string; s: string; bt: number; st: number }>();
      const want = candles.flatMap((c) =>
        c.sortedLevels().map((l) => [c.openTime, l.price, l.buyVolume, l.sellVolume, l.buyTrades, l.sellTrades]),
      );
      expect(
        cells.map((r) => [Number(r.t), Number(r.price), Number(r.b), Number(r.s), Number(r.bt), Number(r.st)]),
      ).toEqual(want);
      const got = await (
        await ch.query({ query: 'SELECT * FROM of_rows.candles_1m FINAL ORDER BY minute', format: 'JSONEachRow' })
      ).json<Record<string, string | number>>();
      expect(
        got.map((r) =>
          [
            r['open'],
            r['high'],
            r['low'],
            r['close'],
            r['buy_volume'],
            r['sell_volume'],
            r['max_delta'],
            r['min_delta'],
          ].map(Number),
        ),
      ).toEqual(
        candles.map((c) => [c.open, c.high, c.low, c.close, c.buyVolume, c.sellVolume, c.maxDelta, c.minDelta]),
      );
      expect(candles.reduce((n, c) => n + c.trades, 0)).toBe(lines.length);
    });

    it('rolls the 1m rows up to every timeframe in the analyst views, equal to the engine’s own aggregation', async () => {
      // the same stream as above, already written (stale, full, full again, stale again)
      const byTf = new Map<Timeframe, FootprintCandle[]>();
      const series = new FootprintSeries({
        timeframes: TIMEFRAMES,
        onClose: (c) => byTf.set(c.timeframe, [...(byTf.get(c.timeframe) ?? []), c]),
      });
      for (const line of readFileSync(FILE, 'utf8').trim().split('\n')) {
        const r = JSON.parse(line) as { p: string; q: string; T: number; m: boolean };
        series.add(parseFixed(r.p, 2), parseFixed(r.q, 3), r.m ? 'sell' : 'buy', r.T * 1000);
      }
      series.flush();
      // 18.16 pushes the WHERE into the UNION ALL branches only with this setting (else every level is read)
      const settings: ClickHouseSettings = { enable_optimize_predicate_expression: 1 };
      for (const tf of TIMEFRAMES) {
        const cells = await (
          await ch.query({
            query: `SELECT toUnixTimestamp(bucket) * 1000 AS t, price, toUInt64(buy_volume) AS b, toUInt64(sell_volume) AS s, buy_trades AS bt, sell_trades AS st FROM of_rows.footprint WHERE timeframe = '${tf}' ORDER BY bucket, price`,
            format: 'JSONEachRow',
            clickhouse_settings: settings,
          })
        ).json<Record<string, string | number>>();
        const want = (byTf.get(tf) ?? []).flatMap((c) =>
          c.sortedLevels().map((l) => [c.openTime, l.price, l.buyVolume, l.sellVolume, l.buyTrades, l.sellTrades]),
        );
        expect(
          cells.map((r) => [r['t'], r['price'], r['b'], r['s'], r['bt'], r['st']].map(Number)),
          `footprint ${tf}`,
        ).toEqual(want);
        const candles = await (
          await ch.query({
            query: `SELECT toUnixTimestamp(bucket) * 1000 AS t, open, high, low, close, toUInt64(buy_volume) AS b, toUInt64(sell_volume) AS s, max_delta, min_delta FROM of_rows.candles WHERE timeframe = '${tf}' ORDER BY bucket`,
            format: 'JSONEachRow',
            clickhouse_settings: settings,
          })
        ).json<Record<string, string | number>>();
        expect(
          candles.map((r) =>
            [r['t'], r['open'], r['high'], r['low'], r['close'], r['b'], r['s'], r['max_delta'], r['min_delta']].map(
              Number,
            ),
          ),
          `candles ${tf}`,
        ).toEqual(
          (byTf.get(tf) ?? []).map((c) => [
            c.openTime,
            c.open,
            c.high,
            c.low,
            c.close,
            c.buyVolume,
            c.sellVolume,
            c.maxDelta,
            c.minDelta,
          ]),
        );
      }
    });
  },
);
