/**
 * Test-only: starts scripts/chdb/server.mjs, a current ClickHouse (chdb, ClickHouse 26.x in-process)
 * behind ClickHouse's HTTP interface, with the same options and result as startClickHouse, so that
 * a suite runs against it unchanged. startClickHouse delegates here when
 * ORDERFLOW_TEST_CLICKHOUSE=chdb (the `test-ch26` targets set it). The server's limits are listed
 * in its header and in README.md ("ClickHouse versions").
 *
 * chdb is installed into scripts/chdb/node_modules by scripts/test.sh (`npm ci --prefix
 * scripts/chdb`): about 540 MB that `npm start` never needs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  analystFromEnv,
  clickHousePing,
  testRoles,
  getFreePort,
  isListening,
  spawnServer,
  terminate,
  waitReady,
} from './services.mjs';
import { ROLE_PROFILES, ROLE_USERS, analystRole, roleCredentials } from './clickhouse-roles.mjs';

const LOOPBACK = '127.0.0.1';
const SERVER = fileURLToPath(new URL('../chdb/server.mjs', import.meta.url));
const MODULE = fileURLToPath(new URL('../chdb/node_modules/chdb/package.json', import.meta.url));

/**
 * @returns {Promise<{url: string, httpPort: number, tcpPort: number, user: string,
 *   password: string, dataDir: string, pid: number, logFile: string, engine: 'chdb',
 *   stop: () => Promise<void>, kill: () => void}>}
 */
export async function startChdb({
  httpPort,
  dataDir,
  password = '',
  user = 'default',
  logDir,
  timeoutMs = 60000,
  analyst = analystFromEnv(),
  roles = 'test',
} = {}) {
  if (!fs.existsSync(MODULE))
    throw new Error(
      `chdb is not installed (${MODULE} is missing): run \`npm ci --prefix scripts/chdb\` (scripts/test.sh does)`,
    );
  if (user !== 'default') throw new Error(`the chdb front knows the user "default" only (asked for "${user}")`);
  httpPort = Number(httpPort || (await getFreePort()));
  const ownsDir = !dataDir;
  dataDir = path.resolve(dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-chdb-')));
  // CHDB_FRONT_LOG_DIR keeps the front's log (with CHDB_FRONT_TRACE=1, every query) after the run
  logDir = path.resolve(logDir ?? process.env.CHDB_FRONT_LOG_DIR ?? path.join(dataDir, 'log'));
  roles = testRoles(roles, dataDir);
  const url = `http://${LOOPBACK}:${httpPort}`;
  if (await isListening(LOOPBACK, httpPort))
    throw new Error(`chdb: HTTP port ${httpPort} on ${LOOPBACK} is already in use`);
  const logFile = path.join(logDir, 'chdb-server.log');
  const args = [SERVER, '--port', String(httpPort), '--path', path.join(dataDir, 'chdb'), '--password', password];
  // the role users with their profiles' settings (scripts/chdb/server.mjs says what the engine
  // enforces of them there)
  const users = [];
  if (analyst) {
    const a = analystRole(analyst);
    users.push({ user: a.user, password: a.password, settings: { ...ROLE_PROFILES.analyst, ...a.settings } });
  }
  for (const role of roles ? ['migrator', 'writer', 'reader'] : [])
    users.push({ user: ROLE_USERS[role], password: roles.passwords[role], settings: ROLE_PROFILES[role] });
  if (users.length > 0) args.push('--users', JSON.stringify(users));
  // CHDB_FRONT_CONNECTIONS: connections per user (default 4); 1 makes every query of a user wait
  // for the previous one, a slow server
  if (process.env.CHDB_FRONT_CONNECTIONS) args.push('--connections', process.env.CHDB_FRONT_CONNECTIONS);
  const child = spawnServer(process.execPath, args, {
    logFile,
    detached: false,
    cwd: dataDir,
  });
  await waitReady(child, () => clickHousePing(url), {
    timeoutMs,
    what: `chdb (${url})`,
    logFiles: [logFile],
  });
  let stopped = null;
  return {
    url,
    httpPort,
    // no native protocol: the platform speaks HTTP only
    tcpPort: 0,
    user,
    password,
    dataDir,
    pid: child.pid,
    logFile,
    roles: roleCredentials(roles),
    engine: 'chdb',
    kill() {
      child.kill('SIGKILL');
    },
    stop() {
      stopped ??= (async () => {
        await terminate(child.pid, { graceMs: 20000 });
        if (ownsDir) fs.rmSync(dataDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
