#!/usr/bin/env node
// Infrastructure helpers for the order-flow platform: NATS (JetStream) and ClickHouse.
//
// Library use (integration tests start their own servers on spare ports in temp dirs):
//   import { startClickHouse, startNats, isListening, getFreePort } from '../../scripts/lib/services.mjs';
//   const ch = await startClickHouse({ httpPort: 18123, tcpPort: 19000, dataDir: '/tmp/ch-x', password: '' });
//   const nats = await startNats({ port: 14222, storeDir: '/tmp/nats-x' });
//   ... ch.url === 'http://127.0.0.1:18123', nats.url === 'nats://127.0.0.1:14222'
//   await ch.stop(); await nats.stop();
// Every option is optional: ports default to free ports, directories to fresh temp dirs
// (removed again by stop() when they were created by us).
//
// CLI use (called by scripts/setup.sh, scripts/test.sh and scripts/platform.mjs):
//   node scripts/lib/services.mjs ensure               start NATS / ClickHouse under $ORDERFLOW_DATA_DIR if absent
//   node scripts/lib/services.mjs stop-started FILE    stop the servers listed (as pid files) in FILE
//   node scripts/lib/services.mjs stop PIDFILE...      stop the servers recorded in these pid files
//   node scripts/lib/services.mjs status               print what answers on the configured ports
//
// Only Node built-ins are used, so this runs before `npm ci`.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NATS_COMPONENTS, ensureNatsPasswords, passwordVariable } from './nats-accounts.mjs';
import {
  analystUsersXml,
  defaultUserXml,
  ensureClickHousePasswords,
  readClickHousePasswords,
  roleCredentials,
  writeServiceRoles,
} from './clickhouse-roles.mjs';

const REPO_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
);
const LOOPBACK = '127.0.0.1';

