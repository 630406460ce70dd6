// A replicated ClickHouse on one machine, for tests of the replicated variant of the schema
// (CLICKHOUSE_CLUSTER, k8s/clickhouse/README.md): a standalone ZooKeeper from Debian's `zookeeper`
// package and N clickhouse-server processes (Debian's 18.16 or whatever is on PATH) forming one
// shard with N replicas, as the Altinity installation in k8s/clickhouse does with Keeper.
//
//   import { startClickHouseCluster, zooKeeperMissing } from '../../scripts/lib/clickhouse-cluster.mjs';
//   if (zooKeeperMissing()) skip(zooKeeperMissing());
//   const c = await startClickHouseCluster({ replicas: 2, cluster: 'orderflow' });
//   c.replicas[0].url            // http://127.0.0.1:<port>
//   await c.replicas[0].kill();  // kill -9 (stop(): SIGTERM); both keep the data directory
//   await c.replicas[0].start(); // same ports, same data directory
//   await c.stop();              // every server, ZooKeeper, the temp dirs
//
// Every server gets its own temp dir and free loopback ports (HTTP, native TCP, interserver HTTP).
// Each replica's config.d/cluster.xml adds to services.mjs's config what replication needs: the
// cluster in <remote_servers> (one shard, every replica, internal_replication), the macros the
// replicated engines and the operator use ({shard}, {replica}, {cluster}), <zookeeper> and
// <distributed_ddl> (the queue ON CLUSTER statements go through).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { findBinary, isListening, spawnServer, startClickHouse, terminate, waitReady, xmlEscape } from './services.mjs';

const LOOPBACK = '127.0.0.1';
const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
// a logging back-end for ZooKeeper's slf4j (without one it logs nothing); used when present
const SLF4J_SIMPLE = '/usr/share/java/slf4j-simple.jar';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Why ZooKeeper cannot be started here (Debian's package or java missing), or null. */
export function zooKeeperMissing() {
  if (!fs.existsSync(ZOOKEEPER_JAR))
    return `${ZOOKEEPER_JAR} is missing: Debian's zookeeper package is not installed (scripts/setup.sh installs it)`;
  try {
    findBinary('java', 'JAVA_BIN');
  } catch {
    return "java is not on PATH (Debian's zookeeper package depends on a JRE)";
  }
  return null;
}

function canListen(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: LOOPBACK, port }, () => server.close(() => resolve(true)));
  });
}

/**
 * `n` free loopback ports below the kernel's ephemeral range: a server stopped and started again
 * on the same port must not find it taken by an outgoing connection meanwhile, which a port from
 * the ephemeral range (what services.mjs's getFreePort returns) can be.
 */
export async function stablePorts(n) {
  let low = 32768;
  try {
    low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    /* not Linux: the usual range */
  }
  const from = Math.max(1024, low - 12000);
  const out = [];
  for (let i = 0; out.length < n && i < 2000; i++) {
    const port = from + Math.floor(Math.random() * (low - from));
    if (!out.includes(port) && (await canListen(port))) out.push(port);
  }
  if (out.length < n) throw new Error(`no ${n} free ports in [${from}, ${low})`);
  return out;
}

/**
 * Whether any thread of the process still runs. A killed multi-threaded server's main thread can
 * be a zombie while its other threads are still exiting (and still hold its files): it counts as
 * gone only once it is a zombie with no other thread left, or reaped.
 */
function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === 'EPERM';
  }
  try {
    if (!/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))) return true;
    return fs.readdirSync(`/proc/${pid}/task`).length > 1;
  } catch {
    return false;
  }
}

/** kill -9 and wait until the process is gone. */
async function killHard(pid) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  const deadline = Date.now() + 10000;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
}

/** ZooKeeper's four-letter word `ruok` answered with `imok`. */
function zooKeeperOk(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port });
    let buf = '';
    const done = (ok) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('ruok'));
    socket.on('data', (d) => {
      buf += d.toString('utf8');
      if (buf.includes('imok')) done(true);
    });
    socket.once('end', () => done(buf.includes('imok')));
  });
}

