/**
 * The migrations against a real ClickHouse (the Debian 18.16 here; a private server on free ports
 * in a temporary directory, so nothing collides with a running platform).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { formatFixed } from '@orderflow/footprint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClickHouse } from './clickhouse.connection.js';
import { EQUIVALENT_CHECKSUMS, MIGRATIONS_DIR, type Migration, loadMigrations, migrate } from './migrations.js';
import { quoteString } from './sql.js';
import { SAME_TEXT_SETTINGS, TEST_ENGINE } from './testing/engine.js';

interface ServicesModule {
  startClickHouse(o?: object): Promise<{ url: string; stop(): Promise<void> }>;
}
const SERVICES_URL = new URL('../../../scripts/lib/services.mjs', import.meta.url).href;

describe('ClickHouse migrations', () => {
  let server: { url: string; stop(): Promise<void> };
  let ch: ClickHouseClient;
  beforeAll(async () => {
    server = await ((await import(SERVICES_URL)) as ServicesModule).startClickHouse();
    ch = connectClickHouse({ url: server.url });
  }, 90_000);
  afterAll(async () => {
    await ch?.close();
    await server?.stop();
  });

  it('applies every migration once; a second run skips them all', async () => {
    const all = loadMigrations().map((m) => m.version);
    expect(await migrate(ch, 'of_migrate')).toEqual({ applied: all, skipped: [] });
    expect(await migrate(ch, 'of_migrate')).toEqual({ applied: [], skipped: all });
    // the replicated variant is never applied over a single-node database (nor the other way round)
    await expect(migrate(ch, 'of_migrate', { cluster: 'orderflow' })).rejects.toThrow(
      /created on a single node: its tables are not replicated/,
    );
    const tables = await (
      await ch.query({
        query: "SELECT name FROM system.tables WHERE database = 'of_migrate' ORDER BY name",
        format: 'JSONEachRow',
      })
    ).json<{ name: string }>();
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'candles',
        'candles_1m',
        'candles_1d',
        'footprint',
        'footprint_1m',
        'footprint_5m',
        'footprint_5m_mv',
        'instruments',
        'schema_migrations',
        'trades',
      ]),
    );
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['gaps', 'gap_minutes', 'gap_status', 'incomplete_minutes']),
    );
    expect(tables.map((t) => t.name)).toContain('footprint_1m_wire');
    // 5 tables, 6 rollup tables and 6 views for footprints and for candles, 2 analyst views; v2: 2 gap tables and their
    // 2 views; v3: footprint_1m_wire
    expect(tables.length).toBe(36);
  });

  it('refuses a migration whose content changed after it was applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orderflow-migrations-'));
    try {
      for (const m of loadMigrations()) copyFileSync(MIGRATIONS_DIR + m.file, join(dir, m.file));
      await migrate(ch, 'of_changed', { migrations: loadMigrations(`${dir}/`) });
      writeFileSync(join(dir, '0001_core.sql'), `-- edited\n${loadMigrations()[0]!.sql}`);
      await expect(migrate(ch, 'of_changed', { migrations: loadMigrations(`${dir}/`) })).rejects.toThrow(
        /0001_core.sql was applied with different content/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('deduplicates raw trades by (exchange, symbol, trade id), however often they are inserted', async () => {
    await migrate(ch, 'of_trades');
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      exchange: 'binance',
      symbol: 'BTCUSDT',
      trade_id: String(3_800_000_000 + i),
      price: 8_764_821 + (i % 13),
      quantity: 1 + i,
      side: i % 3 === 0 ? 's' : 'b',
      exchange_time_us: 1_767_225_600_039_409 + i * 1000,
      receive_time_ms: 1_767_225_600_100 + i,
    }));
    // a retry of everything, and an overlapping re-import in other batch sizes
    await ch.insert({ table: 'of_trades.trades', values: rows, format: 'JSONEachRow' });
    await ch.insert({ table: 'of_trades.trades', values: rows, format: 'JSONEachRow' });
    for (let i = 0; i < 1000; i += 300)
      await ch.insert({ table: 'of_trades.trades', values: rows.slice(i, i + 300), format: 'JSONEachRow' });
    const [r] = await (
      await ch.query({
        query: `SELECT count() AS n, sum(quantity) AS q FROM of_trades.trades FINAL WHERE symbol = ${quoteString('BTCUSDT')}`,
        format: 'JSONEachRow',
      })
    ).json<{ n: string; q: string }>();
    expect(Number(r!.n)).toBe(1000);
    expect(Number(r!.q)).toBe((1000 * 1001) / 2);
  });

  it('0005 upgrades a v1 database with data, completes a run that died midway, and is harmless when repeated', async () => {
    const db = 'of_upgrade';
    const v1 = loadMigrations().filter((m) => m.version <= 4);
    await migrate(ch, db, { migrations: v1 });
    const M = '2025-06-21 12:05:00'; // 1750507500
    // v1 rows: a trade three times (twice identical, once with an archive's µs time), cells and
    // candles of two versions of one minute and one version of the next
    await ch.command({
      query: `INSERT INTO ${db}.trades VALUES ('binance', 'LTCUSDT', '100', 8329, 107, 'b', 1750507500001000, 1750507500002), ('binance', 'LTCUSDT', '100', 8329, 107, 'b', 1750507500001000, 1750507500002), ('binance', 'LTCUSDT', '101', 8328, 229, 's', 1750507500002000, 1750507500003)`,
    });
    await ch.command({
      query: `INSERT INTO ${db}.trades VALUES ('binance', 'LTCUSDT', '100', 8329, 107, 'b', 1750507500001345, 1750507500002)`,
    });
    await ch.command({
      query: `INSERT INTO ${db}.footprint_1m VALUES ('binance', 'LTCUSDT', '${M}', 8329, 107, 0, 1, 0, 1), ('binance', 'LTCUSDT', '${M}', 8329, 107, 0, 1, 0, 2), ('binance', 'LTCUSDT', '${M}', 8328, 0, 229, 0, 1, 2), ('binance', 'LTCUSDT', '2025-06-21 12:06:00', 8330, 5, 0, 1, 0, 1)`,
    });
    await ch.command({
      query: `INSERT INTO ${db}.candles_1m VALUES ('binance', 'LTCUSDT', '${M}', 8329, 8329, 8329, 8329, 107, 0, 1, 0, 107, 107, 1750507500001000, 1750507500001000, 1), ('binance', 'LTCUSDT', '${M}', 8329, 8329, 8328, 8328, 107, 229, 1, 1, 107, -122, 1750507500001000, 1750507500002000, 2), ('binance', 'LTCUSDT', '2025-06-21 12:06:00', 8330, 8330, 8330, 8330, 5, 0, 1, 0, 5, 5, 1750507560000000, 1750507560000000, 1)`,
    });

    // the first attempt dies right after renaming candles_1m away
    const dir = mkdtempSync(join(tmpdir(), 'orderflow-migrations-'));
    try {
      for (const m of loadMigrations()) copyFileSync(MIGRATIONS_DIR + m.file, join(dir, m.file));
      const file = join(dir, '0005_schema_v2.sql');
      const sql = readFileSync(file, 'utf8');
      const cut = 'RENAME TABLE {db}.candles_1m TO {db}.candles_1m_v1;\n';
      expect(sql).toContain(cut);
      writeFileSync(file, sql.replace(cut, `${cut}\nSELECT throwIf(1);\n`));
      await expect(migrate(ch, db, { migrations: loadMigrations(`${dir}/`) })).rejects.toThrow(
        /0005_schema_v2.sql, statement \d+ of \d+ failed/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const names = async () =>
      (
        await (
          await ch.query({
            query: `SELECT name FROM system.tables WHERE database = '${db}' ORDER BY name`,
            format: 'JSONEachRow',
          })
        ).json<{ name: string }>()
      ).map((t) => t.name);
    expect(await names()).toEqual(expect.arrayContaining(['candles_1m_v1', 'trades']));
    expect(await names()).not.toContain('candles_1m');

    expect(await migrate(ch, db)).toEqual({
      applied: loadMigrations()
        .map((m) => m.version)
        .filter((v) => v >= 5),
      skipped: [1, 2, 3, 4],
    });
    expect(await names()).not.toContain('candles_1m_v1');
    expect(await names()).not.toContain('trades_v1');
    const text = async (query: string) =>
      (
        await ch.query({
          query,
          format: 'TabSeparated',
          clickhouse_settings: { enable_optimize_predicate_expression: 1, ...SAME_TEXT_SETTINGS },
        })
      ).text();
    const snapshot = async () => ({
      trades: await text(
        `SELECT trade_id, price, quantity, side, exchange_time_us, ingest_seq FROM ${db}.trades ORDER BY trade_id, exchange_time_us`,
      ),
      candles1m: await text(`SELECT minute, version, notional FROM ${db}.candles_1m ORDER BY minute, version`),
      candles: await text(
        `SELECT timeframe, bucket, open, high, low, close, volume, trades, notional, vwap, complete FROM ${db}.candles ORDER BY timeframe, bucket`,
      ),
    });
    const after = await snapshot();
    // one row per trade id (the v1 copy with the largest values), before anything new: ingest_seq 0
    expect(after.trades).toBe('100\t8329\t107\tb\t1750507500001345\t0\n101\t8328\t229\ts\t1750507500002000\t0\n');
    // the latest version of each minute, its notional from that version's cells: 8329 * 107 + 8328 * 229 = 2,798,315
    expect(after.candles1m).toBe(`${M}\t2\t2798315\n2025-06-21 12:06:00\t1\t41650\n`);
    const vwap = (n: bigint, v: bigint) => formatFixed((n * 10n ** 8n) / v, 8);
    expect(vwap(2_798_315n, 336n)).toBe('8328.31845238');
    const row = (tf: string, b: string, o: number, h: number, l: number, c: number, v: number, t: number, n: bigint) =>
      `${tf}\t${b}\t${o}\t${h}\t${l}\t${c}\t${v}\t${t}\t${n}\t${vwap(n, BigInt(v))}\t1\n`;
    expect(after.candles).toBe(
      [
        row('15m', '2025-06-21 12:00:00', 8329, 8330, 8328, 8330, 341, 3, 2_839_965n),
        row('1d', '2025-06-21 00:00:00', 8329, 8330, 8328, 8330, 341, 3, 2_839_965n),
        row('1h', '2025-06-21 12:00:00', 8329, 8330, 8328, 8330, 341, 3, 2_839_965n),
        row('1m', M, 8329, 8329, 8328, 8328, 336, 2, 2_798_315n),
        row('1m', '2025-06-21 12:06:00', 8330, 8330, 8330, 8330, 5, 1, 41_650n),
        row('30m', '2025-06-21 12:00:00', 8329, 8330, 8328, 8330, 341, 3, 2_839_965n),
        row('4h', '2025-06-21 12:00:00', 8329, 8330, 8328, 8330, 341, 3, 2_839_965n),
        row('5m', '2025-06-21 12:05:00', 8329, 8330, 8328, 8330, 341, 3, 2_839_965n),
      ].join(''),
    );
    // the same file once more under another version (as if its record were lost): every guarded
    // statement is skipped, the rest is IF NOT EXISTS; nothing changes
    const again = loadMigrations().find((m) => m.version === 5)!;
    expect(
      await migrate(ch, db, {
        migrations: [...loadMigrations(), { ...again, version: 99, name: 'again', file: '0099_again.sql' }],
      }),
    ).toEqual({ applied: [99], skipped: loadMigrations().map((m) => m.version) });
    expect(await snapshot()).toEqual(after);
  });

  /** One v1 candle (schema v1 tables), so that 0005 copies candles (its statement with the join). */
  const writeV1Candle = async (db: string) => {
    await ch.command({
      query: `INSERT INTO ${db}.candles_1m VALUES ('binance', 'LTCUSDT', '2025-06-21 12:06:00', 8330, 8330, 8330, 8330, 5, 0, 1, 0, 5, 5, 1750507560000000, 1750507560000000, 1)`,
    });
  };
  /** The same v2 rows (two minutes of LTCUSDT, its scales) written into a database of schema v2 or later. */
  const writeV2Rows = async (db: string) => {
    const M = '2025-06-21 12:05:00';
    await ch.command({
      query: `INSERT INTO ${db}.instruments (exchange, symbol, price_scale, quantity_scale, tick_units, updated_at) VALUES ('binance', 'LTCUSDT', 2, 3, 1, '2025-06-21 00:00:00')`,
    });
    await ch.command({
      query: `INSERT INTO ${db}.trades (exchange, symbol, trade_id, price, quantity, side, exchange_time_us, receive_time_ms, ingest_seq) VALUES ('binance', 'LTCUSDT', '100', 8329, 107, 'b', 1750507500001000, 1750507500002, 1), ('binance', 'LTCUSDT', '101', 8328, 229, 's', 1750507500002000, 1750507500003, 2), ('binance', 'LTCUSDT', '102', 8330, 5, 'b', 1750507560000000, 1750507560001, 3)`,
    });
    await ch.command({
      query: `INSERT INTO ${db}.footprint_1m (exchange, symbol, minute, price, buy_volume, sell_volume, buy_trades, sell_trades, version) VALUES ('binance', 'LTCUSDT', '${M}', 8329, 107, 0, 1, 0, 2), ('binance', 'LTCUSDT', '${M}', 8328, 0, 229, 0, 1, 2), ('binance', 'LTCUSDT', '2025-06-21 12:06:00', 8330, 5, 0, 1, 0, 1)`,
    });
    await ch.command({
      query: `INSERT INTO ${db}.candles_1m (exchange, symbol, minute, open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta, first_time_us, last_time_us, version, notional) VALUES ('binance', 'LTCUSDT', '${M}', 8329, 8329, 8328, 8328, 107, 229, 1, 1, 107, -122, 1750507500001000, 1750507500002000, 2, 2798315), ('binance', 'LTCUSDT', '2025-06-21 12:06:00', 8330, 8330, 8330, 8330, 5, 0, 1, 0, 5, 5, 1750507560000000, 1750507560000000, 1, 41650)`,
    });
  };
  const viewsText = async (db: string) => {
    const text = async (query: string) =>
      (
        await ch.query({
          query,
          format: 'TabSeparated',
          clickhouse_settings: { enable_optimize_predicate_expression: 1, ...SAME_TEXT_SETTINGS },
        })
      ).text();
    return {
      footprint: await text(
        `SELECT timeframe, bucket, price, buy_volume, sell_volume, delta, volume, price_decimal, buy_volume_decimal, sell_volume_decimal, delta_decimal, volume_decimal FROM ${db}.footprint ORDER BY timeframe, bucket, price`,
      ),
      candles: await text(
        `SELECT timeframe, bucket, open, high, low, close, volume, trades, notional, vwap, complete, open_decimal, high_decimal, low_decimal, close_decimal, volume_decimal, delta_decimal, max_delta_decimal, min_delta_decimal, vwap_decimal FROM ${db}.candles ORDER BY timeframe, bucket`,
      ),
    };
  };

  it('upgrades a database of every earlier schema version (v2, v3) with data to the same views as a new one', async () => {
    const all = loadMigrations();
    await migrate(ch, 'of_fresh');
    await writeV2Rows('of_fresh');
    const fresh = await viewsText('of_fresh');
    // the decimal columns, from the definition: units / 10^scale (LTCUSDT: price scale 2, quantity scale 3)
    const d15 = (units: bigint, scale: number) => formatFixed(units * 10n ** BigInt(15 - scale), 15);
    expect(fresh.footprint).toContain(
      `1m\t2025-06-21 12:05:00\t8328\t0\t229\t-229\t229\t${d15(8328n, 2)}\t${d15(0n, 3)}\t${d15(229n, 3)}\t${d15(-229n, 3)}\t${d15(229n, 3)}\n`,
    );
    const vwap8 = (2_798_315n * 10n ** 8n) / 336n;
    expect(fresh.candles).toContain(
      `1m\t2025-06-21 12:05:00\t8329\t8329\t8328\t8328\t336\t2\t2798315\t${formatFixed(vwap8, 8)}\t1\t${d15(8329n, 2)}\t${d15(8329n, 2)}\t${d15(8328n, 2)}\t${d15(8328n, 2)}\t${d15(336n, 3)}\t${d15(-122n, 3)}\t${d15(107n, 3)}\t${d15(-122n, 3)}\t${d15(vwap8, 10)}\n`,
    );
    for (const schema of [5, 6]) {
      const db = `of_from_v${schema}`;
      await migrate(ch, db, { migrations: all.filter((m) => m.version <= schema) });
      await writeV2Rows(db);
      expect(await migrate(ch, db)).toEqual({
        applied: all.filter((m) => m.version > schema).map((m) => m.version),
        skipped: all.filter((m) => m.version <= schema).map((m) => m.version),
      });
      expect(await viewsText(db)).toEqual(fresh);
    }
  });

  it('takes a database that recorded the earlier text of 0005 as up to date with it', async () => {
    const all = loadMigrations();
    const current = all.find((m) => m.version === 5)!;
    // the earlier text: the v1 candle copy joined two unnamed subqueries
    const sql = current.sql
      .replace(') AS v1\nANY LEFT JOIN', ')\nANY LEFT JOIN')
      .replace(
        ') AS cells USING (exchange, symbol, minute, last_version);',
        ') USING (exchange, symbol, minute, last_version);',
      );
    const earlier: Migration = { ...current, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    expect(EQUIVALENT_CHECKSUMS[5]).toContain(earlier.checksum);
    const before = all.filter((m) => m.version < 5);
    if (TEST_ENGINE === 'chdb') {
      // what current versions say of it, and why 0005 names its subqueries now
      await migrate(ch, 'of_earlier', { migrations: before });
      await writeV1Candle('of_earlier');
      await expect(migrate(ch, 'of_earlier', { migrations: [...before, earlier] })).rejects.toThrow(
        /no alias for subquery or table function/,
      );
      return;
    }
    await migrate(ch, 'of_earlier', { migrations: [...before, earlier, ...all.filter((m) => m.version === 6)] });
    expect(await migrate(ch, 'of_earlier')).toEqual({
      applied: all.filter((m) => m.version > 6).map((m) => m.version),
      skipped: all.filter((m) => m.version <= 6).map((m) => m.version),
    });
    // without the equivalence it is refused as an edited migration
    await expect(migrate(ch, 'of_earlier', { equivalentChecksums: {} })).rejects.toThrow(
      /0005_schema_v2.sql was applied with different content/,
    );
  });

  it('refuses a database name that is not an identifier before sending anything', async () => {
    await expect(migrate(ch, 'x; DROP DATABASE system')).rejects.toThrow(
      /database "x; DROP DATABASE system" must match/,
    );
  });
});