// ---------------------------------------------------------------------------
// small utilities
// ---------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves true when a TCP connection to host:port can be opened within timeoutMs. */
export function isListening(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    const done = (result) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Asks the kernel for a currently free TCP port on 127.0.0.1. */
export function getFreePort(host = LOOPBACK) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Minimal HTTP request helper; resolves { status, body } or rejects on network errors. */
export function httpRequest(
  url,
  { method = 'GET', body, headers = {}, timeoutMs = 2000 } = {},
) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, headers, timeout: timeoutMs },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} ${url}`)),
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** True when GET <url>/ping answers "Ok." (ClickHouse's health endpoint). */
export async function clickHousePing(url, timeoutMs = 1000) {
  try {
    const res = await httpRequest(`${url.replace(/\/$/, '')}/ping`, {
      timeoutMs,
    });
    return res.status === 200 && res.body.trim() === 'Ok.';
  } catch {
    return false;
  }
}

/**
 * Connects to a NATS server and resolves its INFO object (or null if the port does not
 * speak NATS). A NATS server sends `INFO {json}\r\n` immediately after accept.
 */
export function natsInfo(host, port, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    let buf = '';
    const done = (result) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.on('error', () => done(null));
    socket.on('data', (d) => {
      buf += d.toString('utf8');
      const eol = buf.indexOf('\r\n');
      if (eol === -1) return;
      const line = buf.slice(0, eol);
      if (!line.startsWith('INFO ')) return done(null);
      try {
        done(JSON.parse(line.slice(5)));
      } catch {
        done(null);
      }
    });
  });
}

function tailFile(file, lines = 30) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return `(no log at ${file})`;
  }
}

export function findBinary(name, envVar) {
  if (envVar && process.env[envVar]) return process.env[envVar];
  const dirs = (process.env.PATH ?? '')
    .split(path.delimiter)
    .concat([
      '/usr/local/sbin',
      '/usr/local/bin',
      '/usr/sbin',
      '/usr/bin',
      '/sbin',
      '/bin',
    ]);
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* keep looking */
    }
  }
  throw new Error(
    `${name} not found on PATH (run scripts/setup.sh to install it)`,
  );
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function processCmdline(pid) {
  try {
    return fs
      .readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter(Boolean);
  } catch {
    return null;
  }
}

async function waitForExit(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    // a zombie child of ours still "exists" but is dead for our purposes
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/\) Z /.test(stat)) return true;
    } catch {
      return true;
    }
    await sleep(100);
  }
  return !isAlive(pid);
}

/** SIGTERM, wait, then SIGKILL. Resolves when the process is gone. */
export async function terminate(pid, { graceMs = 15000 } = {}) {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await waitForExit(pid, graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitForExit(pid, 5000);
}

export const xmlEscape = (s) =>
  String(s).replace(
    /[<>&'"]/g,
    (c) =>
      ({
        '<': '&lt;',
        '>': '&gt;',
        '&': '&amp;',
        "'": '&apos;',
        '"': '&quot;',
      })[c],
  );

// Children that must not outlive this Node process (library mode, not detached).
const ownedChildren = new Set();
process.once('exit', () => {
  for (const child of ownedChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* ignore */
    }
  }
});

export function spawnServer(bin, args, { logFile, detached, cwd }) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(bin, args, { cwd, detached, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  if (detached) {
    child.unref();
  } else {
    ownedChildren.add(child);
    child.once('exit', () => ownedChildren.delete(child));
  }
  return child;
}

/** Polls `check()` until true; fails early if the child exits; rejects after timeoutMs. */
export async function waitReady(child, check, { timeoutMs, what, logFiles }) {
  let exited = null;
  const onExit = (code, signal) => (exited = { code, signal });
  child.once('exit', onExit);
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (exited) break;
      if (await check()) return;
      await sleep(200);
    }
  } finally {
    child.removeListener('exit', onExit);
  }
  const reason = exited
    ? `exited early (code ${exited.code}, signal ${exited.signal})`
    : `did not become ready within ${Math.round(timeoutMs / 1000)} s`;
  const tails = logFiles
    .map((f) => `--- last lines of ${f} ---\n${tailFile(f)}`)
    .join('\n');
  if (!exited) child.kill('SIGKILL');
  throw new Error(`${what} ${reason}\n${tails}`);
}

// ---------------------------------------------------------------------------
// ClickHouse
// ---------------------------------------------------------------------------

/**
 * The read-only analyst user as a users.d file (ClickHouse 18.16 has no CREATE USER; the server
 * re-reads users.d without a restart): the analyst role of scripts/lib/clickhouse-roles.mjs, a
 * copy of libs/clickhouse/src/roles.ts (this file runs before `npm ci`, so it cannot import it); a
 * test keeps the two identical.
 */
export { analystUsersXml };

/** The analyst user's settings from the environment (CLICKHOUSE_ANALYST_PASSWORD, default "analyst"). */
export function analystFromEnv(env = process.env) {
  return {
    password: env.CLICKHOUSE_ANALYST_PASSWORD || 'analyst',
    database: env.CLICKHOUSE_DATABASE || 'orderflow',
    maxExecutionSeconds: 60,
    maxResultRows: 1_000_000,
  };
}

/**
 * Writes (or, with `analyst` false, removes) <dataDir>/users.d/analyst.xml, the analyst user of
 * a server whose users.xml is <dataDir>/users.xml. A running server picks it up within seconds.
 */
export function writeAnalystUser(dataDir, analyst) {
  const file = path.join(path.resolve(dataDir), 'users.d', 'analyst.xml');
  if (!analyst) {
    fs.rmSync(file, { force: true });
    return null;
  }
  const xml = analystUsersXml(analyst);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, xml, { mode: 0o600 });
  return file;
}

/**
 * Writes a self-contained ClickHouse config (18.16-compatible, root element <yandex>)
 * under `dataDir`: config.xml, users.xml, users.d/analyst.xml (the read-only analyst user, see
 * analystUsersXml; `analyst: false` leaves it out), users.d/orderflow_{migrator,writer,reader}.xml
 * (`roles`: { database, anyDatabase?, passwords: { migrator, writer, reader } }, see
 * scripts/lib/clickhouse-roles.mjs; false leaves them out) and the data/tmp/user_files/
 * format_schemas dirs. `default` (and `user`) has full rights from loopback only; with a
 * `password` it is stored as its SHA-256. Returns the path of config.xml.
 */
export function writeClickHouseConfig({
  dataDir,
  httpPort,
  tcpPort,
  password = '',
  user = 'default',
  listenHost = LOOPBACK,
  logDir = path.join(dataDir, 'log'),
  logLevel = 'information',
  analyst = analystFromEnv(),
  roles = false,
}) {
  dataDir = path.resolve(dataDir);
  logDir = path.resolve(logDir);
  if (analyst && (analyst.user ?? 'analyst') === user)
    throw new Error(
      `ClickHouse: the service user "${user}" cannot also be the read-only analyst user`,
    );
  const dirs = {
    path: path.join(dataDir, 'data') + '/',
    tmp: path.join(dataDir, 'tmp') + '/',
    userFiles: path.join(dataDir, 'user_files') + '/',
    formatSchemas: path.join(dataDir, 'format_schemas') + '/',
  };
  for (const d of [dataDir, logDir, ...Object.values(dirs)])
    fs.mkdirSync(d, { recursive: true });

  const configXml = `<?xml version="1.0"?>
