/**
 * The migrations against a real ClickHouse (the Debian 18.16 here; a private server on free ports
 * in a temporary directory, so nothing collides with a running platform).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { formatFixed } from '@orderflow/footprint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClickHouse } from './clickhouse.connection.js';
import { MIGRATIONS_DIR, loadMigrations, migrate } from './migrations.js';
import { quoteString } from './sql.js';

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
    await expect(migrate(ch, 'of_migrate', { cluster: 'orderflow' })).rejects.toThrow(/created on a single node: its tables are not replicated/);
    const tables = await (await ch.query({ query: "SELECT name FROM system.tables WHERE database = 'of_migrate' ORDER BY name", format: 'JSONEachRow' })).json<{ name: string }>();
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['candles', 'candles_1m', 'candles_1d', 'footprint', 'footprint_1m', 'footprint_5m', 'footprint_5m_mv', 'instruments', 'schema_migrations', 'trades']));
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['gaps', 'gap_minutes', 'gap_status', 'incomplete_minutes']));
    expect(tables.map((t) => t.name)).toContain('footprint_1m_wire');
    // 5 tables, 6 rollup tables and 6 views for footprints and for candles, 2 analyst views; v2: 2 gap tables and their 2 views; v3: footprint_1m_wire
    expect(tables.length).toBe(36);
  });

  it('refuses a migration whose content changed after it was applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orderflow-migrations-'));
    try {
      for (const m of loadMigrations()) copyFileSync(MIGRATIONS_DIR + m.file, join(dir, m.file));
      await migrate(ch, 'of_changed', { migrations: loadMigrations(`${dir}/`) });
      writeFileSync(join(dir, '0001_core.sql'), `-- edited\n${loadMigrations()[0]!.sql}`);
      await expect(migrate(ch, 'of_changed', { migrations: loadMigrations(`${dir}/`) })).rejects.toThrow(/0001_core.sql was applied with different content/);
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
    for (let i = 0; i < 1000; i += 300) await ch.insert({ table: 'of_trades.trades', values: rows.slice(i, i + 300), format: 'JSONEachRow' });
    const [r] = await (
      await ch.query({ query: `SELECT count() AS n, sum(quantity) AS q FROM of_trades.trades FINAL WHERE symbol = ${quoteString('BTCUSDT')}`, format: 'JSONEachRow' })
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
    await ch.command({ query: `INSERT INTO ${db}.trades VALUES ('binance', 'LTCUSDT', '100', 8329, 107, 'b', 1750507500001345, 1750507500002)` });
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
      await expect(migrate(ch, db, { migrations: loadMigrations(`${dir}/`) })).rejects.toThrow(/0005_schema_v2.sql, statement \d+ of \d+ failed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const names = async () => (await (await ch.query({ query: `SELECT name FROM system.tables WHERE database = '${db}' ORDER BY name`, format: 'JSONEachRow' })).json<{ name: string }>()).map((t) => t.name);
    expect(await names()).toEqual(expect.arrayContaining(['candles_1m_v1', 'trades']));
    expect(await names()).not.toContain('candles_1m');

    expect(await migrate(ch, db)).toEqual({ applied: [5, 6], skipped: [1, 2, 3, 4] });
    expect(await names()).not.toContain('candles_1m_v1');
    expect(await names()).not.toContain('trades_v1');
    const text = async (query: string) => (await ch.query({ query, format: 'TabSeparated', clickhouse_settings: { enable_optimize_predicate_expression: 1 } })).text();
    const snapshot = async () => ({
      trades: await text(`SELECT trade_id, price, quantity, side, exchange_time_us, ingest_seq FROM ${db}.trades ORDER BY trade_id, exchange_time_us`),
      candles1m: await text(`SELECT minute, version, notional FROM ${db}.candles_1m ORDER BY minute, version`),
      candles: await text(`SELECT timeframe, bucket, open, high, low, close, volume, trades, notional, vwap, complete FROM ${db}.candles ORDER BY timeframe, bucket`),
    });
    const after = await snapshot();
    // one row per trade id (the v1 copy with the largest values), before anything new: ingest_seq 0
    expect(after.trades).toBe('100\t8329\t107\tb\t1750507500001345\t0\n101\t8328\t229\ts\t1750507500002000\t0\n');
    // the latest version of each minute, its notional from that version's cells: 8329 * 107 + 8328 * 229 = 2,798,315
    expect(after.candles1m).toBe(`${M}\t2\t2798315\n2025-06-21 12:06:00\t1\t41650\n`);
    const vwap = (n: bigint, v: bigint) => formatFixed((n * 10n ** 8n) / v, 8);
    expect(vwap(2_798_315n, 336n)).toBe('8328.31845238');
    const row = (tf: string, b: string, o: number, h: number, l: number, c: number, v: number, t: number, n: bigint) => `${tf}\t${b}\t${o}\t${h}\t${l}\t${c}\t${v}\t${t}\t${n}\t${vwap(n, BigInt(v))}\t1\n`;
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
    expect(await migrate(ch, db, { migrations: [...loadMigrations(), { ...again, version: 99, name: 'again', file: '0099_again.sql' }] })).toEqual({ applied: [99], skipped: [1, 2, 3, 4, 5, 6] });
    expect(await snapshot()).toEqual(after);
  });

  it('refuses a database name that is not an identifier before sending anything', async () => {
    await expect(migrate(ch, 'x; DROP DATABASE system')).rejects.toThrow(/database "x; DROP DATABASE system" must match/);
  });
});
