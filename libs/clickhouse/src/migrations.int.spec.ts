/**
 * The migrations against a real ClickHouse (the Debian 18.16 here; a private server on free ports
 * in a temporary directory, so nothing collides with a running platform).
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
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
    const tables = await (await ch.query({ query: "SELECT name FROM system.tables WHERE database = 'of_migrate' ORDER BY name", format: 'JSONEachRow' })).json<{ name: string }>();
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['candles', 'candles_1m', 'candles_1d', 'footprint', 'footprint_1m', 'footprint_5m', 'footprint_5m_mv', 'instruments', 'schema_migrations', 'trades']));
    expect(tables.length).toBe(31); // 5 tables, 6 rollup tables and 6 views for footprints and for candles, 2 analyst views
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

  it('refuses a database name that is not an identifier before sending anything', async () => {
    await expect(migrate(ch, 'x; DROP DATABASE system')).rejects.toThrow(/database "x; DROP DATABASE system" must match/);
  });
});
