/**
 * The platform's ClickHouse users, one per role, defined once (issue 18 parts 1, 2 and 6):
 *
 * | role     | user (default)        | used by                                   | rights on <db>.* (current versions)                          |
 * |----------|-----------------------|-------------------------------------------|--------------------------------------------------------------|
 * | migrator | orderflow_migrator    | schema migrations (start-up or the Job)   | CREATE, ALTER, DROP, SELECT, INSERT, OPTIMIZE, TRUNCATE, SHOW |
 * | writer   | orderflow_writer      | the aggregator (FootprintStore)           | SELECT, INSERT                                               |
 * | reader   | orderflow_reader      | the gateway (internet-facing)             | SELECT                                                       |
 * | analyst  | analyst               | people (docs/analyst.md)                  | SELECT                                                       |
 *
 * `default` is used by nobody: loopback only, with a generated password (defaultUserXml).
 *
 * Two ways to put them on a server:
 * - ClickHouse 18.16 has no access control statements: users live in XML (users.d), and rights
 *   are readonly / allow_ddl / allow_databases of the user and its profile; quotas are XML too.
 *   roleUsersXml() writes such a file (root element `<yandex>`, which current versions still read).
 *   18.16 rejects an unknown element inside a profile, so that file has no `<constraints>`:
 *   on 18.16 a readonly = 2 user (the reader) may change its own limits per query.
 * - Current versions (access control since 20.4, settings constraints since 19.14):
 *   roleStatements() gives CREATE SETTINGS PROFILE (every constraint of ROLE_CONSTRAINTS as
 *   CONST / MIN / MAX), CREATE USER, REVOKE ALL + GRANT, CREATE QUOTA.
 *
 * ROLE_PROFILES, ROLE_CONSTRAINTS, ROLE_QUOTAS and ROLE_GRANTS are the tables both of those and
 * the Helm chart's users are checked against.
 *
 * scripts/lib/services.mjs has its own copy of roleUsersXml and defaultUserXml (it runs before
 * `npm ci`); roles.spec.ts keeps the two identical.
 */
import { createHash } from 'node:crypto';
import { assertIdentifier, quoteString } from './sql.js';

export type ClickHouseRole = 'migrator' | 'writer' | 'reader' | 'analyst';
export const CLICKHOUSE_ROLES: readonly ClickHouseRole[] = ['migrator', 'writer', 'reader', 'analyst'];

/** Default user name of each role. */
export const ROLE_USERS: Readonly<Record<ClickHouseRole, string>> = {
  migrator: 'orderflow_migrator',
  writer: 'orderflow_writer',
  reader: 'orderflow_reader',
  analyst: 'analyst',
};

export type SettingValue = number | string;

/**
 * Profile settings of each role (the analyst's max_execution_time and max_result_rows are its
 * defaults: docs/analyst.md; AnalystOptions may change them).
 * - readonly: 0 all queries; 1 read queries only and no setting may change; 2 read queries, and
 *   settings may change per query except readonly (the gateway sends settings with its reads).
 * - allow_ddl 0: no CREATE/ALTER/DROP/RENAME/TRUNCATE, whatever readonly says.
 * - max_concurrent_queries_for_user: the gateway's reads can never take every query slot of the
 *   server (max_concurrent_queries, 100 locally) from the aggregator's writes.
 * - enable_optimize_predicate_expression = 1: the analyst's views need it on 18.16 (off by default there).
 */
export const ROLE_PROFILES: Readonly<Record<ClickHouseRole, Readonly<Record<string, SettingValue>>>> = {
  migrator: { readonly: 0, allow_ddl: 1 },
  writer: { readonly: 0, allow_ddl: 0, max_execution_time: 60 },
  reader: {
    readonly: 2,
    allow_ddl: 0,
    max_execution_time: 30,
    max_concurrent_queries_for_user: 8,
    max_memory_usage: 2_000_000_000,
  },
  analyst: {
    readonly: 1,
    allow_ddl: 0,
    max_execution_time: 60,
    max_result_rows: 1_000_000,
    result_overflow_mode: 'throw',
    max_memory_usage: 4_000_000_000,
    enable_optimize_predicate_expression: 1,
  },
};

/** A settings constraint (current versions): the value cannot be changed, or only within [min, max]. */
export interface SettingConstraint {
  readonly?: true;
  min?: number;
  max?: number;
}

