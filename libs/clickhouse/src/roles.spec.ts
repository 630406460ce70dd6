import { describe, expect, it } from 'vitest';
import {
  CLICKHOUSE_ROLES,
  type ClickHouseRole,
  type DefaultUserOptions,
  ROLE_CONSTRAINTS,
  ROLE_GRANTS,
  ROLE_PROFILES,
  ROLE_QUOTAS,
  ROLE_USERS,
  type RoleUserOptions,
  defaultUserXml,
  roleStatements,
  roleUsersXml,
} from './roles.js';

interface RolesModule {
  CLICKHOUSE_ROLES: unknown;
  ROLE_USERS: unknown;
  ROLE_PROFILES: unknown;
  ROLE_QUOTAS: unknown;
  roleUsersXml(o: RoleUserOptions): string;
  defaultUserXml(o: DefaultUserOptions): string;
  ensureClickHousePasswords(dir: string): Record<string, string>;
}
const ROLES_URL = new URL('../../../scripts/lib/clickhouse-roles.mjs', import.meta.url).href;

describe('the role tables (issue 18: the decided roles)', () => {
  it('name the users and rights as decided', () => {
    expect(ROLE_USERS).toEqual({
      migrator: 'orderflow_migrator',
      writer: 'orderflow_writer',
      reader: 'orderflow_reader',
      analyst: 'analyst',
    });
    expect(ROLE_GRANTS.reader).toEqual(['SELECT']);
    expect(ROLE_GRANTS.analyst).toEqual(['SELECT']);
    expect(ROLE_GRANTS.writer).toEqual(['SELECT', 'INSERT']);
    expect([...ROLE_GRANTS.migrator].sort()).toEqual([
      'ALTER',
      'CREATE',
      'DROP',
      'INSERT',
      'OPTIMIZE',
      'SELECT',
      'SHOW',
      'TRUNCATE',
    ]);
  });

  it('give every role the decided profile settings', () => {
    expect(ROLE_PROFILES.migrator).toMatchObject({ readonly: 0, allow_ddl: 1 });
    expect(ROLE_PROFILES.writer).toMatchObject({ readonly: 0, allow_ddl: 0, max_execution_time: 60 });
    expect(ROLE_PROFILES.reader).toMatchObject({
      readonly: 2,
      allow_ddl: 0,
      max_execution_time: 30,
      max_concurrent_queries_for_user: 8,
      max_memory_usage: 2_000_000_000,
    });
    expect(ROLE_PROFILES.analyst).toMatchObject({ readonly: 1, result_overflow_mode: 'throw' });
    for (const k of ['max_execution_time', 'max_result_rows', 'max_memory_usage'])
      expect(ROLE_PROFILES.analyst[k]).toBeGreaterThan(0);
  });

  it('constrain every limit of the analyst, and readonly itself', () => {
    for (const k of ['readonly', 'max_execution_time', 'max_result_rows', 'result_overflow_mode', 'max_memory_usage'])
      expect(ROLE_CONSTRAINTS.analyst[k]).toEqual({ readonly: true });
    // the reader may lower its limits per query, never raise them, nor take more query slots
    expect(ROLE_CONSTRAINTS.reader.max_concurrent_queries_for_user).toEqual({ readonly: true });
    expect(ROLE_CONSTRAINTS.reader.max_execution_time?.max).toBe(30);
    expect(ROLE_CONSTRAINTS.reader.max_memory_usage?.max).toBe(2_000_000_000);
  });

  it('give the reader and the analyst an hourly quota on queries, rows read and execution time', () => {
    for (const r of ['reader', 'analyst'] as const) {
      const q = ROLE_QUOTAS[r]!;
      expect(q.durationSeconds).toBe(3600);
      expect(q.queries).toBeGreaterThan(0);
      expect(q.readRows).toBeGreaterThan(0);
      expect(q.executionTimeSeconds).toBeGreaterThan(0);
    }
    // a dashboard polling every second all hour stays far inside the reader's quota
    expect(ROLE_QUOTAS.reader!.queries).toBeGreaterThanOrEqual(10 * 3600);
  });
});