<!-- Generated by scripts/lib/services.mjs; rewritten on every start. -->
<yandex>
    <logger>
        <level>${xmlEscape(logLevel)}</level>
        <log>${xmlEscape(path.join(logDir, 'clickhouse-server.log'))}</log>
        <errorlog>${xmlEscape(path.join(logDir, 'clickhouse-server.err.log'))}</errorlog>
        <size>100M</size>
        <count>3</count>
    </logger>

    <listen_host>${xmlEscape(listenHost)}</listen_host>
    <http_port>${Number(httpPort)}</http_port>
    <tcp_port>${Number(tcpPort)}</tcp_port>
    <!-- no interserver_http_port: replication is not used, and omitting it disables the listener -->

    <max_connections>1024</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>

    <path>${xmlEscape(dirs.path)}</path>
    <tmp_path>${xmlEscape(dirs.tmp)}</tmp_path>
    <user_files_path>${xmlEscape(dirs.userFiles)}</user_files_path>
    <format_schema_path>${xmlEscape(dirs.formatSchemas)}</format_schema_path>

    <users_config>${xmlEscape(path.join(dataDir, 'users.xml'))}</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <umask>022</umask>
    <mlock_executable>false</mlock_executable>

    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
</yandex>
`;

  const userXml = (name) =>
    name === 'default' && password
      ? defaultUserXml({ password })
      : `        <${name}>
            <password>${xmlEscape(password)}</password>
            <networks>
                <ip>::1</ip>
                <ip>127.0.0.1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </${name}>
`;
  const usersXml = `<?xml version="1.0"?>
<!-- Generated by scripts/lib/services.mjs; rewritten on every start. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>

    <users>
${userXml('default')}${user && user !== 'default' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(user) ? userXml(user) : ''}    </users>

    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