/**
 * Settings constraints of each role's profile (current versions; 18.16 has none). They make the
 * limits hold against `SET x = ...`, `SET x = DEFAULT` and `SETTINGS x = DEFAULT` (readonly = 1
 * alone let a current server take `SELECT ... SETTINGS max_result_rows = DEFAULT`).
 * The reader may lower its time and memory limits per query (the gateway sends
 * max_execution_time with each read) but not raise them.
 */
export const ROLE_CONSTRAINTS: Readonly<Record<ClickHouseRole, Readonly<Record<string, SettingConstraint>>>> = {
  migrator: {},
  writer: { allow_ddl: { readonly: true } },
  reader: {
    readonly: { readonly: true },
    allow_ddl: { readonly: true },
    max_concurrent_queries_for_user: { readonly: true },
    max_execution_time: { min: 1, max: 30 },
    max_memory_usage: { min: 1, max: 2_000_000_000 },
  },
  analyst: {
    readonly: { readonly: true },
    allow_ddl: { readonly: true },
    max_execution_time: { readonly: true },
    max_result_rows: { readonly: true },
    result_overflow_mode: { readonly: true },
    max_memory_usage: { readonly: true },
  },
};

/** A quota of one interval; 0 means no limit on that figure. */
export interface QuotaLimits {
  durationSeconds: number;
  queries: number;
  errors: number;
  resultRows: number;
  readRows: number;
  executionTimeSeconds: number;
}

/**
 * Quotas per user and hour. The reader's: a dashboard asks a few reads per view and a few per
 * second while scrolling; 360,000 queries is 100 a second all hour, and 4 query-hours of
 * execution is half of what 8 concurrent queries could take. The analyst's: generous for people,
 * small against a loop. The writer and migrator have none (the server's `default` quota, which
 * only counts).
 */
export const ROLE_QUOTAS: Readonly<Record<ClickHouseRole, QuotaLimits | null>> = {
  migrator: null,
  writer: null,
  reader: {
    durationSeconds: 3600,
    queries: 360_000,
    errors: 0,
    resultRows: 0,
    readRows: 100_000_000_000,
    executionTimeSeconds: 14_400,
  },
  analyst: {
    durationSeconds: 3600,
    queries: 2_000,
    errors: 0,
    resultRows: 0,
    readRows: 20_000_000_000,
    executionTimeSeconds: 3_600,
  },
};

/** Privileges on <db>.* on a current version (GRANT ... ON <db>.*). */
export const ROLE_GRANTS: Readonly<Record<ClickHouseRole, readonly string[]>> = {
  // CREATE on <db>.* includes CREATE DATABASE <db> (migrate() runs CREATE DATABASE IF NOT EXISTS)
  migrator: ['CREATE', 'ALTER', 'DROP', 'SELECT', 'INSERT', 'OPTIMIZE', 'TRUNCATE', 'SHOW'],
  // FootprintStore runs INSERTs and SELECTs only (no ALTER ... DELETE, no OPTIMIZE)
  writer: ['SELECT', 'INSERT'],
  reader: ['SELECT'],
  analyst: ['SELECT'],
};

export interface RoleUserOptions {
  role: ClickHouseRole;
  password: string;
  /** The platform database (CLICKHOUSE_DATABASE): the only one the user may use. */
  database: string;
  /** User name (default ROLE_USERS[role]). */
  user?: string;
  /** Addresses or CIDR networks the user may connect from (default loopback only: ::1, 127.0.0.1). */
  networks?: readonly string[];
  /** Settings that replace the role's (e.g. the analyst's max_execution_time); the constraints stay. */
  settings?: Readonly<Record<string, SettingValue>>;
  /** The role's quota with these figures changed. */
  quota?: Partial<QuotaLimits>;
  /** Migrator only: CLICKHOUSE_CLUSTER is used (ON CLUSTER needs the CLUSTER privilege). */
  cluster?: boolean;
  /**
   * Test harness only: no database restriction (XML: no allow_databases; SQL: the grants ON *.*),
   * for suites that make a database per run; every other right and limit of the role stays.
   */
  anyDatabase?: boolean;
}

const DEFAULT_NETWORKS = ['::1', '127.0.0.1'] as const;
const NETWORK = /^[0-9A-Fa-f:.]{2,45}(\/\d{1,3})?$/;
const SETTING_NAME = /^[a-z_][a-z0-9_]{0,63}$/;
const SETTING_TEXT = /^[A-Za-z0-9_.]{1,64}$/;

