/**
 * The read-only analyst user on a real ClickHouse (18.16 here: users.d, no CREATE USER), and every
 * query of docs/analyst.md run verbatim as that user on a real recording, compared with the
 * footprint engine's own functions (an independent computation: the engine builds its candles
 * from the trades, the SQL reads what the store wrote).
 */
import { readFileSync } from 'node:fs';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import {
  type CandleData,
  type FootprintCandle,
  buildProfile,
  cumulativeDelta,
  formatFixed,
  imbalances,
  nakedPocs,
  profileMetrics,
  rollUp,
} from '@orderflow/footprint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnalystAdminClient, type AnalystOptions, ensureAnalystUser } from './analyst.js';
import { connectClickHouse } from './clickhouse.connection.js';
import { FootprintStore } from './footprint.store.js';
import { clickHouseDateTime } from './footprint.rows.js';
import { migrate } from './migrations.js';
import { TEST_ENGINE, onEngine } from './testing/engine.js';
import { LTC, type Recording, loadLtc, minutesOf, needsLtc } from './testing/recordings.js';

const SERVICES_URL = new URL('../../../scripts/lib/services.mjs', import.meta.url).href;
const DOC = new URL('../../../docs/analyst.md', import.meta.url).pathname;
interface Server {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}
interface ServicesModule {
  startClickHouse(o: object): Promise<Server>;
  writeAnalystUser(dataDir: string, o: AnalystOptions): string;
}

/** The queries of docs/analyst.md: a `<!-- query: name -->` line, then a ```sql block. */
function docQueries(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of readFileSync(DOC, 'utf8').matchAll(/<!-- query: ([a-z-]+) -->\n```sql\n([\s\S]*?)```/g))
    out.set(m[1]!, m[2]!);
  return out;
}

/** A client that does not log the refusals this test provokes (they are asserted instead). */
function quiet(url: string, username: string, password: string): ClickHouseClient {
  return createClient({
    url,
    username,
    password,
    compression: { request: false, response: false },
    log: { level: ClickHouseLogLevel.OFF },
  });
}

const ANALYST: AnalystOptions = {
  password: 's3cr3t',
  database: 'orderflow',
  maxExecutionSeconds: 10,
  maxResultRows: 5000,
};
const at = (ms: number) => clickHouseDateTime(ms);