describe('roleUsersXml (users.d, ClickHouse 18.16)', () => {
  const reader: RoleUserOptions = { role: 'reader', password: 'r3ader', database: 'orderflow' };

  it('defines the reader: readonly 2, its limits, its quota, only the platform database, loopback, the password as SHA-256', () => {
    const xml = roleUsersXml(reader);
    // sha256("r3ader"), computed with sha256sum
    expect(xml).toContain(
      '<password_sha256_hex>1c73f3b02766dfd970d68de58e2044217b1b4c78e24a0fb3ee6957ea51fcf21f</password_sha256_hex>',
    );
    expect(xml).not.toContain('r3ader');
    const profile = /<profiles>\n {8}<orderflow_reader>\n([\s\S]*?) {8}<\/orderflow_reader>/.exec(xml)![1];
    expect(profile).toBe(
      [
        '<readonly>2</readonly>',
        '<allow_ddl>0</allow_ddl>',
        '<max_execution_time>30</max_execution_time>',
        '<max_concurrent_queries_for_user>8</max_concurrent_queries_for_user>',
        '<max_memory_usage>2000000000</max_memory_usage>',
      ]
        .map((l) => `            ${l}\n`)
        .join(''),
    );
    for (const s of [
      '<profile>orderflow_reader</profile>',
      '<quota>orderflow_reader</quota>',
      '<database>orderflow</database>',
      '<ip>::1</ip>',
      '<ip>127.0.0.1</ip>',
      '<duration>3600</duration>',
      '<queries>360000</queries>',
    ]) {
      expect(xml).toContain(s);
    }
    expect(xml).not.toContain('constraints'); // 18.16 refuses an unknown element in a profile
  });

  it('gives the writer and migrator the default quota and no DDL for the writer', () => {
    const w = roleUsersXml({ role: 'writer', password: 'w', database: 'of_x' });
    expect(w).toContain('<allow_ddl>0</allow_ddl>');
    expect(w).toContain('<quota>default</quota>');
    expect(w).not.toContain('<quotas>');
    expect(w).toContain(
      '<allow_databases>\n                <database>of_x</database>\n            </allow_databases>\n        </orderflow_writer>',
    );
    expect(roleUsersXml({ role: 'writer', password: 'w', database: 'of_x', anyDatabase: true })).not.toContain(
      'allow_databases',
    );
    expect(roleUsersXml({ role: 'migrator', password: 'm', database: 'of_x' })).toContain('<allow_ddl>1</allow_ddl>');
  });

  it('refuses what would not be a valid, safe file', () => {
    expect(() => roleUsersXml({ ...reader, role: 'admin' as ClickHouseRole })).toThrow(
      /role "admin" must be one of migrator, writer, reader, analyst/,
    );
    expect(() => roleUsersXml({ ...reader, password: '' })).toThrow(/reader password must be a non-empty string/);
    expect(() => roleUsersXml({ ...reader, database: 'a</database>' })).toThrow(/database "a<\/database>" must match/);
    expect(() => roleUsersXml({ ...reader, user: 'x y' })).toThrow(/reader user "x y" must match/);
    expect(() => roleUsersXml({ ...reader, networks: ['any'] })).toThrow(
      /must be an IPv4\/IPv6 address or CIDR network/,
    );
    expect(() => roleUsersXml({ ...reader, settings: { max_execution_time: -1 } })).toThrow(
      /setting max_execution_time must be a non-negative integer or a word/,
    );
    expect(() => roleUsersXml({ ...reader, settings: { 'x>': 1 } })).toThrow(/setting name "x>" must match/);
    expect(() => roleUsersXml({ ...reader, quota: { queries: 1.5 } })).toThrow(
      /quota queries must be a non-negative integer/,
    );
    expect(() => roleUsersXml({ role: 'writer', password: 'w', database: 'd', quota: { queries: 1 } })).toThrow(
      /the writer role has no quota to change/,
    );
    expect(() => roleUsersXml({ ...reader, cluster: true })).toThrow(/only the migrator runs ON CLUSTER/);
  });
});

describe('defaultUserXml', () => {
  it('locks `default` to loopback with a password stored as SHA-256', () => {
    const xml = defaultUserXml({ password: 'd3fault' });
    // sha256("d3fault"), computed with sha256sum
    expect(xml).toContain(
      '<password_sha256_hex>4eac81f00de6ccc2154e97d8e6ee66770ee2f64c84cf0d497af503e0a229fba6</password_sha256_hex>',
    );
    expect(xml).toContain(
      '<networks>\n                <ip>::1</ip>\n                <ip>127.0.0.1</ip>\n            </networks>',
    );
    expect(xml).not.toContain('<password>');
    expect(() => defaultUserXml({ password: '' })).toThrow(/default password must be a non-empty string/);
  });
});

