// The platform's ClickHouse users per role as users.d files, and their local passwords.
//
// A copy of roleUsersXml / defaultUserXml and of the role tables of libs/clickhouse/src/roles.ts
// (the set-up runs this before `npm ci`, so it cannot import the library);
// libs/clickhouse/src/roles.spec.ts keeps the two identical. Only Node built-ins are used.
//
// Roles: migrator (orderflow_migrator: schema migrations), writer (orderflow_writer: the
// aggregator), reader (orderflow_reader: the gateway), analyst (analyst: people, docs/analyst.md).
// `default` is nobody's: loopback only, with a generated password.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ensurePasswords, generatePassword, readPasswords } from './secrets.mjs';

export const CLICKHOUSE_ROLES = ['migrator', 'writer', 'reader', 'analyst'];

export const ROLE_USERS = {
  migrator: 'orderflow_migrator',
  writer: 'orderflow_writer',
  reader: 'orderflow_reader',
  analyst: 'analyst',
};

export const ROLE_PROFILES = {
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

export const ROLE_QUOTAS = {
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

const NETWORK = /^[0-9A-Fa-f:.]{2,45}(\/\d{1,3})?$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const SETTING_NAME = /^[a-z_][a-z0-9_]{0,63}$/;
const SETTING_TEXT = /^[A-Za-z0-9_.]{1,64}$/;
const DEFAULT_NETWORKS = ['::1', '127.0.0.1'];

const sha256 = (s) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');

function identifier(v, what) {
  if (typeof v !== 'string' || !IDENTIFIER.test(v))
    throw new Error(`${what} "${String(v).slice(0, 80)}" must match ${IDENTIFIER}`);
  return v;
}

function checkNetworks(networks, what) {
  if (networks.length === 0) throw new Error(`${what} networks must not be empty`);
  for (const n of networks)
    if (typeof n !== 'string' || !NETWORK.test(n))
      throw new Error(`${what} network "${String(n).slice(0, 60)}" must be an IPv4/IPv6 address or CIDR network`);
  return networks;
}

function checkRole(o) {
  if (!CLICKHOUSE_ROLES.includes(o.role))
    throw new Error(`ClickHouse role "${String(o.role).slice(0, 40)}" must be one of ${CLICKHOUSE_ROLES.join(', ')}`);
  const what = `${o.role}`;
  if (typeof o.password !== 'string' || o.password.length === 0)
    throw new Error(`${what} password must be a non-empty string`);
  const settings = { ...ROLE_PROFILES[o.role], ...(o.settings ?? {}) };
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
    user: identifier(o.user ?? ROLE_USERS[o.role], `${what} user`),
    database: identifier(o.database, 'database'),
    hash: sha256(o.password),
    networks: checkNetworks(o.networks ?? DEFAULT_NETWORKS, what),
    settings,
    quota,
    anyDatabase: o.anyDatabase === true,
  };
}

const xmlNetworks = (networks) => networks.map((n) => `                <ip>${n}</ip>\n`).join('');

/** users.d file of one role's user (18.16 and later); see roleUsersXml in libs/clickhouse/src/roles.ts. */
export function roleUsersXml(o) {
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

/** The `default` user's entry of users.xml; see defaultUserXml in libs/clickhouse/src/roles.ts. */
export function defaultUserXml(o) {
  if (typeof o.password !== 'string' || o.password.length === 0)
    throw new Error('default password must be a non-empty string');
  const networks = checkNetworks(o.networks ?? DEFAULT_NETWORKS, 'default');
  return `        <default>
            <password_sha256_hex>${sha256(o.password)}</password_sha256_hex>
            <networks>
${xmlNetworks(networks)}            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
`;
}

/** The analyst's role options from the options of analystUsersXml (libs/clickhouse/src/analyst.ts analystRole). */
export function analystRole({
  password,
  database,
  maxExecutionSeconds,
  maxResultRows,
  user = 'analyst',
  networks,
  quota,
}) {
  for (const [v, what] of [
    [maxExecutionSeconds, 'maxExecutionSeconds'],
    [maxResultRows, 'maxResultRows'],
  ])
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${what} must be a positive integer, got ${String(v)}`);
  return {
    role: 'analyst',
    password,
    database,
    user,
    ...(networks ? { networks } : {}),
    settings: { max_execution_time: maxExecutionSeconds, max_result_rows: maxResultRows },
    ...(quota ? { quota } : {}),
  };
}

/** The analyst user's users.d file; see analystUsersXml in libs/clickhouse/src/analyst.ts. */
export function analystUsersXml(o) {
  return roleUsersXml(analystRole(o));
}

/** A generated password (scripts/lib/secrets.mjs). */
export const generateClickHousePassword = generatePassword;

/** Users whose passwords the local set-up generates: `default` and the service roles. */
export const GENERATED_PASSWORD_USERS = ['default', 'migrator', 'writer', 'reader'];

/**
 * The local ClickHouse passwords in `<dir>/clickhouse-<name>.password` (mode 0600, the directory
 * 0700), for `default`, migrator, writer and reader: read when present, generated once otherwise.
 * @returns {{ default: string, migrator: string, writer: string, reader: string }}
 */
export const ensureClickHousePasswords = (dir) => ensurePasswords(dir, 'clickhouse', GENERATED_PASSWORD_USERS);

/** The passwords of `dir` when every file is there (nothing generated), else null. */
export const readClickHousePasswords = (dir) => readPasswords(dir, 'clickhouse', GENERATED_PASSWORD_USERS);

/**
 * Writes <dataDir>/users.d/<user>.xml for each service role in `roles` ({ migrator, writer,
 * reader }: the password of each, or an object of roleUsersXml options without role/database),
 * and removes the files of the service roles not given. A running server takes them within seconds.
 * @returns {string[]} the files written
 */
export function writeRoleUsers(dataDir, database, roles) {
  const dir = path.join(path.resolve(dataDir), 'users.d');
  fs.mkdirSync(dir, { recursive: true });
  const written = [];
  for (const role of ['migrator', 'writer', 'reader']) {
    const given = roles?.[role];
    const o = typeof given === 'string' ? { password: given } : given;
    const user = o?.user ?? ROLE_USERS[role];
    const file = path.join(dir, `${identifier(user, `${role} user`)}.xml`);
    if (!o) {
      fs.rmSync(path.join(dir, `${ROLE_USERS[role]}.xml`), { force: true });
      continue;
    }
    fs.writeFileSync(file, roleUsersXml({ ...o, role, database }), { mode: 0o600 });
    written.push(file);
  }
  return written;
}

/** Generated passwords for the service roles (a test server's, kept in memory). */
export function generateRolePasswords() {
  return {
    migrator: generateClickHousePassword(),
    writer: generateClickHousePassword(),
    reader: generateClickHousePassword(),
  };
}

/**
 * `roles` of writeClickHouseConfig / startClickHouse: { database, anyDatabase?, passwords:
 * { migrator, writer, reader } } → what a client needs, per role: { user, password }.
 */
export function roleCredentials(roles) {
  if (!roles) return null;
  const out = {};
  for (const role of ['migrator', 'writer', 'reader'])
    out[role] = { user: ROLE_USERS[role], password: roles.passwords[role] };
  return out;
}

/** Writes the service roles' users.d files of `roles` (see roleCredentials), or removes them (`roles` false). */
export function writeServiceRoles(dataDir, roles) {
  if (!roles) return writeRoleUsers(dataDir, 'orderflow', null);
  const o = {};
  for (const role of ['migrator', 'writer', 'reader'])
    o[role] = {
      password: roles.passwords[role],
      ...(roles.anyDatabase ? { anyDatabase: true } : {}),
    };
  return writeRoleUsers(dataDir, roles.database, o);
}