/**
 * A standalone ZooKeeper (Debian's package: org.apache.zookeeper.server.ZooKeeperServerMain on
 * /usr/share/java/zookeeper.jar) with its data in a temp dir, on a free loopback client port,
 * admin server off. tickTime 1000 ms, so that sessions may be 2-20 s long.
 * @returns {Promise<{port: number, dataDir: string, pid: number, logFile: string,
 *   stop: () => Promise<void>, kill: () => Promise<void>}>}
 */
export async function startZooKeeper({ port, dataDir, timeoutMs = 60000 } = {}) {
  const missing = zooKeeperMissing();
  if (missing) throw new Error(`ZooKeeper: ${missing}`);
  port = Number(port || (await stablePorts(1))[0]);
  const ownsDir = !dataDir;
  dataDir = path.resolve(dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-zk-')));
  fs.mkdirSync(path.join(dataDir, 'data'), { recursive: true });
  if (await isListening(LOOPBACK, port)) throw new Error(`ZooKeeper: port ${port} on ${LOOPBACK} is already in use`);
  const cfg = path.join(dataDir, 'zoo.cfg');
  fs.writeFileSync(
    cfg,
    [
      '# Generated by scripts/lib/clickhouse-cluster.mjs',
      'tickTime=1000',
      `dataDir=${path.join(dataDir, 'data')}`,
      `clientPort=${port}`,
      `clientPortAddress=${LOOPBACK}`,
      'maxClientCnxns=0',
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok,srvr,mntr',
      'autopurge.purgeInterval=0',
      // a test's ZooKeeper is never killed and its data is thrown away: it need not fsync every
      // transaction (on a busy shared disk each replicated insert and ON CLUSTER statement waits for it)
      'forceSync=no',
      '',
    ].join('\n'),
  );
  const classpath = [ZOOKEEPER_JAR, ...(fs.existsSync(SLF4J_SIMPLE) ? [SLF4J_SIMPLE] : [])].join(':');
  const logFile = path.join(dataDir, 'zookeeper.log');
  const child = spawnServer(
    findBinary('java', 'JAVA_BIN'),
    [
      '-Xms32m',
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Dzookeeper.jmx.log4j.disable=true',
      '-cp',
      classpath,
      'org.apache.zookeeper.server.ZooKeeperServerMain',
      cfg,
    ],
    { logFile, detached: false, cwd: dataDir },
  );
  await waitReady(child, () => zooKeeperOk(port), {
    timeoutMs,
    what: `ZooKeeper (127.0.0.1:${port}, ${cfg})`,
    logFiles: [logFile],
  });
  let stopped = null;
  const finish = async (hard) => {
    if (hard) await killHard(child.pid);
    else await terminate(child.pid, { graceMs: 10000 });
    if (ownsDir) fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 });
  };
  return {
    port,
    dataDir,
    pid: child.pid,
    logFile,
    stop() {
      stopped ??= finish(false);
      return stopped;
    },
    kill() {
      stopped ??= finish(true);
      return stopped;
    },
  };
}

/** config.d/cluster.xml of one replica. */
export function clusterConfigXml({
  cluster,
  shard,
  replica,
  interserverPort,
  members,
  zooKeeperPort,
  sessionTimeoutMs,
}) {
  return `<?xml version="1.0"?>
<!-- Generated by scripts/lib/clickhouse-cluster.mjs: replication and the cluster of this replica. -->
<yandex>
    <interserver_http_host>${LOOPBACK}</interserver_http_host>
    <interserver_http_port>${Number(interserverPort)}</interserver_http_port>

    <remote_servers>
        <${cluster}>
            <shard>
                <internal_replication>true</internal_replication>
${members
  .map(
    (tcpPort) => `                <replica>
                    <host>${LOOPBACK}</host>
                    <port>${Number(tcpPort)}</port>
                </replica>
`,
  )
  .join('')}            </shard>
        </${cluster}>
    </remote_servers>

    <macros>
        <cluster>${xmlEscape(cluster)}</cluster>
        <shard>${xmlEscape(shard)}</shard>
        <replica>${xmlEscape(replica)}</replica>
    </macros>

    <zookeeper>
        <node>
            <host>${LOOPBACK}</host>
            <port>${Number(zooKeeperPort)}</port>
        </node>
        <session_timeout_ms>${Number(sessionTimeoutMs)}</session_timeout_ms>
    </zookeeper>

    <distributed_ddl>
        <path>/clickhouse/task_queue/ddl</path>
    </distributed_ddl>
</yandex>
`;
}

