#!/usr/bin/env node
/**
 * Test-only: a current ClickHouse behind ClickHouse's HTTP interface.
 *
 * chdb (https://github.com/chdb-io/chdb-node) embeds ClickHouse 26.x as a library: MergeTree tables
 * on disk, materialized views, the new query analyzer, query parameters, but no network server.
 * This process opens a chdb Session on a data directory and answers the HTTP requests that
 * `@clickhouse/client` (and curl) send to a ClickHouse server, so that the platform's services and
 * suites run unchanged against a current engine: only CLICKHOUSE_URL differs.
 *
 *   node scripts/chdb/server.mjs --port 8124 --path /tmp/ch26 [--password P] [--users JSON] [--connections 4]
 *
 * What it speaks: `GET /ping`; GET and POST `/` with the query in the `query` parameter and/or the
 * body (an INSERT's data follows its query, as on a server); settings as URL parameters; `param_*`
 * query parameters; `default_format`; `database`; HTTP basic auth or X-ClickHouse-User/Key. A
 * failed query answers with the server's status code for its error code, the engine's own
 * "Code: N. DB::Exception: ..." text and `X-ClickHouse-Exception-Code`.
 *
 * Its limits, and what the suites therefore do not prove on the current engine:
 * - One chdb engine per process, with `--connections` (4) connections per user: chdb runs one query
 *   at a time per connection, so at most that many requests of a user run at once.
 * - Results are buffered, not streamed: a response starts when its query has finished.
 * - No compression, sessions (`session_id`), progress headers or cancellation of a running query
 *   when its client goes away.
 * - Users: clickhouse-local (which chdb is) has no login: every connection runs as its `default`
 *   user, which reads no access storage a statement could write (CREATE USER / SETTINGS PROFILE /
 *   QUOTA fail with ACCESS_STORAGE_FOR_INSERTION_NOT_FOUND), and neither a per-connection
 *   `--user` nor `SET profile = ...` takes effect on a session. So the front keeps the users: the
 *   `default` user has the password given here; each of `--users` (JSON: [{ user, password,
 *   settings }], the role users of scripts/lib/clickhouse-roles.mjs) gets connections of its own
 *   on which its profile's settings are SET once, readonly last. What the engine then enforces
 *   for such a user: readonly (1: no writes, no DDL, no setting changes, no table functions;
 *   2: settings per query, but readonly itself stays), allow_ddl = 0, and its limits
 *   (max_execution_time, max_result_rows with throw, max_memory_usage). What it does not: settings
 *   constraints (a readonly = 0 or 2 user may change its limits; `SETTINGS x = DEFAULT`), the
 *   database restriction (GRANT ... ON db.*), quotas, and max_concurrent_queries_for_user (the
 *   connections per user bound it instead).
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Session } from 'chdb';

/** URL parameters of the HTTP interface that are not settings. */
const NOT_SETTINGS = new Set([
  'query',
  'query_id',
  'database',
  'default_format',
  'user',
  'password',
  'quota_key',
  'session_id',
  'session_timeout',
  'session_check',
  'compress',
  'decompress',
  'buffer_size',
  'wait_end_of_query',
  'role',
  'stacktrace',
  // responses are never compressed here, so the switch that allows it is not applied
  'enable_http_compression',
  'http_zlib_compression_level',
]);

/**
 * ClickHouse's HTTP status for some error codes (src/Server/HTTPHandler.cpp, exceptionCodeToHTTPStatus); 500 otherwise.
 */
const HTTP_STATUS = new Map([
  [516, 401], // AUTHENTICATION_FAILED
  [497, 403], // ACCESS_DENIED
  [164, 403], // READONLY
  [62, 400], // SYNTAX_ERROR
  [27, 400], // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  [26, 400], // CANNOT_PARSE_QUOTED_STRING
  [6, 400], // CANNOT_PARSE_TEXT
  [72, 400], // CANNOT_PARSE_NUMBER
  [115, 400], // UNKNOWN_SETTING
  [456, 400], // UNKNOWN_QUERY_PARAMETER
  [457, 400], // BAD_QUERY_PARAMETER
  [60, 404], // UNKNOWN_TABLE
  [81, 404], // UNKNOWN_DATABASE
  [46, 404], // UNKNOWN_FUNCTION
  [47, 404], // UNKNOWN_IDENTIFIER
  [159, 504], // TIMEOUT_EXCEEDED
]);

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    path: { type: 'string' },
    password: { type: 'string', default: '' },
    users: { type: 'string' },
    connections: { type: 'string', default: '4' },
  },
});
if (!args.port || !args.path) {
  console.error('usage: node scripts/chdb/server.mjs --port N --path DIR [--password P] [--users JSON]');
  process.exit(2);
}

