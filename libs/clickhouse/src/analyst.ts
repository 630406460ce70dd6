/**
 * The read-only `analyst` user (docs/analyst.md): SELECT on the platform database's tables and
 * views, nothing else, with limits on execution time and result size.
 *
 * - ClickHouse 18.16 has no CREATE USER: users live in XML. analystUsersXml() is a users.d file,
 *   which the server picks up without a restart (it re-reads users.xml and users.d/*.xml every few
 *   seconds). scripts/lib/services.mjs writes the same file (its own copy of this function, since
 *   it runs before `npm ci`; a test keeps the two identical).
 * - Current ClickHouse (access control since 20.4): ensureAnalystUser() creates the user with SQL.
 *   It reads version() and does nothing below 20.4, and nothing for a user defined in XML.
 */
import { type QuotaLimits, type RoleUserOptions, roleStatements, roleUsersXml } from './roles.js';
import { quoteString } from './sql.js';

export interface AnalystOptions {
  password: string;
  /** The platform database (CLICKHOUSE_DATABASE): the only one the analyst may read. */
  database: string;
  /** max_execution_time of every query, seconds. */
  maxExecutionSeconds: number;
  /** max_result_rows (result_overflow_mode = throw). */
  maxResultRows: number;
  /** User name (default `analyst`). */
  user?: string;
  /** Addresses or CIDR networks the user may connect from (default loopback only: ::1, 127.0.0.1). */
  networks?: readonly string[];
  /** The analyst role's hourly quota (ROLE_QUOTAS.analyst) with these figures changed. */
  quota?: Partial<QuotaLimits>;
}

export const ANALYST_USER = 'analyst';

/** The analyst's role options (roles.ts) from AnalystOptions, checked. */
export function analystRole(o: AnalystOptions): RoleUserOptions {
  const positive = (v: number, what: string) => {
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${what} must be a positive integer, got ${String(v)}`);
    return v;
  };
  return {
    role: 'analyst',
    password: o.password,
    database: o.database,
    user: o.user ?? ANALYST_USER,
    ...(o.networks ? { networks: o.networks } : {}),
    settings: {
      max_execution_time: positive(o.maxExecutionSeconds, 'maxExecutionSeconds'),
      max_result_rows: positive(o.maxResultRows, 'maxResultRows'),
    },
    ...(o.quota ? { quota: o.quota } : {}),
  };
}

/**
 * A users.d file (ClickHouse 18.16 and later) defining the analyst user, its profile and quota:
 * roleUsersXml() of the analyst role (readonly = 1: SELECT only, and no setting can be changed, so
 * the limits hold; max_execution_time, max_result_rows with result_overflow_mode = throw,
 * max_memory_usage, enable_optimize_predicate_expression = 1, which the analyst views need on
 * 18.16; allow_databases = the platform database; the password stored as its SHA-256).
 */
export function analystUsersXml(o: AnalystOptions): string {
  return roleUsersXml(analystRole(o));
}

/** What ensureAnalystUser needs of a client (@clickhouse/client's satisfies it). */
export interface AnalystAdminClient {
  command(o: { query: string }): Promise<unknown>;
  query(o: { query: string; format: 'JSONEachRow' }): Promise<{ json<T>(): Promise<T[]> }>;
}

export interface EnsureAnalystResult {
  /** The server's version() string. */
  version: string;
  /** The statements run (empty when nothing was done). */
  statements: string[];
  /** Why nothing was done, when nothing was. */
  skipped?: string;
}

/**
 * Creates (or brings up to date) the analyst user with SQL on a ClickHouse with access control
 * (20.4 and later): roleStatements() of the analyst role (its settings profile with constraints,
 * the user, SELECT ON db.* only, its quota; an existing one brought up to date).
 * The connection needs `access_management` (off by default for XML users of current versions).
 *
 * Does nothing before 20.4 (18.16 has no CREATE USER: write analystUsersXml() into users.d), and
 * nothing when the user is defined in users.xml/users.d (storage users_xml is read-only to SQL).
 */
export async function ensureAnalystUser(ch: AnalystAdminClient, o: AnalystOptions): Promise<EnsureAnalystResult> {
  const role = analystRole(o);
  // built first: bad options fail before any request
  const statements = roleStatements(role);
  const user = role.user ?? ANALYST_USER;
  const [row] = await (await ch.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>();
  const version = String(row?.v ?? '');
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) throw new Error(`cannot read the ClickHouse version from ${JSON.stringify(version)}`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major < 20 || (major === 20 && minor < 4)) {
    return {
      version,
      statements: [],
      skipped: `ClickHouse ${version} has no CREATE USER (access control came in 20.4): use analystUsersXml() in users.d`,
    };
  }
  const existing = await (
    await ch.query({
      query: `SELECT storage FROM system.users WHERE name = ${quoteString(user)}`,
      format: 'JSONEachRow',
    })
  ).json<{ storage: string }>();
  if (existing.some((u) => u.storage === 'users_xml' || u.storage === 'users.xml')) {
    return {
      version,
      statements: [],
      skipped: `user ${user} is defined in the server's XML users configuration; change it there`,
    };
  }
  for (const query of statements) await ch.command({ query });
  return { version, statements };
}
