// `services.mjs ensure`: the set-up's persistent NATS and ClickHouse under $ORDERFLOW_DATA_DIR,
// started when nothing answers on their ports (a server already there is used as it is), with
// the platform's users and the generated passwords of $ORDERFLOW_DATA_DIR/secrets.

import fs from 'node:fs';
import path from 'node:path';
import { ensureClickHousePasswords } from './clickhouse-roles.mjs';
import { startClickHouse, writeClickHouseConfig } from './clickhouse-server.mjs';
import { NATS_COMPONENTS, ensureNatsPasswords } from './nats-accounts.mjs';
import { startNats } from './nats-server.mjs';
import { clickHousePing, httpRequest, isListening } from './net-probes.mjs';
import { readPidFile, recordStarted, writePidFile } from './pid-files.mjs';
import { REPO_ROOT } from './platform-env.mjs';
import { isAlive, sleep } from './server-process.mjs';

/** Path for messages: relative inside the repo, absolute elsewhere. */
const show = (p) => (p.startsWith(REPO_ROOT + path.sep) ? path.relative(REPO_ROOT, p) : p);

const isLocal = (host) => ['127.0.0.1', 'localhost', '::1', '0.0.0.0'].includes(host);

/** NATS of `c` (envConfig) answers, or is started (local addresses only). */
export async function ensureNats(c, log) {
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
    throw new Error(`NATS: none of the servers of NATS_URL (${c.natsUrl}) answers; start the cluster first`);
  const { host, port } = c.natsServers[0];
  const where = `${host}:${port}`;
  if (!isLocal(host))
    throw new Error(`NATS: nothing listens on ${where} and it is not a local address, cannot start it`);
  const storeDir = path.join(c.dataDir, 'nats');
  const logFile = path.join(c.dataDir, 'logs', 'nats.log');
  log(`NATS: starting nats-server -js on ${where} (store ${show(storeDir)}, log ${show(logFile)})`);
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
  log(
    `NATS: ready at ${nats.url} (pid ${nats.pid}), users ${NATS_COMPONENTS.join(', ')} and admin (passwords in ${show(secrets)}/nats-*.password)`,
  );
}

/** ClickHouse of `c` (envConfig) answers, or is started (local addresses only), with its users and database. */
export async function ensureClickHouse(c, log) {
  const url = `http://${c.clickhouseHost}:${c.clickhousePort}`;
  // one password per role and for `default`, generated once, kept in <data>/secrets (0600)
  const generated = ensureClickHousePasswords(c.secretsDir);
  const admin = {
    user: c.clickhouseUser,
    password: c.clickhouseExplicitUser ? c.clickhousePassword : generated.default,
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
      log(`ClickHouse: pid ${existing} from a previous setup is starting, waiting for ${url}/ping`);
      const deadline = Date.now() + 60000;
      while (Date.now() < deadline && !(await clickHousePing(url)) && isAlive(existing)) await sleep(300);
    }
    if (!(await clickHousePing(url))) {
      if (!isLocal(c.clickhouseHost))
        throw new Error(`ClickHouse: ${url}/ping does not answer and it is not a local address, cannot start it`);
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
          err.message += ' (choose other ports with CLICKHOUSE_PORT / CLICKHOUSE_TCP_PORT)';
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
  const auth = 'Basic ' + Buffer.from(`${admin.user}:${admin.password}`).toString('base64');
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
    log(`ClickHouse: WARNING could not create database ${c.clickhouseDatabase} as ${c.clickhouseUser}: ${err.message}`);
  }
}
