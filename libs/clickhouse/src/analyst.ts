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
import { createHash } from 'node:crypto';
import { assertIdentifier, quoteString } from './sql.js';

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
}

export const ANALYST_USER = 'analyst';
const DEFAULT_NETWORKS = ['::1', '127.0.0.1'] as const;
const NETWORK = /^[0-9A-Fa-f:.]{2,45}(\/\d{1,3})?$/;

interface Checked {
  user: string;
  database: string;
  hash: string;
  seconds: number;
  rows: number;
  networks: readonly string[];
}

function check(o: AnalystOptions): Checked {
  if (typeof o.password !== 'string' || o.password.length === 0) throw new Error('analyst password must be a non-empty string');
  const positive = (v: number, what: string) => {
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${what} must be a positive integer, got ${String(v)}`);
    return v;
  };
  const networks = o.networks ?? DEFAULT_NETWORKS;
  if (networks.length === 0) throw new Error('analyst networks must not be empty');
  for (const n of networks) if (!NETWORK.test(n)) throw new Error(`analyst network "${String(n).slice(0, 60)}" must be an IPv4/IPv6 address or CIDR network`);
  return {
    user: assertIdentifier(o.user ?? ANALYST_USER, 'analyst user'),
    database: assertIdentifier(o.database, 'database'),
    hash: createHash('sha256').update(o.password, 'utf8').digest('hex'),
    seconds: positive(o.maxExecutionSeconds, 'maxExecutionSeconds'),
    rows: positive(o.maxResultRows, 'maxResultRows'),
    networks,
  };
}

/**
 * A users.d file (ClickHouse 18.16 and later; root element `<yandex>`, which current versions
 * still read) defining the analyst user and its profile: readonly = 1 (SELECT only, and no
 * setting can be changed, so the limits hold), max_execution_time, max_result_rows with
 * result_overflow_mode = throw, enable_optimize_predicate_expression = 1 (the analyst views need
 * it on 18.16, where it is off by default), allow_databases = the platform database; the password
 * stored as its SHA-256.
 */
export function analystUsersXml(o: AnalystOptions): string {
  const c = check(o);
  return `<?xml version="1.0"?>
<!-- The read-only analyst user. Generated (libs/clickhouse/src/analyst.ts, scripts/lib/services.mjs); do not edit. -->
<yandex>
    <profiles>
        <${c.user}>
            <readonly>1</readonly>
            <max_execution_time>${c.seconds}</max_execution_time>
            <max_result_rows>${c.rows}</max_result_rows>
            <result_overflow_mode>throw</result_overflow_mode>
            <enable_optimize_predicate_expression>1</enable_optimize_predicate_expression>
        </${c.user}>
    </profiles>
    <users>
        <${c.user}>
            <password_sha256_hex>${c.hash}</password_sha256_hex>
            <networks>
${c.networks.map((n) => `                <ip>${n}</ip>\n`).join('')}            </networks>
            <profile>${c.user}</profile>
            <quota>default</quota>
            <allow_databases>
                <database>${c.database}</database>
            </allow_databases>
        </${c.user}>
    </users>
</yandex>
`;
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
 * (20.4 and later): CREATE USER IF NOT EXISTS, then ALTER USER so that the password, networks
 * and settings are the given ones even for an existing user, then GRANT SELECT ON db.*.
 * The connection needs `access_management` (off by default for XML users of current versions).
 *
 * Does nothing before 20.4 (18.16 has no CREATE USER: write analystUsersXml() into users.d), and
 * nothing when the user is defined in users.xml/users.d (storage users_xml is read-only to SQL).
 */
export async function ensureAnalystUser(ch: AnalystAdminClient, o: AnalystOptions): Promise<EnsureAnalystResult> {
  const c = check(o);
  const [row] = await (await ch.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>();
  const version = String(row?.v ?? '');
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) throw new Error(`cannot read the ClickHouse version from ${JSON.stringify(version)}`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major < 20 || (major === 20 && minor < 4)) {
    return { version, statements: [], skipped: `ClickHouse ${version} has no CREATE USER (access control came in 20.4): use analystUsersXml() in users.d` };
  }
  const existing = await (
    await ch.query({ query: `SELECT storage FROM system.users WHERE name = ${quoteString(c.user)}`, format: 'JSONEachRow' })
  ).json<{ storage: string }>();
  if (existing.some((u) => u.storage === 'users_xml' || u.storage === 'users.xml')) {
    return { version, statements: [], skipped: `user ${c.user} is defined in the server's XML users configuration; change it there` };
  }
  const hosts = c.networks.map((n) => `IP ${quoteString(n)}`).join(', ');
  const auth = `IDENTIFIED WITH sha256_hash BY ${quoteString(c.hash)} HOST ${hosts}`;
  const settings = `SETTINGS readonly = 1, max_execution_time = ${c.seconds}, max_result_rows = ${c.rows}, result_overflow_mode = 'throw', enable_optimize_predicate_expression = 1`;
  const statements = [`CREATE USER IF NOT EXISTS ${c.user} ${auth} ${settings}`, `ALTER USER ${c.user} ${auth} ${settings}`, `GRANT SELECT ON ${c.database}.* TO ${c.user}`];
  for (const query of statements) await ch.command({ query });
  return { version, statements };
}
