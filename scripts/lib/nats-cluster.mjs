// A JetStream cluster of nats-server processes on loopback, for tests that kill and restart its
// members (tests/src/proof/nats-cluster.int.spec.ts).
//
//   import { startNatsCluster } from '../../scripts/lib/nats-cluster.mjs';
//   const cluster = await startNatsCluster({ size: 3 });
//   cluster.urls            'nats://127.0.0.1:41001,nats://127.0.0.1:41002,nats://127.0.0.1:41003' (NATS_URL)
//   cluster.nodes[0]        { name: 'n1', port, pid, kill('SIGKILL'), start(), healthz(), ... }
//   await cluster.stop();   every node stopped, the temp dir removed
//
// Each node has its own config file (nats-server 2.9 syntax), store dir and log in one temp dir,
// a client port, a cluster route port and a monitoring port, all chosen free on 127.0.0.1, and
// routes to every other node. A node started again keeps its ports and store dir.
// Only Node built-ins are used, like services.mjs.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findBinary, getFreePort, httpRequest, natsInfo } from './services.mjs';
import { natsAuthorizationConf } from './nats-accounts.mjs';

const LOOPBACK = '127.0.0.1';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Nodes that must not outlive this Node process.
const running = new Set();
process.once('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/** GET http://127.0.0.1:<monitorPort><path> as JSON, or null when the node does not answer. */
async function monitor(port, p, timeoutMs = 2000) {
  try {
    const res = await httpRequest(`http://${LOOPBACK}:${port}${p}`, { timeoutMs });
    return { status: res.status, body: JSON.parse(res.body) };
  } catch {
    return null;
  }
}

function configText(node, peers, clusterName, limits, authorization) {
  return [
    `server_name: ${node.name}`,
    `listen: ${LOOPBACK}:${node.port}`,
    `http: ${LOOPBACK}:${node.monitorPort}`,
    'jetstream {',
    `  store_dir: ${JSON.stringify(node.storeDir)}`,
    `  max_memory_store: ${limits.maxMemoryBytes}`,
    `  max_file_store: ${limits.maxFileBytes}`,
    '}',
    'cluster {',
    `  name: ${clusterName}`,
    `  listen: ${LOOPBACK}:${node.routePort}`,
    '  routes: [',
    ...peers.map((p) => `    nats-route://${LOOPBACK}:${p.routePort}`),
    '  ]',
    '}',
    authorization,
    '',
  ].join('\n');
}

/**
 * Starts `size` nats-server processes forming one JetStream cluster and resolves once every node
 * routes to every other and all agree on a JetStream meta leader.
 * maxFileBytes is each server's JetStream file limit: every stream placed on it reserves its
 * max_bytes there (TRADES and COLLECTOR_EVENTS: TRADES_MAX_GIB each, 10 GiB by default), not disk.
 * `accounts`: the platform's users and permissions (scripts/lib/nats-accounts.mjs) with these
 * passwords ({ collector, aggregator, gateway, admin? }) on every node (the routes need none).
 * @param {{ size?: number, clusterName?: string, dir?: string, timeoutMs?: number,
 *   maxMemoryBytes?: number, maxFileBytes?: number, accounts?: object }} [o]
 * @returns {Promise<{ urls: string, name: string, dir: string, nodes: ClusterNode[],
 *   node(name: string): ClusterNode | undefined, metaLeader(): Promise<string | null>,
 *   waitFormed(timeoutMs?: number): Promise<string>, stop(): Promise<void> }>}
 */
export async function startNatsCluster({
  size = 3,
  clusterName = 'orderflow-test',
  dir,
  timeoutMs = 60_000,
  maxMemoryBytes = 256 * 2 ** 20,
  maxFileBytes = 64 * 2 ** 30,
  accounts,
} = {}) {
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`startNatsCluster: size must be a positive integer, got ${size}`);
  const bin = findBinary('nats-server', 'NATS_SERVER_BIN');
  const ownsDir = !dir;
  dir = path.resolve(dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'orderflow-nats-cluster-')));
  fs.mkdirSync(dir, { recursive: true });
  const specs = [];
  const taken = new Set();
  const port = async () => {
    for (;;) {
      const p = await getFreePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  for (let i = 1; i <= size; i++) {
    const name = `n${i}`;
    specs.push({
      name,
      port: await port(),
      routePort: await port(),
      monitorPort: await port(),
      storeDir: path.join(dir, name, 'store'),
      configFile: path.join(dir, name, 'nats.conf'),
      logFile: path.join(dir, name, 'nats-server.log'),
    });
  }
  const authorization = accounts ? natsAuthorizationConf(accounts, { admin: accounts.admin }) : '';
  for (const s of specs) {
    fs.mkdirSync(s.storeDir, { recursive: true });
    fs.writeFileSync(
      s.configFile,
      configText(
        s,
        specs.filter((p) => p !== s),
        clusterName,
        { maxMemoryBytes, maxFileBytes },
        authorization,
      ),
      { mode: 0o600 },
    );
  }

  const nodes = specs.map((s) => makeNode(s, bin, size));
  const cluster = {
    urls: nodes.map((n) => n.url).join(','),
    name: clusterName,
    dir,
    nodes,
    node: (name) => nodes.find((n) => n.name === name),
    /** The JetStream meta leader's server name as the first answering node sees it, or null. */
    async metaLeader() {
      for (const n of nodes) {
        const leader = await n.metaLeader();
        if (leader) return leader;
      }
      return null;
    },
    /**
     * Resolves with the meta leader's name once every node is up, routes to all the others and names the same meta
     * leader.
     */
    async waitFormed(ms = timeoutMs) {
      const until = Date.now() + ms;
      for (;;) {
        const up = nodes.filter((n) => n.alive);
        const leaders = new Set();
        let routed = up.length === size;
        for (const n of up) {
          if ((await n.routes()) < size - 1) routed = false;
          leaders.add(await n.metaLeader());
        }
        const [leader] = leaders;
        if (routed && leaders.size === 1 && leader) return leader;
        if (Date.now() > until)
          throw new Error(
            `NATS cluster ${clusterName} did not form within ${Math.round(ms / 1000)} s (${up.length} of ${size} nodes up, meta leaders seen: ${[...leaders].join(', ') || 'none'})\n${nodes.map((n) => `--- ${n.name}: ${n.logFile} ---\n${n.tail()}`).join('\n')}`,
          );
        await sleep(200);
      }
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.kill('SIGTERM')));
      if (ownsDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((n) => n.start({ wait: false })));
    await cluster.waitFormed();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/**
 * @typedef {object} ClusterNode
 * @property {string} name server_name (what JetStream's cluster info calls leader and replicas)
 * @property {number} port client port
 * @property {string} url nats://127.0.0.1:<port>
 * @property {number} routePort
 * @property {number} monitorPort
 * @property {number} pid of the running process (0 while down)
 * @property {boolean} alive
 * @property {string} storeDir
 * @property {(signal?: NodeJS.Signals, graceMs?: number) => Promise<void>} kill sends `signal` (SIGTERM: a clean
 * shutdown) and resolves once the process has exited (SIGKILL after graceMs)
 * @property {(o?: { wait?: boolean, timeoutMs?: number }) => Promise<void>} start starts it again with the same config,
 * ports and store; resolves once it answers and (wait, the default) routes to the others and knows the meta leader
 * @property {() => Promise<boolean>} healthz the node's /healthz: JetStream enabled, meta group and every stream and
 * consumer it holds current
 * @property {() => Promise<number>} routes
 * @property {() => Promise<string | null>} metaLeader
 * @property {(n?: number) => string} tail last lines of its log
 */

/** @returns {ClusterNode} */
function makeNode(spec, bin, size) {
  let child = null;
  let exited = Promise.resolve();
  const node = {
    name: spec.name,
    port: spec.port,
    url: `nats://${LOOPBACK}:${spec.port}`,
    routePort: spec.routePort,
    monitorPort: spec.monitorPort,
    storeDir: spec.storeDir,
    logFile: spec.logFile,
    get pid() {
      return child && node.alive ? child.pid : 0;
    },
    get alive() {
      return child !== null && child.exitCode === null && child.signalCode === null;
    },
    async start({ wait = true, timeoutMs = 60_000 } = {}) {
      if (node.alive) throw new Error(`NATS node ${spec.name} is already running (pid ${child.pid})`);
      const fd = fs.openSync(spec.logFile, 'a');
      const c = spawn(bin, ['-c', spec.configFile], { cwd: path.dirname(spec.configFile), stdio: ['ignore', fd, fd] });
      fs.closeSync(fd);
      child = c;
      running.add(c);
      exited = new Promise((resolve) => c.once('exit', () => resolve()));
      exited.then(() => running.delete(c));
      const until = Date.now() + timeoutMs;
      for (;;) {
        if (!node.alive)
          throw new Error(`NATS node ${spec.name} exited (code ${c.exitCode}, signal ${c.signalCode})\n${node.tail()}`);
        const info = await natsInfo(LOOPBACK, spec.port);
        if (info && info.jetstream && (!wait || ((await node.routes()) >= size - 1 && (await node.metaLeader()))))
          return;
        if (Date.now() > until)
          throw new Error(
            `NATS node ${spec.name} did not ${info ? 'join the cluster' : 'answer'} within ${Math.round(timeoutMs / 1000)} s\n${node.tail()}`,
          );
        await sleep(100);
      }
    },
    async kill(signal = 'SIGTERM', graceMs = 15_000) {
      if (!node.alive) return;
      const c = child;
      c.kill(signal);
      const t = setTimeout(() => node.alive && child === c && c.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
    async healthz() {
      const r = await monitor(spec.monitorPort, '/healthz');
      return r !== null && r.status === 200 && r.body?.status === 'ok';
    },
    async routes() {
      const r = await monitor(spec.monitorPort, '/routez');
      return r?.body?.num_routes ?? 0;
    },
    async metaLeader() {
      const r = await monitor(spec.monitorPort, '/jsz');
      return r?.body?.meta_cluster?.leader || null;
    },
    tail(n = 30) {
      try {
        return fs
          .readFileSync(spec.logFile, 'utf8')
          .split('\n')
          .slice(-n - 1)
          .join('\n')
          .trimEnd();
      } catch {
        return '(no log)';
      }
    },
  };
  return node;
}