describe('the analyst user and the queries of docs/analyst.md', needsLtc, () => {
  let services: ServicesModule;
  let server: Server;
  let admin: ClickHouseClient;
  let analyst: ClickHouseClient;
  let rec: Recording;
  let minutes: CandleData[];
  const queries = docQueries();
  const run = async (name: string) => {
    const sql = queries.get(name);
    if (sql === undefined) throw new Error(`docs/analyst.md has no query "${name}"`);
    return (await analyst.query({ query: sql, format: 'TabSeparated' })).text();
  };
  /** complete = 0 when [start, start + len) overlaps a recorded gap (all stored as unfilled). */
  const complete = (startMs: number, lenMs: number) =>
    rec.gaps.some((g) => startMs * 1000 <= g.toTimeUs && g.fromTimeUs < (startMs + lenMs) * 1000) ? 0 : 1;
  const tfCandles = (tf: '1h' | '4h' | '5m' | '1d'): FootprintCandle[] => rollUp(minutes, tf);

  beforeAll(async () => {
    services = (await import(SERVICES_URL)) as ServicesModule;
    server = await services.startClickHouse({ analyst: ANALYST });
    admin = connectClickHouse({ url: server.url });
    await migrate(admin, 'orderflow');
    const store = new FootprintStore(admin, 'orderflow');
    rec = loadLtc();
    minutes = minutesOf(rec.trades);
    await store.insertTrades(rec.trades);
    await store.insertMinutes(LTC.exchange, LTC.symbol, minutes);
    await store.insertGaps(
      rec.gaps.map((g) => ({
        exchange: LTC.exchange,
        symbol: LTC.symbol,
        ...g,
        detectedAtMs: 1_750_620_000_000,
        status: 'unfilled' as const,
        reason: 'recorder dropped',
      })),
    );
    await store.upsertInstruments([
      {
        exchange: LTC.exchange,
        symbol: LTC.symbol,
        priceScale: LTC.priceScale,
        quantityScale: LTC.quantityScale,
        tick: LTC.tick,
      },
    ]);
    analyst = quiet(server.url, 'analyst', ANALYST.password);
  }, 90_000);
  afterAll(async () => {
    await analyst?.close();
    await admin?.close();
    await server?.stop();
  });

  it('reads the views and tables of the platform database', async () => {
    const count = async (q: string) => (await analyst.query({ query: q, format: 'TabSeparated' })).text();
    expect(await count(`SELECT count() FROM orderflow.candles WHERE symbol = 'LTCUSDT' AND timeframe = '1h'`)).toBe(
      `${tfCandles('1h').length}\n`,
    );
    expect(await count(`SELECT count() FROM orderflow.trades`)).toBe(`${rec.trades.length}\n`);
    expect(
      await count(
        `SELECT sum(buy_trades + sell_trades) FROM orderflow.footprint WHERE symbol = 'LTCUSDT' AND timeframe = '1d'`,
      ),
    ).toBe(`${rec.trades.length}\n`);
    expect(await count(`SELECT count() FROM orderflow.gap_status WHERE status = 'unfilled'`)).toBe('25\n');
    // the profile's setting is on (18.16's default is 0)
    expect(await count(`SELECT value FROM system.settings WHERE name = 'enable_optimize_predicate_expression'`)).toBe(
      '1\n',
    );
  });

  it('cannot write, change the schema, change its limits, or read another database', async () => {
    const refused = async (query: string, why: RegExp) => expect(analyst.command({ query })).rejects.toThrow(why);
    // 18.16 names the statement ("Cannot insert into table in readonly mode"), current versions do not
    await refused(
      `INSERT INTO orderflow.gaps (exchange, symbol, from_id, to_id) VALUES ('x', 'y', '1', '2')`,
      /Cannot (insert into table|execute query) in readonly mode/,
    );
    await refused(`ALTER TABLE orderflow.trades DELETE WHERE 1`, /readonly mode/);
    await refused(`ALTER TABLE orderflow.trades ADD COLUMN x UInt8`, /readonly mode/);
    await refused(`DROP TABLE orderflow.trades`, /Cannot (drop table|execute query) in readonly mode/);
    await refused(`TRUNCATE TABLE orderflow.trades`, /readonly mode/);
    await refused(
      `CREATE TABLE orderflow.mine (a UInt8) ENGINE = Memory`,
      /Cannot (create table|execute query) in readonly mode/,
    );
    // table functions reach other hosts and files: refused under readonly = 1
    await refused(`SELECT * FROM url('http://127.0.0.1:1/', CSV, 'a String')`, /readonly mode/);
    await refused(`CREATE VIEW orderflow.mine AS SELECT 1`, /readonly mode/);
    await refused(`RENAME TABLE orderflow.trades TO orderflow.t2`, /readonly mode/);
    await refused(`SET max_result_rows = 0`, /readonly mode/);
    await expect(
      analyst.query({ query: 'SELECT 1', format: 'TabSeparated', clickhouse_settings: { max_result_rows: '0' } }),
    ).rejects.toThrow(
      // 18.16 / current wording
      /(Cannot override setting \(max_result_rows\)|Cannot modify 'max_result_rows' setting) in readonly mode/,
    );
    // the chdb front has no access control: its database restriction is the server's only (README, ClickHouse versions)
    if (TEST_ENGINE === 'server')
      await expect(
        analyst.query({ query: 'SELECT count() FROM default.anything', format: 'TabSeparated' }),
      ).rejects.toThrow(/Access denied to database default/);
    await expect(
      analyst.query({ query: `SELECT * FROM orderflow.footprint WHERE timeframe = '1m'`, format: 'TabSeparated' }),
    ).rejects.toThrow(/Limit for result exceeded, max rows: 5\.00 thousand/);
    const wrong = quiet(server.url, 'analyst', 'guess');
    await expect(wrong.query({ query: 'SELECT 1', format: 'TabSeparated' })).rejects.toThrow(
      /Wrong password for user analyst|analyst: Authentication failed/,
    );
    await wrong.close();
    // nothing changed
    expect(
      await (await admin.query({ query: 'SELECT count() FROM orderflow.trades', format: 'TabSeparated' })).text(),
    ).toBe(`${rec.trades.length}\n`);
    expect(
      await (
        await admin.query({
          query: `SELECT count() FROM system.tables WHERE database = 'orderflow'`,
          format: 'TabSeparated',
        })
      ).text(),
    ).toBe('36\n');
  });

  it('docs/analyst.md has the queries this test runs', () => {
    expect([...queries.keys()].sort()).toEqual([
      'cvd',
      'naked-pocs',
      'poc-per-day',
      'scaled',
      'stacked-imbalances',
      'value-area',
    ]);
  });

  it('scaled: the decimal columns of the views are the units over 10^scale, exactly', async () => {
    // Decimal(38, 15) as the engine prints it: 18.16 every digit of the scale, current versions
    // without trailing zeros (output_format_decimal_trailing_zeros = 0, which readonly keeps)
    const dec = (units: bigint, scale: number) => {
      const text = formatFixed(units * 10n ** BigInt(15 - scale), 15);
      return TEST_ENGINE === 'server' ? text : text.replace(/\.?0+$/, '');
    };
    const want = tfCandles('4h').map((c) => {
      const notional = c.sortedLevels().reduce((s, l) => s + BigInt(l.price) * BigInt(l.buyVolume + l.sellVolume), 0n);
      const volume = BigInt(c.volume);
      const vwap8 = (notional * 10n ** 8n) / volume; // vwap: 8 decimals of price units, towards zero
      const vwapText = formatFixed(vwap8, 8);
      return [
        at(c.openTime),
        c.close,
        dec(BigInt(c.close), LTC.priceScale),
        c.volume,
        dec(volume, LTC.quantityScale),
        TEST_ENGINE === 'server' ? vwapText : vwapText.replace(/\.?0+$/, ''),
        dec(vwap8, 8 + LTC.priceScale),
      ].join('\t');
    });
    expect(want.length).toBe(8);
    expect(await run('scaled')).toBe(want.map((l) => `${l}\n`).join(''));
  });

  it('POC per day equals profileMetrics of the engine’s day candles', async () => {
    const want = tfCandles('1d').map((c) => {
      const m = profileMetrics(buildProfile([c]));
      return `${at(c.openTime)}\t${m.poc}\t${m.pocVolume}\t${m.volume}\n`;
    });
    expect(want.length).toBe(2);
    expect(await run('poc-per-day')).toBe(want.join(''));
  });

  it('the value area (70 %) equals profileMetrics (single-level expansion)', async () => {
    const want = tfCandles('1d').map((c) => {
      const m = profileMetrics(buildProfile([c]), { valueAreaPercent: 70, valueAreaMethod: 'single' });
      expect(m.valueAreaLow).toBeLessThan(m.poc!);
      expect(m.valueAreaHigh).toBeGreaterThan(m.poc!);
      return `${at(c.openTime)}\t${m.poc}\t${m.valueAreaLow}\t${m.valueAreaHigh}\t${m.valueAreaVolume}\t${m.volume}\n`;
    });
    expect(await run('value-area')).toBe(want.join(''));
  });

  it('CVD per minute over a day equals cumulativeDelta of the day’s 1m candles', async () => {
    const dayStart = Date.UTC(2025, 5, 22);
    const day = minutes.filter((c) => c.openTime >= dayStart && c.openTime < dayStart + 86_400_000);
    const want = cumulativeDelta(day).map(
      (p) => `${at(p.openTime)}\t${p.delta}\t${p.cvd}\t${p.cvdHigh}\t${p.cvdLow}\t${complete(p.openTime, 60_000)}\n`,
    );
    expect(want.length).toBeGreaterThan(1000);
    expect(want.filter((l) => l.endsWith('\t0\n')).length).toBeGreaterThan(10);
    expect(await run('cvd')).toBe(want.join(''));
  });

  it('stacked imbalances of the last hour equal the engine’s imbalances() stacks', async () => {
    const lastMinute = minutes.at(-1)!.openTime;
    const want = tfCandles('5m')
      .filter((c) => c.openTime >= lastMinute + 60_000 - 3_600_000)
      .flatMap((c) =>
        imbalances(c, { ratio: 3, stackCount: 3 }).stacked.map(
          (s) => `${at(c.openTime)}\t${s.side}\t${s.low}\t${s.high}\t${s.count}\t${complete(c.openTime, 300_000)}\n`,
        ),
      );
    expect(want.length).toBeGreaterThan(5);
    expect(await run('stacked-imbalances')).toBe(want.join(''));
  });

  it('naked POCs near the last price equal nakedPocs() of the engine’s hourly candles', async () => {
    const last = minutes.at(-1)!.close;
    const want = nakedPocs(tfCandles('1h'))
      .filter((n) => Math.abs(n.poc - last) <= 300)
      .sort((a, b) => Math.abs(a.poc - last) - Math.abs(b.poc - last) || a.openTime - b.openTime)
      .map((n) => `${at(n.openTime)}\t${n.poc}\t${last}\t${n.poc - last}\n`);
    expect(want.length).toBeGreaterThan(2);
    expect(await run('naked-pocs')).toBe(want.join(''));
  });

  // clickhouse-local, which chdb is, keeps no SQL-created users, so CREATE USER cannot run there:
  // what a current server gets from ensureAnalystUser is at least checked by its parser
  onEngine('chdb').it(
    'the settings profile, user, grants and quota that ensureAnalystUser sends parse on the current engine',
    async () => {
      const sent: string[] = [];
      const [row] = await (
        await admin.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
      ).json<{ v: string }>();
      const recorder: AnalystAdminClient = {
        command: async ({ query }) => void sent.push(query),
        query: async ({ query }) => ({ json: async <T>() => (query.includes('version()') ? [row] : []) as T[] }),
      };
      const r = await ensureAnalystUser(recorder, ANALYST);
      expect(r.version).toMatch(/^2\d\./);
      expect(sent.map((q) => q.split(' ').slice(0, 2).join(' '))).toEqual([
        'CREATE SETTINGS',
        'ALTER SETTINGS',
        'CREATE USER',
        'ALTER USER',
        'REVOKE ALL',
        'GRANT SELECT',
        'CREATE QUOTA',
        'ALTER QUOTA',
      ]);
      for (const q of sent)
        expect(await (await admin.query({ query: `EXPLAIN AST ${q}`, format: 'TabSeparated' })).text()).toMatch(
          /^(CreateSettingsProfileQuery|CreateUserQuery|GrantQuery|RevokeQuery|CreateQuotaQuery)/,
        );
    },
  );

  // users.d is how 18.16 defines users; the chdb front takes its users when it starts
  onEngine('server').it('takes a changed users.d file (new password, 1 s time limit) without a restart', async () => {
    const file = services.writeAnalystUser(server.dataDir, { ...ANALYST, password: 'n3w', maxExecutionSeconds: 1 });
    expect(file).toBe(`${server.dataDir}/users.d/analyst.xml`);
    const renewed = quiet(server.url, 'analyst', 'n3w');
    try {
      const deadline = Date.now() + 30_000;
      let answer = '';
      while (Date.now() < deadline) {
        answer = await renewed.query({ query: 'SELECT 1', format: 'TabSeparated' }).then(
          (r) => r.text(),
          (e: Error) => e.message,
        );
        if (answer === '1\n') break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(answer).toBe('1\n');
      await expect(analyst.query({ query: 'SELECT 1', format: 'TabSeparated' })).rejects.toThrow(
        /Wrong password for user analyst/,
      );
      const started = Date.now();
      await expect(
        renewed.query({
          query: 'SELECT count() FROM (SELECT number FROM system.numbers LIMIT 100000000000)',
          format: 'TabSeparated',
        }),
      ).rejects.toThrow(/Timeout exceeded: elapsed 1\.\d+ seconds, maximum: 1/);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await renewed.close();
    }
  });
});