/** CHDB_FRONT_TRACE=1: one log line per answered query (user, time, size, the start of its text). */
const TRACE = process.env.CHDB_FRONT_TRACE === '1';

const sha256 = (s) => createHash('sha256').update(s, 'utf8').digest('hex');

/**
 * The connections of one user: chdb runs one query at a time per connection and several
 * connections in parallel. A request takes a free connection for its SETs, its query and the
 * restoring of the settings, so that no other request sees its settings.
 */
class Pool {
  constructor(path, size) {
    this.idle = Array.from({ length: size }, () => new Session(path));
    this.all = [...this.idle];
    this.waiting = [];
  }
  /** Runs every statement on each connection (the user's profile). */
  async setup(statements) {
    for (const s of this.all) for (const stmt of statements) await s.queryAsync(stmt);
  }
  async with(fn) {
    const s = this.idle.pop() ?? (await new Promise((resolve) => this.waiting.push(resolve)));
    try {
      return await fn(s);
    } finally {
      const next = this.waiting.shift();
      if (next) next(s);
      else this.idle.push(s);
    }
  }
  close() {
    for (const s of this.all) s.close();
  }
}

const dataDir = args.path;
const size = Number(args.connections);
if (!Number.isInteger(size) || size < 1 || size > 64) {
  console.error(`--connections must be an integer in 1..64, got ${args.connections}`);
  process.exit(2);
}
const users = new Map();
users.set('default', { hash: sha256(args.password), pool: new Pool(dataDir, size) });
const SETTING_NAME_OR_VALUE = /^[A-Za-z0-9_.]{1,64}$/;
for (const u of args.users ? JSON.parse(args.users) : []) {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(u.user) || users.has(u.user))
    throw new Error(`--users: bad or repeated user ${JSON.stringify(u.user)}`);
  const pool = new Pool(dataDir, Math.min(size, 2));
  const { readonly, ...rest } = u.settings ?? {};
  const sets = [];
  for (const [k, v] of Object.entries(rest)) {
    if (!SETTING_NAME_OR_VALUE.test(k) || !SETTING_NAME_OR_VALUE.test(String(v)))
      throw new Error(`--users: bad setting ${k} = ${v}`);
    sets.push(`SET ${k} = ${typeof v === 'number' ? v : quote(String(v))}`);
  }
  // readonly last: once it is set, the engine refuses (1) or restricts (2) further changes
  if (readonly !== undefined) sets.push(`SET readonly = ${Number(readonly)}`);
  await pool.setup(sets);
  users.set(u.user, { hash: sha256(String(u.password)), pool });
}

class HttpError extends Error {
  constructor(code, message) {
    super(`Code: ${code}. DB::Exception: ${message}`);
    this.code = code;
  }
}

function credentials(req, url) {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Basic ')) {
    const text = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const i = text.indexOf(':');
    return { user: i < 0 ? text : text.slice(0, i), password: i < 0 ? '' : text.slice(i + 1) };
  }
  return {
    user: String(req.headers['x-clickhouse-user'] ?? url.searchParams.get('user') ?? 'default'),
    password: String(req.headers['x-clickhouse-key'] ?? url.searchParams.get('password') ?? ''),
  };
}