interface CheckedRole {
  role: ClickHouseRole;
  user: string;
  database: string;
  hash: string;
  networks: readonly string[];
  settings: Readonly<Record<string, SettingValue>>;
  constraints: Readonly<Record<string, SettingConstraint>>;
  quota: QuotaLimits | null;
  grants: readonly string[];
  anyDatabase: boolean;
}

function checkNetworks(networks: readonly string[], what: string): readonly string[] {
  if (networks.length === 0) throw new Error(`${what} networks must not be empty`);
  for (const n of networks)
    if (typeof n !== 'string' || !NETWORK.test(n))
      throw new Error(`${what} network "${String(n).slice(0, 60)}" must be an IPv4/IPv6 address or CIDR network`);
  return networks;
}

function checkRole(o: RoleUserOptions): CheckedRole {
  if (!CLICKHOUSE_ROLES.includes(o.role))
    throw new Error(`ClickHouse role "${String(o.role).slice(0, 40)}" must be one of ${CLICKHOUSE_ROLES.join(', ')}`);
  const what = `${o.role}`;
  if (typeof o.password !== 'string' || o.password.length === 0)
    throw new Error(`${what} password must be a non-empty string`);
  const settings: Record<string, SettingValue> = { ...ROLE_PROFILES[o.role], ...(o.settings ?? {}) };
  for (const [k, v] of Object.entries(settings)) {
    if (!SETTING_NAME.test(k)) throw new Error(`${what} setting name "${k.slice(0, 64)}" must match ${SETTING_NAME}`);
    if (typeof v === 'number' ? !Number.isSafeInteger(v) || v < 0 : !SETTING_TEXT.test(v))
      throw new Error(
        `${what} setting ${k} must be a non-negative integer or a word, got ${JSON.stringify(v).slice(0, 64)}`,
      );
  }
  const base = ROLE_QUOTAS[o.role];
  if (o.quota && !base) throw new Error(`the ${o.role} role has no quota to change`);
  const quota = base ? { ...base, ...(o.quota ?? {}) } : null;
  if (quota) {
    for (const [k, v] of Object.entries(quota))
      if (!Number.isSafeInteger(v) || v < 0)
        throw new Error(`${what} quota ${k} must be a non-negative integer, got ${String(v)}`);
    if (quota.durationSeconds < 1) throw new Error(`${what} quota durationSeconds must be at least 1`);
  }
  if (o.cluster && o.role !== 'migrator') throw new Error('only the migrator runs ON CLUSTER statements');
  return {
    role: o.role,
    user: assertIdentifier(o.user ?? ROLE_USERS[o.role], `${what} user`),
    database: assertIdentifier(o.database, 'database'),
    hash: createHash('sha256').update(o.password, 'utf8').digest('hex'),
    networks: checkNetworks(o.networks ?? DEFAULT_NETWORKS, what),
    settings,
    constraints: ROLE_CONSTRAINTS[o.role],
    quota,
    grants: ROLE_GRANTS[o.role],
    anyDatabase: o.anyDatabase === true,
  };
}

const xmlNetworks = (networks: readonly string[]) => networks.map((n) => `                <ip>${n}</ip>\n`).join('');

/**
 * A users.d file for ClickHouse 18.16 (and later) defining one role's user, its profile (named
 * as the user) and its quota (named as the user; `default` for roles without one): the password as
 * its SHA-256, the networks, allow_databases = the platform database (18.16 lets every user read
 * `system` besides).
 */
export function roleUsersXml(o: RoleUserOptions): string {
  const c = checkRole(o);
  const settings = Object.entries(c.settings)
    .map(([k, v]) => `            <${k}>${v}</${k}>\n`)
    .join('');
  const quota = c.quota
    ? `    <quotas>
        <${c.user}>
            <interval>
                <duration>${c.quota.durationSeconds}</duration>
                <queries>${c.quota.queries}</queries>
                <errors>${c.quota.errors}</errors>
                <result_rows>${c.quota.resultRows}</result_rows>
                <read_rows>${c.quota.readRows}</read_rows>
                <execution_time>${c.quota.executionTimeSeconds}</execution_time>
            </interval>
        </${c.user}>
    </quotas>
`
    : '';
  return `<?xml version="1.0"?>
<!-- The ClickHouse ${c.role} user. Generated (libs/clickhouse/src/roles.ts, scripts/lib/services.mjs); do not edit. -->
<yandex>
    <profiles>
        <${c.user}>
${settings}        </${c.user}>
    </profiles>
    <users>
        <${c.user}>
            <password_sha256_hex>${c.hash}</password_sha256_hex>
            <networks>
${xmlNetworks(c.networks)}            </networks>
            <profile>${c.user}</profile>
            <quota>${c.quota ? c.user : 'default'}</quota>
${
  c.anyDatabase
    ? ''
    : `            <allow_databases>
                <database>${c.database}</database>
            </allow_databases>
`
}        </${c.user}>
    </users>
${quota}</yandex>
`;
}

