#!/usr/bin/env node
// Infrastructure helpers for the order-flow platform: NATS (JetStream) and ClickHouse. This file is
// their entry point: the library (re-exported from one module per duty, listed below) and the CLI.
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

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureClickHouse, ensureNats } from './ensure-servers.mjs';
import { clickHousePing, natsInfo } from './net-probes.mjs';
import { stopPidFiles, stopStarted } from './pid-files.mjs';
import { envConfig } from './platform-env.mjs';

// The library, one module per duty:
//   net-probes.mjs         ports and health probes (isListening, getFreePort, httpRequest, clickHousePing, natsInfo)
//   server-process.mjs     server child processes (findBinary, spawnServer, waitReady, terminate)
//   clickhouse-server.mjs  a ClickHouse of its own (writeClickHouseConfig, startClickHouse, the analyst user)
//   nats-server.mjs        a nats-server of its own (startNats)
//   pid-files.mjs          the set-up's persistent servers (stopPidFiles, stopStarted)
//   platform-env.mjs       configuration and credentials from the environment (envConfig, platformEnv)
//   ensure-servers.mjs     the CLI's `ensure`
export {
  analystFromEnv,
  analystUsersXml,
  startClickHouse,
  testRoles,
  writeAnalystUser,
  writeClickHouseConfig,
  xmlEscape,
} from './clickhouse-server.mjs';
export { startNats } from './nats-server.mjs';
export { clickHousePing, getFreePort, httpRequest, isListening, natsInfo } from './net-probes.mjs';
export { stopPidFiles, stopStarted } from './pid-files.mjs';
export { clickHouseRoleEnv, envConfig, natsServerAddresses, natsUserEnv, platformEnv } from './platform-env.mjs';
export { findBinary, spawnServer, terminate, waitReady } from './server-process.mjs';

// ---------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------

async function main(argv) {
  const [cmd, ...args] = argv;
  const log = (msg) => console.log(`setup: ${msg}`);
  const c = envConfig();
  switch (cmd) {
    case 'ensure': {
      const only = args.length ? new Set(args) : new Set(['nats', 'clickhouse']);
      if (only.has('nats')) await ensureNats(c, log);
      if (only.has('clickhouse')) await ensureClickHouse(c, log);
      return 0;
    }
    case 'stop':
      await stopPidFiles(args.length ? args : Object.values(c.pidFiles), (m) => console.log(`services: ${m}`));
      return 0;
    case 'stop-started':
      await stopStarted(args[0] ?? process.env.ORDERFLOW_STARTED_FILE, (m) => console.log(`services: ${m}`));
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

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`error: ${err.message}`);
      process.exit(1);
    },
  );
}