/**
 * One shard of `replicas` ClickHouse replicas on this machine, with a ZooKeeper of its own.
 * `sessionTimeoutMs`: the replicas' ZooKeeper session timeout; a replica killed with -9 is seen
 * as gone (its ephemeral is_active node expires) only after it, and a restarted one waits for
 * that before it takes part again (ClickHouse's default is 30 s).
 * @returns {Promise<{cluster: string, zooKeeper: object, replicas: {name: string, url: string,
 *   httpPort: number, tcpPort: number, interserverPort: number, dataDir: string, logFile: string,
 *   running: boolean, pid: number | null, start: () => Promise<void>, stop: () => Promise<void>,
 *   kill: () => Promise<void>}[], stop: () => Promise<void>}>}
 */
export async function startClickHouseCluster({
  replicas = 2,
  cluster = 'orderflow',
  shard = '01',
  sessionTimeoutMs = 6000,
  timeoutMs = 120000,
} = {}) {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(cluster)) throw new Error(`cluster name "${cluster}" must be an identifier`);
  const zooKeeper = await startZooKeeper();
  const dirs = [];
  const members = [];
  const out = [];
  try {
    const ports = await stablePorts(replicas * 3);
    for (let i = 0; i < replicas; i++) {
      const [httpPort, tcpPort, interserverPort] = ports.slice(i * 3, i * 3 + 3);
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `orderflow-ch-r${i + 1}-`));
      dirs.push(dataDir);
      members.push({
        name: `r${i + 1}`,
        httpPort,
        tcpPort,
        interserverPort,
        dataDir,
      });
    }
    for (const m of members) {
      fs.mkdirSync(path.join(m.dataDir, 'config.d'), { recursive: true });
      fs.writeFileSync(
        path.join(m.dataDir, 'config.d', 'cluster.xml'),
        clusterConfigXml({
          cluster,
          shard,
          replica: m.name,
          interserverPort: m.interserverPort,
          members: members.map((x) => x.tcpPort),
          zooKeeperPort: zooKeeper.port,
          sessionTimeoutMs,
        }),
      );
    }
    for (const m of members) {
      let server = null;
      const r = {
        name: m.name,
        url: `http://${LOOPBACK}:${m.httpPort}`,
        httpPort: m.httpPort,
        tcpPort: m.tcpPort,
        interserverPort: m.interserverPort,
        dataDir: m.dataDir,
        logFile: path.join(m.dataDir, 'log', 'clickhouse-server.log'),
        get running() {
          return server !== null;
        },
        get pid() {
          return server?.pid ?? null;
        },
        /** Starts the server (again) on its ports with its data directory; resolves once /ping answers. */
        async start() {
          if (server) return;
          server = await startClickHouse({
            httpPort: m.httpPort,
            tcpPort: m.tcpPort,
            dataDir: m.dataDir,
            analyst: false,
            timeoutMs,
          });
        },
        /** SIGTERM (a clean shutdown), data kept. */
        async stop() {
          const s = server;
          server = null;
          if (s) await s.stop();
        },
        /** kill -9, data kept. */
        async kill() {
          const s = server;
          server = null;
          if (s) await killHard(s.pid);
        },
      };
      out.push(r);
    }
    await Promise.all(out.map((r) => r.start()));
    let stopped = null;
    return {
      cluster,
      zooKeeper,
      replicas: out,
      stop() {
        stopped ??= (async () => {
          await Promise.all(out.map((r) => r.stop().catch(() => undefined)));
          // its data goes with the directories below: no need for a clean shutdown
          await zooKeeper.kill();
          for (const d of dirs) fs.rmSync(d, { recursive: true, force: true, maxRetries: 3 });
        })();
        return stopped;
      },
    };
  } catch (err) {
    await Promise.all(out.map((r) => r.kill()));
    await zooKeeper.kill().catch(() => undefined);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true, maxRetries: 3 });
    throw err;
  }
}