function quote(s) {
  return `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/ping' || (req.method === 'GET' && url.pathname === '/' && !url.searchParams.has('query'))) {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8' }).end('Ok.\n');
    return;
  }
  if (url.pathname !== '/') {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=UTF-8' }).end(`There is no handle ${url.pathname}\n`);
    return;
  }
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks).toString('utf8');
  const queryId = url.searchParams.get('query_id') || crypto.randomUUID();
  const started = Date.now();
  try {
    const { user, password } = credentials(req, url);
    const u = users.get(user);
    if (!u || u.hash !== sha256(password)) {
      throw new HttpError(
        516,
        `${user}: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)`,
      );
    }
    const inUrl = url.searchParams.get('query');
    const sql = inUrl === null ? body : body.length > 0 ? `${inUrl}\n${body}` : inUrl;
    if (sql.trim().length === 0) throw new HttpError(62, 'Empty query. (SYNTAX_ERROR)');
    const settings = [];
    const params = {};
    for (const [k, v] of url.searchParams) {
      if (k.startsWith('param_')) params[k.slice(6)] = v;
      else if (!NOT_SETTINGS.has(k)) {
        if (!SETTING_NAME.test(k)) throw new HttpError(115, `Unknown setting ${k}. (UNKNOWN_SETTING)`);
        settings.push(k);
      }
    }
    const database = url.searchParams.get('database');
    if (database !== null && database !== 'default' && !DATABASE_NAME.test(database)) {
      throw new HttpError(81, `Database ${database} does not exist. (UNKNOWN_DATABASE)`);
    }
    const format = url.searchParams.get('default_format') || 'TabSeparated';
    const result = await u.pool.with(async (s) => {
      // the connection's own values, restored after the request (SET x = DEFAULT would give the
      // server's defaults instead, and is allowed even under readonly)
      const saved = [];
      const useDb = database !== null && database !== 'default';
      try {
        for (const k of settings) {
          const prior = (
            await s.queryAsync(`SELECT value FROM system.settings WHERE name = ${quote(k)}`, {
              format: 'TabSeparatedRaw',
            })
          )
            .text()
            .replace(/\n$/, '');
          await s.queryAsync(`SET ${k} = ${quote(url.searchParams.get(k))}`);
          saved.push([k, prior]);
        }
        if (useDb) await s.queryAsync(`USE ${database}`);
        return Object.keys(params).length > 0
          ? await s.queryBindAsync(sql, params, { format })
          : await s.queryAsync(sql, { format });
      } finally {
        for (const [k, v] of saved) await s.queryAsync(`SET ${k} = ${quote(v)}`).catch(() => undefined);
        if (useDb) await s.queryAsync('USE default').catch(() => undefined);
      }
    });
    const bytes = result.bytes();
    if (TRACE)
      console.log(
        `${new Date().toISOString()} ${user} ${Date.now() - started} ms ${bytes.byteLength} B ${sql.slice(0, 300).replace(/\s+/g, ' ')}`,
      );
    res.writeHead(200, {
      'Content-Type': 'text/plain; charset=UTF-8',
      'Content-Length': bytes.byteLength,
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Format': format,
      'X-ClickHouse-Summary': JSON.stringify({
        read_rows: String(result.rowsRead ?? 0),
        read_bytes: String(result.bytesRead ?? 0),
        elapsed_ns: String(Math.round((result.elapsed ?? 0) * 1e9)),
      }),
    });
    res.end(bytes);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const code = e instanceof HttpError ? e.code : Number(/^Code: (\d+)\./.exec(message)?.[1] ?? 1002);
    const text = /^Code: \d+\./.test(message) ? message : `Code: ${code}. DB::Exception: ${message}`;
    res.writeHead(HTTP_STATUS.get(code) ?? 500, {
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Exception-Code': String(code),
    });
    res.end(`${text}\n`);
  }
}

const server = createServer((req, res) => {
  handle(req, res).catch((e) => {
    if (!res.headersSent) res.writeHead(500);
    res.end(`Code: 1002. DB::Exception: ${e instanceof Error ? e.message : String(e)}\n`);
  });
});
server.keepAliveTimeout = 3000;
server.listen(Number(args.port), args.host, () => {
  console.log(
    `chdb ${users.get('default').pool.all[0].query('SELECT version()', 'TabSeparated').trim()} answering ClickHouse HTTP on http://${args.host}:${args.port} (data ${dataDir})`,
  );
});

function shutdown() {
  server.close();
  for (const { pool } of users.values()) pool.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