`;
  const configFile = path.join(dataDir, 'config.xml');
  fs.writeFileSync(path.join(dataDir, 'users.xml'), usersXml, { mode: 0o600 });
  writeAnalystUser(dataDir, analyst);
  writeServiceRoles(dataDir, roles);
  fs.writeFileSync(configFile, configXml);
  return configFile;
}

/** The `roles` of startClickHouse: "test" → generated passwords kept in <dataDir>/secrets, any database. */
export function testRoles(roles, dataDir) {
  if (roles !== 'test') return roles;
  const passwords = ensureClickHousePasswords(path.join(dataDir, 'secrets'));
  return { database: 'orderflow', anyDatabase: true, passwords };
}

/**
 * Starts a ClickHouse server with its own config in `dataDir` and waits for /ping.
 * `analyst`: options of the read-only analyst user written to users.d (default analystFromEnv():
 * user analyst, password $CLICKHOUSE_ANALYST_PASSWORD or "analyst"), or false for none.
 * `engine`: "server" (Debian's clickhouse-server) or "chdb" (a current ClickHouse in-process behind
 * the same HTTP interface, scripts/lib/chdb.mjs; test-only); default $ORDERFLOW_TEST_CLICKHOUSE.
 * `roles`: the service role users (see writeClickHouseConfig); default ("test"): passwords
 * generated once into <dataDir>/secrets (a restart on the same dataDir keeps them) and no database
 * restriction (suites make a database per run); `roles` of the result names each role's
 * { user, password } for the services a suite starts.
 * @returns {Promise<{url: string, httpPort: number, tcpPort: number, user: string, password: string,
 *   dataDir: string, pid: number, logFile: string, roles: object | null, stop: () => Promise<void>}>}
 */
export async function startClickHouse({
  httpPort,
  tcpPort,
  dataDir,
  password = '',
  user = 'default',
  logDir,
  timeoutMs = 60000,
  detached = false,
  analyst = analystFromEnv(),
  roles = 'test',
  engine = process.env.ORDERFLOW_TEST_CLICKHOUSE || 'server',
} = {}) {
  // the suites' second engine: a current ClickHouse (chdb) behind the same HTTP interface
  if (engine === 'chdb') {
    const { startChdb } = await import('./chdb.mjs');
    return startChdb({ httpPort, dataDir, password, user, logDir, timeoutMs, analyst, roles });
  }
  if (engine !== 'server')
    throw new Error(
      `ORDERFLOW_TEST_CLICKHOUSE must be "server" or "chdb", got "${engine}"`,
    );
  httpPort = Number(httpPort || (await getFreePort()));
  tcpPort = Number(tcpPort || (await getFreePort()));
  const ownsDir = !dataDir;
  dataDir = path.resolve(
    dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-ch-')),
  );
  logDir = path.resolve(logDir ?? path.join(dataDir, 'log'));
  roles = testRoles(roles, dataDir);
  const url = `http://${LOOPBACK}:${httpPort}`;

  for (const [what, port] of [
    ['HTTP port', httpPort],
    ['TCP (native) port', tcpPort],
  ]) {
    if (await isListening(LOOPBACK, port))
      throw new Error(
        `ClickHouse: ${what} ${port} on ${LOOPBACK} is already in use`,
      );
  }

  const configFile = writeClickHouseConfig({
    dataDir,
    httpPort,
    tcpPort,
    password,
    user,
    logDir,
    analyst,
    roles,
  });
  const bin = findBinary('clickhouse-server', 'CLICKHOUSE_SERVER_BIN');
  const stdoutLog = path.join(logDir, 'clickhouse-server.stdout.log');
  // cwd = dataDir: some ClickHouse versions drop files relative to the working directory
  const child = spawnServer(bin, [`--config-file=${configFile}`], {
    logFile: stdoutLog,
    detached,
    cwd: dataDir,
  });
  const logFile = path.join(logDir, 'clickhouse-server.log');

  await waitReady(child, () => clickHousePing(url), {
    timeoutMs,
    what: `ClickHouse (${url}, config ${configFile})`,
    logFiles: [path.join(logDir, 'clickhouse-server.err.log'), stdoutLog],
  });

  let stopped = null;
  return {
    url,
    httpPort,
    tcpPort,
    user,
    password,
    dataDir,
    pid: child.pid,
    logFile,
    roles: roleCredentials(roles),
    stop() {
      stopped ??= (async () => {
        await terminate(child.pid, { graceMs: 20000 });
        if (ownsDir) fs.rmSync(dataDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

// ---------------------------------------------------------------------------
// NATS
// ---------------------------------------------------------------------------

/**
 * Starts nats-server with JetStream (store in `storeDir`) and waits until it answers INFO
 * with JetStream enabled. `accounts`: the platform's users and permissions
 * (scripts/lib/nats-accounts.mjs) with these passwords ({ collector, aggregator, gateway, admin? }),
 * written to `<storeDir>/nats.conf` (mode 0600); without it anyone may connect and do anything.
 * @returns {Promise<{url: string, port: number, storeDir: string, pid: number, logFile: string,
 *   passwords?: object, stop: () => Promise<void>}>}
 */
export async function startNats({
  port,
  storeDir,
  host = LOOPBACK,
  logFile,
  timeoutMs = 30000,
  detached = false,
  accounts,
} = {}) {
  port = Number(port || (await getFreePort()));
  const ownsDir = !storeDir;
  storeDir = path.resolve(
    storeDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-nats-')),
  );
  fs.mkdirSync(storeDir, { recursive: true });
  logFile = path.resolve(logFile ?? path.join(storeDir, 'nats-server.log'));
  const url = `nats://${host}:${port}`;

  if (await isListening(host, port))
    throw new Error(`NATS: port ${port} on ${host} is already in use`);

  const bin = findBinary('nats-server', 'NATS_SERVER_BIN');
  const args = ['-a', host, '-p', String(port), '-js', '-sd', storeDir];
  if (accounts) {
    const { natsAuthorizationConf } = await import('./nats-accounts.mjs');
    const conf = path.join(storeDir, 'nats.conf');
    fs.writeFileSync(conf, natsAuthorizationConf(accounts, { admin: accounts.admin }), { mode: 0o600 });
    fs.chmodSync(conf, 0o600);
    args.push('-c', conf);
  }
  const child = spawnServer(
    bin,
    args,
    {
      logFile,
      detached,
      cwd: storeDir,
    },
  );

  await waitReady(
    child,
    async () => {
      const info = await natsInfo(host, port);
      return Boolean(info && info.jetstream);
    },
    {
      timeoutMs,
      what: `NATS (${url}, store ${storeDir})`,
      logFiles: [logFile],
    },
  );

  let stopped = null;
  return {
    url,
    port,
    storeDir,
    pid: child.pid,
    logFile,
    ...(accounts ? { passwords: accounts } : {}),
    stop() {
      stopped ??= (async () => {
        await terminate(child.pid, { graceMs: 10000 });
        if (ownsDir) fs.rmSync(storeDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

// ---------------------------------------------------------------------------
// pid files (persistent servers started by setup.sh)
// ---------------------------------------------------------------------------

const EXPECTED_BINARY = { nats: 'nats-server', clickhouse: 'clickhouse' };

function writePidFile(file, pid) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${pid}\n`);
}

/** Returns the live pid recorded in `file` if it still belongs to the expected server. */
function readPidFile(file) {
  let pid;
  try {
    pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid)) return null;
  const kind = path.basename(file, '.pid');
  const expected = EXPECTED_BINARY[kind];
  const cmd = processCmdline(pid);
  // guard against pid reuse: only ever signal the server binary we started
  if (
    !cmd ||
    (expected && !cmd.some((arg) => path.basename(arg).startsWith(expected)))
  )
    return null;
  return pid;
}

/** Stops the servers recorded in the given pid files (only if they are still ours). */
export async function stopPidFiles(files, log = console.log) {
  await Promise.all(
    files.map(async (file) => {
      const pid = readPidFile(file);
      if (pid) {
        log(`stopping ${path.basename(file, '.pid')} (pid ${pid})`);
        await terminate(pid, { graceMs: 20000 });
      }
      fs.rmSync(file, { force: true });
    }),
  );
}

/** Stops every pid file listed (one per line) in `startedFile`, then empties it. */
export async function stopStarted(startedFile, log = console.log) {
  if (!startedFile || !fs.existsSync(startedFile)) return;
  const files = fs
    .readFileSync(startedFile, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  await stopPidFiles([...new Set(files)], log);
  fs.writeFileSync(startedFile, '');
}

// ---------------------------------------------------------------------------
// configuration from the environment
// ---------------------------------------------------------------------------

/**
 * The host and port of each server of a NATS_URL (one URL or a comma-separated list, as the
 * services read it: libs/config readNatsServers).
 */
export function natsServerAddresses(natsUrl) {
  return natsUrl
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean)
    .map((u) => {
      const x = new URL(u);
      return { host: x.hostname.replace(/^\[|\]$/g, ''), port: Number(x.port || 4222) };
    });
}

export function envConfig(env = process.env) {
  const dataDir = path.resolve(REPO_ROOT, env.ORDERFLOW_DATA_DIR || '.data');
  const natsHost = env.NATS_HOST || LOOPBACK;
  const natsPort = Number(env.NATS_PORT || 4222);
  const chHost = env.CLICKHOUSE_HOST || LOOPBACK;
  const chPort = Number(env.CLICKHOUSE_PORT || 8123);
  // the set-up's generated ClickHouse passwords (scripts/lib/clickhouse-roles.mjs), once it has run
  const secretsDir = path.join(dataDir, 'secrets');
  const generated = readClickHousePasswords(secretsDir);
  return {
    dataDir,
    natsHost,
    natsPort,
    natsUrl: env.NATS_URL || `nats://${natsHost}:${natsPort}`,
    natsServers: natsServerAddresses(
      env.NATS_URL || `nats://${natsHost}:${natsPort}`,
    ),
    clickhouseHost: chHost,
    clickhousePort: chPort,
    clickhouseTcpPort: Number(env.CLICKHOUSE_TCP_PORT || 9000),
    clickhouseUrl: env.CLICKHOUSE_URL || `http://${chHost}:${chPort}`,
    // CLICKHOUSE_USER / CLICKHOUSE_PASSWORD: an operator's own user, which every service then uses;
    // otherwise the set-up administers as `default` with its generated password
    clickhouseExplicitUser: Boolean(env.CLICKHOUSE_USER),
    clickhouseUser: env.CLICKHOUSE_USER || 'default',
    clickhousePassword:
      env.CLICKHOUSE_PASSWORD ??
      (env.CLICKHOUSE_USER && env.CLICKHOUSE_USER !== 'default'
        ? ''
        : (generated?.default ?? '')),
    clickhouseGenerated: generated,
    secretsDir,
    clickhouseDatabase: env.CLICKHOUSE_DATABASE || 'orderflow',
    clickhouseAnalyst: analystFromEnv(env),
    dashboardHost: env.DASHBOARD_HOST || LOOPBACK,
    dashboardPort: Number(env.DASHBOARD_PORT || 8080),
    pidFiles: {
      nats: path.join(dataDir, 'run', 'nats.pid'),
      clickhouse: path.join(dataDir, 'run', 'clickhouse.pid'),
    },
  };
}

/** Environment with every platform variable filled in (passed to services by platform.mjs). */
export function platformEnv(env = process.env) {
  const c = envConfig(env);
  return {
    ...env,
    ORDERFLOW_DATA_DIR: c.dataDir,
    NATS_HOST: c.natsHost,
    NATS_PORT: String(c.natsPort),
    NATS_URL: c.natsUrl,
    ...natsUserEnv(env, c),
    CLICKHOUSE_HOST: c.clickhouseHost,
    CLICKHOUSE_PORT: String(c.clickhousePort),
    CLICKHOUSE_TCP_PORT: String(c.clickhouseTcpPort),
    CLICKHOUSE_URL: c.clickhouseUrl,
    CLICKHOUSE_DATABASE: c.clickhouseDatabase,
    ...clickHouseRoleEnv(env, c),
    DASHBOARD_PORT: String(c.dashboardPort),
  };
}

/**
 * ORDERFLOW_CLICKHOUSE_{MIGRATOR,WRITER,READER}_{USER,PASSWORD}, which scripts/services.json gives
 * the aggregator (writer, migrations as migrator) and the gateway (reader). Each one given in the
 * environment wins; else an operator's CLICKHOUSE_USER / CLICKHOUSE_PASSWORD, for every role (their
 * own ClickHouse); else the role users the set-up created, with its generated passwords.
 * No service gets `default`'s password.
 */
export function clickHouseRoleEnv(env = process.env, c = envConfig(env)) {
  const out = {};
  for (const role of ['migrator', 'writer', 'reader']) {
    const key = `ORDERFLOW_CLICKHOUSE_${role.toUpperCase()}`;
    let user = env[`${key}_USER`];
    let password = env[`${key}_PASSWORD`];
    if (user === undefined && c.clickhouseExplicitUser) {
      user = c.clickhouseUser;
      password ??= c.clickhousePassword;
    }
    if (user === undefined && c.clickhouseGenerated) {
      user = `orderflow_${role}`;
      password ??= c.clickhouseGenerated[role];
    }
    out[`${key}_USER`] = user ?? '';
    out[`${key}_PASSWORD`] = password ?? '';
  }
  return out;
}

/**
 * NATS_{COLLECTOR,AGGREGATOR,GATEWAY}_{USER,PASSWORD}, which scripts/services.json gives each
 * service as NATS_USER / NATS_PASSWORD: the platform's NATS users (scripts/lib/nats-accounts.mjs),
 * with the passwords of $ORDERFLOW_DATA_DIR/secrets (generated there once). Each one given in the
 * environment wins. A server without users (one the set-up did not start) ignores them. With
 * credentials in NATS_URL, none are set: the URL says who connects.
 */
export function natsUserEnv(env = process.env, c = envConfig(env)) {
  const out = {};
  const inUrl = c.natsUrl.split(',').some((u) => /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(u.trim()));
  const given = NATS_COMPONENTS.every((name) => env[passwordVariable(name)]);
  const generated = inUrl || given ? null : ensureNatsPasswords(path.join(c.dataDir, 'secrets'));
  for (const name of NATS_COMPONENTS) {
    const key = `NATS_${name.toUpperCase()}`;
    out[`${key}_USER`] = inUrl ? '' : (env[`${key}_USER`] ?? name);
    out[passwordVariable(name)] = inUrl ? '' : (env[passwordVariable(name)] || generated[name]);
  }
  return out;
}

/** Path for messages: relative inside the repo, absolute elsewhere. */
const show = (p) =>
  p.startsWith(REPO_ROOT + path.sep) ? path.relative(REPO_ROOT, p) : p;

const isLocal = (host) =>
  ['127.0.0.1', 'localhost', '::1', '0.0.0.0'].includes(host);

function recordStarted(pidFile) {
  const startedFile = process.env.ORDERFLOW_STARTED_FILE;
  if (startedFile) fs.appendFileSync(startedFile, `${pidFile}\n`);
}

async function ensureNats(c, log) {
  // a NATS_URL that lists several servers (a cluster) is used as it is: it is never started here
  for (const s of c.natsServers) {
    if (await isListening(s.host, s.port)) {
      log(`NATS: already listening on ${s.host}:${s.port}, leaving it alone`);
      const ours = readPidFile(c.pidFiles.nats) !== null;
      if (!ours)
        log(
          `NATS: WARNING the set-up did not start the server on ${s.host}:${s.port}: the platform's NATS users and permissions (scripts/lib/nats-accounts.mjs) are not in force there, so whoever reaches it may publish trades or delete streams; to run the platform's own, choose a free NATS_PORT`,
        );
      else if (!fs.existsSync(path.join(c.dataDir, 'nats', 'nats.conf')))
        log(
          `NATS: WARNING the server on ${s.host}:${s.port} was started by an earlier set-up without the platform's NATS users: stop it (node scripts/lib/services.mjs stop) and run the set-up again`,
        );
      return;
    }
  }
  if (c.natsServers.length > 1)
    throw new Error(
      `NATS: none of the servers of NATS_URL (${c.natsUrl}) answers; start the cluster first`,
    );
  const { host, port } = c.natsServers[0];
  const where = `${host}:${port}`;
  if (!isLocal(host))
    throw new Error(
      `NATS: nothing listens on ${where} and it is not a local address, cannot start it`,
    );
  const storeDir = path.join(c.dataDir, 'nats');
  const logFile = path.join(c.dataDir, 'logs', 'nats.log');
  log(
    `NATS: starting nats-server -js on ${where} (store ${show(storeDir)}, log ${show(logFile)})`,
  );
  // the platform's users, each limited to its subjects; passwords in secrets/ (natsUserEnv)
  const secrets = path.join(c.dataDir, 'secrets');
  const nats = await startNats({
    host,
    port,
    storeDir,
    logFile,
    detached: true,
    accounts: ensureNatsPasswords(secrets),
  });
  writePidFile(c.pidFiles.nats, nats.pid);
  recordStarted(c.pidFiles.nats);
  log(`NATS: ready at ${nats.url} (pid ${nats.pid}), users ${NATS_COMPONENTS.join(', ')} and admin (passwords in ${show(secrets)}/nats-*.password)`);
}

async function ensureClickHouse(c, log) {
  const url = `http://${c.clickhouseHost}:${c.clickhousePort}`;
  // one password per role and for `default`, generated once, kept in <data>/secrets (0600)
  const generated = ensureClickHousePasswords(c.secretsDir);
  const admin = {
    user: c.clickhouseUser,
    password: c.clickhouseExplicitUser
      ? c.clickhousePassword
      : generated.default,
  };
  const config = {
    httpPort: c.clickhousePort,
    tcpPort: c.clickhouseTcpPort,
    // `default` is nobody's service user: loopback only, and a password
    password: c.clickhouseUser === 'default' ? admin.password : generated.default,
    user: c.clickhouseUser,
    analyst: c.clickhouseAnalyst,
    roles: { database: c.clickhouseDatabase, passwords: generated },
  };
  if (await clickHousePing(url)) {
    log(`ClickHouse: already answering ${url}/ping, leaving it alone`);
    // a server started by an earlier setup reads our users.xml: refresh its users (users.xml and
    // users.d are re-read without a restart)
    const ours = path.join(c.dataDir, 'clickhouse');
    if (fs.existsSync(path.join(ours, 'users.xml'))) {
      writeClickHouseConfig({ ...config, dataDir: ours, logDir: path.join(c.dataDir, 'logs') });
      log(
        `ClickHouse: users (default, analyst, orderflow_migrator/writer/reader) written to ${show(ours)}/users.xml and users.d/, passwords in ${show(c.secretsDir)}/`,
      );
    } else if (!c.clickhouseExplicitUser) {
      log(
        'ClickHouse: WARNING not started by this set-up: its role users are not created here; set CLICKHOUSE_USER / CLICKHOUSE_PASSWORD for the services',
      );
    }
  } else {
    // one of ours may still be starting up (e.g. a concurrent setup run)
    const existing = readPidFile(c.pidFiles.clickhouse);
    if (existing) {
      log(
        `ClickHouse: pid ${existing} from a previous setup is starting, waiting for ${url}/ping`,
      );
      const deadline = Date.now() + 60000;
      while (
        Date.now() < deadline &&
        !(await clickHousePing(url)) &&
        isAlive(existing)
      )
        await sleep(300);
    }
    if (!(await clickHousePing(url))) {
      if (!isLocal(c.clickhouseHost))
        throw new Error(
          `ClickHouse: ${url}/ping does not answer and it is not a local address, cannot start it`,
        );
      const dataDir = path.join(c.dataDir, 'clickhouse');
      const logDir = path.join(c.dataDir, 'logs');
      log(
        `ClickHouse: starting clickhouse-server on ${url} (tcp ${c.clickhouseTcpPort}, config ${show(dataDir)}/config.xml, logs ${show(logDir)}/)`,
      );
      const ch = await startClickHouse({
        ...config,
        dataDir,
        logDir,
        detached: true,
        engine: 'server',
      }).catch((err) => {
        if (/already in use/.test(err.message))
          err.message +=
            ' (choose other ports with CLICKHOUSE_PORT / CLICKHOUSE_TCP_PORT)';
        throw err;
      });
      writePidFile(c.pidFiles.clickhouse, ch.pid);
      recordStarted(c.pidFiles.clickhouse);
      log(
        `ClickHouse: ready at ${ch.url} (pid ${ch.pid}); users default (loopback), analyst, orderflow_migrator/writer/reader, passwords in ${show(c.secretsDir)}/`,
      );
    }
  }
  // the platform's database; harmless if it exists already
  const auth =
    'Basic ' +
    Buffer.from(`${admin.user}:${admin.password}`).toString('base64');
  try {
    // a running server takes a rewritten users.xml within a few seconds
    const deadline = Date.now() + 15000;
    for (;;) {
      const res = await httpRequest(`${url}/`, {
        method: 'POST',
        headers: { Authorization: auth },
        body: `CREATE DATABASE IF NOT EXISTS ${c.clickhouseDatabase}`,
        timeoutMs: 10000,
      });
      if (res.status === 200) break;
      if (!/Code: (192|193|516)\b/.test(res.body) || Date.now() > deadline)
        throw new Error(`HTTP ${res.status}: ${res.body.trim().split('\n')[0]}`);
      await sleep(500);
    }
    log(`ClickHouse: database ${c.clickhouseDatabase} exists`);
  } catch (err) {
    log(
      `ClickHouse: WARNING could not create database ${c.clickhouseDatabase} as ${c.clickhouseUser}: ${err.message}`,
    );
  }
}

// ---------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------

async function main(argv) {
  const [cmd, ...args] = argv;
  const log = (msg) => console.log(`setup: ${msg}`);
  const c = envConfig();
  switch (cmd) {
    case 'ensure': {
      const only = args.length
        ? new Set(args)
        : new Set(['nats', 'clickhouse']);
      if (only.has('nats')) await ensureNats(c, log);
      if (only.has('clickhouse')) await ensureClickHouse(c, log);
      return 0;
    }
    case 'stop':
      await stopPidFiles(args.length ? args : Object.values(c.pidFiles), (m) =>
        console.log(`services: ${m}`),
      );
      return 0;
    case 'stop-started':
      await stopStarted(args[0] ?? process.env.ORDERFLOW_STARTED_FILE, (m) =>
        console.log(`services: ${m}`),
      );
      return 0;
    case 'status': {
      let nats = null;
      for (const x of c.natsServers) nats ??= await natsInfo(x.host, x.port);
      const ch = await clickHousePing(c.clickhouseUrl);
      console.log(
        `NATS ${c.natsUrl}: ${nats ? `up (version ${nats.version}, jetstream ${Boolean(nats.jetstream)})` : 'down'}`,
      );
      console.log(`ClickHouse ${c.clickhouseUrl}: ${ch ? 'up' : 'down'}`);
      return nats && ch ? 0 : 1;
    }
    default:
      console.error(
        'usage: node scripts/lib/services.mjs ensure [nats] [clickhouse] | stop [PIDFILE...] | stop-started FILE | status',
      );
      return 2;
  }
}

if (
  process.argv[1] &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`error: ${err.message}`);
      process.exit(1);
    },
  );
}
