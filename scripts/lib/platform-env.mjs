// The platform's configuration from the environment: where NATS and ClickHouse are, the data
// directory, and the credentials each service gets (passed to the services by platform.mjs).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readClickHousePasswords } from './clickhouse-roles.mjs';
import { analystFromEnv } from './clickhouse-server.mjs';
import { NATS_COMPONENTS, ensureNatsPasswords, passwordVariable } from './nats-accounts.mjs';
import { LOOPBACK } from './net-probes.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

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
    natsServers: natsServerAddresses(env.NATS_URL || `nats://${natsHost}:${natsPort}`),
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
      (env.CLICKHOUSE_USER && env.CLICKHOUSE_USER !== 'default' ? '' : (generated?.default ?? '')),
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
    out[passwordVariable(name)] = inUrl ? '' : env[passwordVariable(name)] || generated[name];
  }
  return out;
}