export interface DefaultUserOptions {
  password: string;
  /** Default loopback only. */
  networks?: readonly string[];
}

/**
 * The `default` user's entry of users.xml (18.16 and later): nobody's service user, so loopback
 * only and a password (stored as its SHA-256), full rights for the set-up and the tests' fixtures.
 */
export function defaultUserXml(o: DefaultUserOptions): string {
  if (typeof o.password !== 'string' || o.password.length === 0)
    throw new Error('default password must be a non-empty string');
  const networks = checkNetworks(o.networks ?? DEFAULT_NETWORKS, 'default');
  const hash = createHash('sha256').update(o.password, 'utf8').digest('hex');
  return `        <default>
            <password_sha256_hex>${hash}</password_sha256_hex>
            <networks>
${xmlNetworks(networks)}            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
`;
}

function sqlValue(v: SettingValue): string {
  return typeof v === 'number' ? String(v) : quoteString(v);
}

/** `name = value CONST`, `name = value MIN a MAX b` (the constraint of ROLE_CONSTRAINTS, if any). */
function sqlSetting(name: string, value: SettingValue, k: SettingConstraint | undefined): string {
  let s = `${name} = ${sqlValue(value)}`;
  if (k?.min !== undefined) s += ` MIN ${k.min}`;
  if (k?.max !== undefined) s += ` MAX ${k.max}`;
  if (k?.readonly) s += ' CONST';
  return s;
}

/**
 * The statements that create (or bring up to date) one role's user on a current ClickHouse
 * (access control, 20.4 and later), run by a user with access_management:
 * a settings profile named as the user with the role's settings and constraints, the user
 * (password as SHA-256, host addresses, that profile), REVOKE ALL then GRANT <privileges> ON db.*
 * (and CLUSTER ON *.* for a migrator with a cluster), a quota named as the user when the role has
 * one. Each CREATE ... IF NOT EXISTS is followed by ALTER, so an existing entity takes the
 * definition as well.
 */
export function roleStatements(o: RoleUserOptions): string[] {
  const c = checkRole(o);
  const settings = Object.entries(c.settings)
    .map(([k, v]) => sqlSetting(k, v, c.constraints[k]))
    .join(', ');
  const profile = `SETTINGS ${settings}`;
  const hosts = c.networks.map((n) => `IP ${quoteString(n)}`).join(', ');
  const user = `IDENTIFIED WITH sha256_hash BY ${quoteString(c.hash)} HOST ${hosts} DEFAULT DATABASE ${c.database} SETTINGS PROFILE ${quoteString(c.user)}`;
  const out = [
    `CREATE SETTINGS PROFILE IF NOT EXISTS ${c.user} ${profile}`,
    `ALTER SETTINGS PROFILE ${c.user} ${profile}`,
    `CREATE USER IF NOT EXISTS ${c.user} ${user}`,
    `ALTER USER ${c.user} ${user}`,
    `REVOKE ALL ON *.* FROM ${c.user}`,
    `GRANT ${c.grants.join(', ')} ON ${c.anyDatabase ? '*' : c.database}.* TO ${c.user}`,
  ];
  if (o.cluster) out.push(`GRANT CLUSTER ON *.* TO ${c.user}`);
  if (c.quota) {
    const q = c.quota;
    // 0 is "no limit" in XML; in SQL a figure without a limit is left out
    const max = (
      [
        ['queries', q.queries],
        ['errors', q.errors],
        ['result_rows', q.resultRows],
        ['read_rows', q.readRows],
        ['execution_time', q.executionTimeSeconds],
      ] as const
    )
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} = ${v}`);
    const limits = `FOR INTERVAL ${q.durationSeconds} second ${max.length > 0 ? `MAX ${max.join(', ')}` : 'TRACKING ONLY'} TO ${c.user}`;
    out.push(`CREATE QUOTA IF NOT EXISTS ${c.user} ${limits}`, `ALTER QUOTA ${c.user} ${limits}`);
  }
  return out;
}
