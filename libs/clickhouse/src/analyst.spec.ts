import { describe, expect, it } from 'vitest';
import { type AnalystAdminClient, type AnalystOptions, analystUsersXml, ensureAnalystUser } from './analyst.js';

interface ServicesModule {
  analystUsersXml(o: AnalystOptions): string;
}
const SERVICES_URL = new URL('../../../scripts/lib/services.mjs', import.meta.url).href;

const opts: AnalystOptions = {
  password: 'analyst',
  database: 'orderflow',
  maxExecutionSeconds: 60,
  maxResultRows: 1_000_000,
};

describe('analystUsersXml', () => {
  it('defines a readonly user with limits, its password as SHA-256, only the platform database, loopback only', () => {
    const xml = analystUsersXml(opts);
    // sha256("analyst"), computed outside this code (sha256sum)
    expect(xml).toContain(
      '<password_sha256_hex>f44ceb062e35dfeea6ed7f8524d53bb0bff19f553e25cae7ef4850e4185ccbba</password_sha256_hex>',
    );
    expect(xml).not.toContain('>analyst</password');
    for (const s of [
      '<readonly>1</readonly>',
      '<max_execution_time>60</max_execution_time>',
      '<max_result_rows>1000000</max_result_rows>',
      '<result_overflow_mode>throw</result_overflow_mode>',
      '<enable_optimize_predicate_expression>1</enable_optimize_predicate_expression>',
      '<database>orderflow</database>',
      '<profile>analyst</profile>',
      '<ip>::1</ip>',
      '<ip>127.0.0.1</ip>',
      '<max_memory_usage>4000000000</max_memory_usage>',
      '<quota>analyst</quota>',
    ]) {
      expect(xml).toContain(s);
    }
    expect(xml.startsWith('<?xml version="1.0"?>\n')).toBe(true);
    expect(analystUsersXml({ ...opts, networks: ['10.0.0.0/8'] })).toContain(
      '<networks>\n                <ip>10.0.0.0/8</ip>\n            </networks>',
    );
  });

  it('refuses what would not be a valid, safe file', () => {
    expect(() => analystUsersXml({ ...opts, password: '' })).toThrow(/password must be a non-empty string/);
    expect(() => analystUsersXml({ ...opts, database: 'of</database>' })).toThrow(
      /database "of<\/database>" must match/,
    );
    expect(() => analystUsersXml({ ...opts, user: 'x y' })).toThrow(/analyst user "x y" must match/);
    expect(() => analystUsersXml({ ...opts, maxResultRows: 0 })).toThrow(/maxResultRows must be a positive integer/);
    expect(() => analystUsersXml({ ...opts, maxExecutionSeconds: 1.5 })).toThrow(
      /maxExecutionSeconds must be a positive integer/,
    );
    expect(() => analystUsersXml({ ...opts, networks: ['<ip>any</ip>'] })).toThrow(
      /must be an IPv4\/IPv6 address or CIDR network/,
    );
    expect(() => analystUsersXml({ ...opts, networks: [] })).toThrow(/must not be empty/);
  });

  it('is the same file scripts/lib/services.mjs writes (its copy of this function)', async () => {
    const services = (await import(SERVICES_URL)) as ServicesModule;
    const cases: AnalystOptions[] = [
      opts,
      { password: 'p@ss\'<w>&"ord', database: 'of_analyst', maxExecutionSeconds: 3, maxResultRows: 5000 },
      { ...opts, user: 'reader', networks: ['::/0', '192.168.1.7'] },
    ];
    for (const o of cases) expect(services.analystUsersXml(o)).toBe(analystUsersXml(o));
    for (const bad of [
      { ...opts, password: '' },
      { ...opts, database: 'x;y' },
      { ...opts, networks: ['any'] },
    ]) {
      expect(() => services.analystUsersXml(bad)).toThrow();
    }
  });
});

describe('ensureAnalystUser (SQL access control, ClickHouse 20.4+)', () => {
  const fake = (version: string, storage: string[] = []) => {
    const commands: string[] = [];
    const ch: AnalystAdminClient = {
      command: async ({ query }) => {
        commands.push(query);
      },
      query: async ({ query }) => ({
        json: async <T>() =>
          (query.startsWith('SELECT version()') ? [{ v: version }] : storage.map((s) => ({ storage: s }))) as T[],
      }),
    };
    return { ch, commands };
  };

  it('does nothing on 18.16 (no CREATE USER) nor before 20.4', async () => {
    for (const v of ['18.16.1', '19.17.4.11', '20.3.21.2']) {
      const { ch, commands } = fake(v);
      const r = await ensureAnalystUser(ch, opts);
      expect(r.statements).toEqual([]);
      expect(r.skipped).toMatch(
        /has no CREATE USER \(access control came in 20\.4\): use analystUsersXml\(\) in users\.d/,
      );
      expect(commands).toEqual([]);
    }
  });

  it('creates a constrained profile, the user, SELECT on the database only and a quota on a current version', async () => {
    const { ch, commands } = fake('24.8.4.13');
    const r = await ensureAnalystUser(ch, {
      ...opts,
      password: 's3cr3t',
      database: 'of_x',
      maxExecutionSeconds: 30,
      maxResultRows: 500,
    });
    // sha256("s3cr3t") from sha256sum; every limit CONST, so that SET/SETTINGS x = DEFAULT cannot lift it
    const profile =
      "SETTINGS readonly = 1 CONST, allow_ddl = 0 CONST, max_execution_time = 30 CONST, max_result_rows = 500 CONST, result_overflow_mode = 'throw' CONST, max_memory_usage = 4000000000 CONST, enable_optimize_predicate_expression = 1";
    const user =
      "IDENTIFIED WITH sha256_hash BY '4e738ca5563c06cfd0018299933d58db1dd8bf97f6973dc99bf6cdc64b5550bd' HOST IP '::1', IP '127.0.0.1' DEFAULT DATABASE of_x SETTINGS PROFILE 'analyst'";
    const quota =
      'FOR INTERVAL 3600 second MAX queries = 2000, read_rows = 20000000000, execution_time = 3600 TO analyst';
    expect(commands).toEqual([
      `CREATE SETTINGS PROFILE IF NOT EXISTS analyst ${profile}`,
      `ALTER SETTINGS PROFILE analyst ${profile}`,
      `CREATE USER IF NOT EXISTS analyst ${user}`,
      `ALTER USER analyst ${user}`,
      'REVOKE ALL ON *.* FROM analyst',
      'GRANT SELECT ON of_x.* TO analyst',
      `CREATE QUOTA IF NOT EXISTS analyst ${quota}`,
      `ALTER QUOTA analyst ${quota}`,
    ]);
    expect(r).toEqual({ version: '24.8.4.13', statements: commands });
  });

  it('leaves a user defined in the XML configuration alone', async () => {
    const { ch, commands } = fake('23.8.1', ['users_xml']);
    expect((await ensureAnalystUser(ch, opts)).skipped).toMatch(/defined in the server's XML users configuration/);
    expect(commands).toEqual([]);
  });

  it('refuses an unreadable version', async () => {
    await expect(ensureAnalystUser(fake('unknown').ch, opts)).rejects.toThrow(/cannot read the ClickHouse version/);
  });
});