describe('roleStatements (SQL access control, current versions)', () => {
  it('creates the analyst with a constrained profile, SELECT on the database only, and a quota', () => {
    const s = roleStatements({
      role: 'analyst',
      password: 'r3ader',
      database: 'of_x',
      settings: { max_execution_time: 30, max_result_rows: 500 },
    });
    const profile =
      "SETTINGS readonly = 1 CONST, allow_ddl = 0 CONST, max_execution_time = 30 CONST, max_result_rows = 500 CONST, result_overflow_mode = 'throw' CONST, max_memory_usage = 4000000000 CONST, enable_optimize_predicate_expression = 1";
    const user =
      "IDENTIFIED WITH sha256_hash BY '1c73f3b02766dfd970d68de58e2044217b1b4c78e24a0fb3ee6957ea51fcf21f' HOST IP '::1', IP '127.0.0.1' DEFAULT DATABASE of_x SETTINGS PROFILE 'analyst'";
    const quota =
      'FOR INTERVAL 3600 second MAX queries = 2000, read_rows = 20000000000, execution_time = 3600 TO analyst';
    expect(s).toEqual([
      `CREATE SETTINGS PROFILE IF NOT EXISTS analyst ${profile}`,
      `ALTER SETTINGS PROFILE analyst ${profile}`,
      `CREATE USER IF NOT EXISTS analyst ${user}`,
      `ALTER USER analyst ${user}`,
      'REVOKE ALL ON *.* FROM analyst',
      'GRANT SELECT ON of_x.* TO analyst',
      `CREATE QUOTA IF NOT EXISTS analyst ${quota}`,
      `ALTER QUOTA analyst ${quota}`,
    ]);
  });

  it('bounds the reader’s limits and gives the migrator CLUSTER only with a cluster', () => {
    const r = roleStatements({ role: 'reader', password: 'p', database: 'orderflow' });
    expect(r[0]).toContain(
      'max_execution_time = 30 MIN 1 MAX 30, max_concurrent_queries_for_user = 8 CONST, max_memory_usage = 2000000000 MIN 1 MAX 2000000000',
    );
    expect(r).toContain('GRANT SELECT ON orderflow.* TO orderflow_reader');
    expect(roleStatements({ role: 'reader', password: 'p', database: 'orderflow', anyDatabase: true })).toContain(
      'GRANT SELECT ON *.* TO orderflow_reader',
    );
    expect(roleStatements({ role: 'writer', password: 'p', database: 'orderflow' })).toContain(
      'GRANT SELECT, INSERT ON orderflow.* TO orderflow_writer',
    );
    const m = roleStatements({ role: 'migrator', password: 'p', database: 'orderflow', cluster: true });
    expect(m).toContain(
      'GRANT CREATE, ALTER, DROP, SELECT, INSERT, OPTIMIZE, TRUNCATE, SHOW ON orderflow.* TO orderflow_migrator',
    );
    expect(m.at(-1)).toBe('GRANT CLUSTER ON *.* TO orderflow_migrator');
    expect(
      roleStatements({ role: 'migrator', password: 'p', database: 'orderflow' }).some((q) => q.includes('CLUSTER')),
    ).toBe(false);
  });
});

describe('scripts/lib/clickhouse-roles.mjs (the set-up’s copy)', () => {
  it('has the same tables and writes the same files', async () => {
    const js = (await import(ROLES_URL)) as RolesModule;
    expect(js.CLICKHOUSE_ROLES).toEqual(CLICKHOUSE_ROLES);
    expect(js.ROLE_USERS).toEqual(ROLE_USERS);
    expect(js.ROLE_PROFILES).toEqual(ROLE_PROFILES);
    expect(js.ROLE_QUOTAS).toEqual(ROLE_QUOTAS);
    const cases: RoleUserOptions[] = [
      ...CLICKHOUSE_ROLES.map((role) => ({ role, password: 'p@ss\'<w>&"ord', database: 'orderflow' })),
      {
        role: 'reader',
        password: 'x',
        database: 'of_1',
        user: 'gw',
        networks: ['10.0.0.0/8'],
        quota: { queries: 5 },
        settings: { max_execution_time: 5 },
      },
      { role: 'migrator', password: 'x', database: 'of_1', cluster: true },
      { role: 'writer', password: 'x', database: 'of_1', anyDatabase: true },
    ];
    for (const o of cases) expect(js.roleUsersXml(o)).toBe(roleUsersXml(o));
    expect(js.defaultUserXml({ password: 'd' })).toBe(defaultUserXml({ password: 'd' }));
    expect(js.defaultUserXml({ password: 'd', networks: ['::/0'] })).toBe(
      defaultUserXml({ password: 'd', networks: ['::/0'] }),
    );
    for (const bad of [
      { role: 'reader', password: '', database: 'd' },
      { role: 'reader', password: 'p', database: 'x;y' },
      { role: 'reader', password: 'p', database: 'd', networks: ['any'] },
      { role: 'root', password: 'p', database: 'd' },
    ] as RoleUserOptions[]) {
      expect(() => js.roleUsersXml(bad)).toThrow();
      expect(() => roleUsersXml(bad)).toThrow();
    }
  });
});
