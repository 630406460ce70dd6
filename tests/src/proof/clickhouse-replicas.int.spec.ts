/**
 * The replicated variant of the schema (CLICKHOUSE_CLUSTER, k8s/clickhouse/README.md) on a real
 * cluster: one shard of two ClickHouse replicas (the clickhouse-server on PATH, Debian's 18.16
 * here) on a standalone ZooKeeper (Debian's `zookeeper` package), started by
 * scripts/lib/clickhouse-cluster.mjs. The aggregator's shards apply the migrations ON CLUSTER
 * (CLICKHOUSE_CLUSTER=orderflow), then the platform as Pipeline runs it (simulator replaying the
 * LTCUSDT recording slice faults.int.spec.ts uses at its small size as LTCUSDT and LTCUSDC,
 * collector, two aggregator shards, gateway, a live Socket.IO client) writes through the cluster.
 * Mid-replay replica r1 is killed with SIGKILL, kept down, and started again on its data directory.
 *
 * How the services reach the survivor: in Kubernetes they use a Service over the replicas. Here a
 * TCP failover proxy (failover-proxy.ts) stands for it: the aggregator shards and the gateway get
 * the proxy's address as CLICKHOUSE_URL, and each new connection goes to the first replica that
 * accepts it (r1 while it is up, r2 while it is down, r1 again once it answers after its restart,
 * caught up or not). Nothing in the services knows there are two servers. The test's own checks
 * read each replica directly.
 *
 * At the end, after every replication queue is empty: `footprint` and `candles` at every timeframe
 * equal on both replicas and equal to the independent reference of the input (Pipeline.measure():
 * 0 lost, 0 counted twice, raw trades agreeing); the gateway answered /api/footprint throughout the
 * outage (polled one request after the other; the gateway sends a read once more when its
 * connection broke before ClickHouse answered, but a response r1 had begun when it died is lost and
 * answered with a 503: such failures are counted and allowed only until 1 s after r1 was gone, none
 * later); the live client holds exactly what ClickHouse holds
 * (compareLive). Figures printed: how long r1 was down, how long it took to catch up.
 *
 * The ZooKeeper session timeout is 6 s here (ClickHouse's default is 30 s): a replica killed with -9
 * keeps its ephemeral "active" node until the session expires, and a restarted one waits for that.
 *
 * Environment: REPLICA_RATE (trades/s of the replay), REPLICA_DOWN_S (seconds r1 stays down).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { connectClickHouse } from '@orderflow/clickhouse';
import { afterAll, describe, expect, it } from 'vitest';
import { readViews } from '../aggregator-support.js';
import { type Cleanup, SHARED_DATA_MISSING, haveSharedData, requires, runCleanup, waitFor } from '../support.js';
import { FailoverProxy } from './failover-proxy.js';
import type { LiveView } from './live-client.js';
import { expectLiveExact, expectNothingLost } from './exact.js';
import { Pipeline, sleep } from './pipeline.js';
import { EXCHANGE, type StreamSpec, marketsNearNow } from './stream.js';

interface Replica {
  name: string;
  url: string;
  httpPort: number;
  running: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}
interface ClusterLib {
  zooKeeperMissing(): string | null;
  startClickHouseCluster(o?: {
    replicas?: number;
    cluster?: string;
  }): Promise<{ cluster: string; replicas: Replica[]; stop(): Promise<void> }>;
}
const lib = (await import(new URL('../../../scripts/lib/clickhouse-cluster.mjs', import.meta.url).href)) as ClusterLib;
const zooKeeperMissing = lib.zooKeeperMissing();

const CLUSTER = 'orderflow';
// faults.int.spec.ts's FAULT_STREAM at its small size
const STREAM: StreamSpec = { from: 63_000, to: 78_000, copies: 1, keepHoles: true };
const SYMBOLS = ['LTCUSDT', 'LTCUSDC']; // shardOf: 0 and 1 of 2, so that both shards write
// slow enough that the replay still runs while r1 is down and after it is back
const RATE = Number(process.env['REPLICA_RATE'] ?? 700);
const DOWN_MS = Number(process.env['REPLICA_DOWN_S'] ?? 10) * 1000;
const KILL_AT = 0.3;
const LIVE_VIEWS: LiveView[] = [
  { exchange: EXCHANGE, symbol: 'LTCUSDT', timeframe: '1m', ticks: 1, candles: 2000 },
  { exchange: EXCHANGE, symbol: 'LTCUSDC', timeframe: '15m', ticks: 5, candles: 500 },
];

async function rows(ch: ClickHouseClient, query: string): Promise<string[]> {
  const rs = await ch.query({ query, format: 'TabSeparated' });
  return (await rs.text()).split('\n').filter((l) => l.length > 0);
}

/**
 * SYSTEM SYNC REPLICA of every table, all at once: resolves when the replica has done what its queue held when asked.
 */
async function syncReplica(ch: ClickHouseClient, db: string, tables: string[]): Promise<void> {
  await Promise.all(tables.map((t) => ch.command({ query: `SYSTEM SYNC REPLICA ${db}.${t}` })));
}

/**
 * GET /api/footprint of the whole stream, one after the other until stopped: how many, which failed (with their start
 * times), the slowest.
 */
function pollGateway(url: string) {
  const r = { requests: 0, failures: [] as { startedAt: number; error: string }[], slowestMs: 0 };
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const t = Date.now();
      r.requests++;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        const body = (await res.json()) as { candles?: unknown[] };
        if (res.status !== 200 || !Array.isArray(body.candles) || body.candles.length === 0)
          r.failures.push({ startedAt: t, error: `HTTP ${res.status}: ${JSON.stringify(body).slice(0, 200)}` });
      } catch (e) {
        r.failures.push({ startedAt: t, error: (e as Error).message });
      }
      r.slowestMs = Math.max(r.slowestMs, Date.now() - t);
      await sleep(200);
    }
  })();
  return {
    result: r,
    async stop() {
      stop = true;
      await done;
      return r;
    },
  };
}

describe(
  'ClickHouse replicated: one shard, two replicas on ZooKeeper, a replica killed mid-replay',
  requires([haveSharedData, SHARED_DATA_MISSING], [zooKeeperMissing === null, zooKeeperMissing ?? '']),
  () => {
    const cleanup: Cleanup = [];
    afterAll(() => runCleanup(cleanup), 120_000);

    it('migrations ON CLUSTER; r1 kill -9 mid-replay, restarted; both replicas end equal to the reference, the gateway and the live client served throughout', async () => {
      const t0 = Date.now();
      const cluster = await lib.startClickHouseCluster({ replicas: 2, cluster: CLUSTER });
      // the data is thrown away: kill -9 is enough, and a clean 18.16 shutdown takes seconds
      cleanup.push(async () => {
        await Promise.all(cluster.replicas.map((r) => r.kill()));
        await cluster.stop();
      });
      const [r1, r2] = cluster.replicas as [Replica, Replica];
      const clusterMs = Date.now() - t0;
      const proxy = new FailoverProxy(
        cluster.replicas.map((r) => ({ name: r.name, host: '127.0.0.1', port: r.httpPort })),
      );
      await proxy.start();
      cleanup.push(() => proxy.close());
      const direct = cluster.replicas.map((r) => connectClickHouse({ url: r.url, requestTimeoutMs: 300_000 })) as [
        ClickHouseClient,
        ClickHouseClient,
      ];
      cleanup.push(async () => void (await Promise.all(direct.map((c) => c.close()))));

      const db = `replicas_${Date.now() % 100_000}`;
      const p = new Pipeline({
        db,
        clickhouseUrl: proxy.url,
        markets: marketsNearNow(STREAM, SYMBOLS, 1, 5),
        rate: RATE,
        cleanup,
        live: LIVE_VIEWS,
        aggEnv: { CLICKHOUSE_CLUSTER: CLUSTER },
      });
      const t1 = Date.now();
      await p.start();
      const startMs = Date.now() - t1;

      // the schema ON CLUSTER: the same tables on both replicas, every MergeTree one replicated, every migration
      // recorded on both
      const schema = await Promise.all(
        direct.map((c) => rows(c, `SELECT name, engine FROM system.tables WHERE database = '${db}' ORDER BY name`)),
      );
      expect(schema[1]).toEqual(schema[0]);
      const engines = schema[0]!.map((l) => l.split('\t') as [string, string]);
      expect(engines.filter(([, e]) => e.includes('MergeTree') && !e.startsWith('Replicated'))).toEqual([]);
      const tables = engines.filter(([, e]) => e.startsWith('Replicated')).map(([n]) => n);
      expect(tables.length).toBeGreaterThanOrEqual(20);
      expect(tables).toEqual(
        expect.arrayContaining([
          'trades',
          'footprint_1m',
          'candles_1m',
          'footprint_5m',
          'candles_1d',
          'footprint_1m_wire',
          'schema_migrations',
        ]),
      );
      const migrations = await Promise.all(
        direct.map((c) => rows(c, `SELECT version FROM ${db}.schema_migrations FINAL ORDER BY version`)),
      );
      expect(migrations[1]).toEqual(migrations[0]);
      expect(migrations[0]!.length).toBeGreaterThanOrEqual(6);

      // mid-replay: r1 (the replica every connection goes to) killed with -9, down DOWN_MS, started again
      const footprintUrl = (() => {
        const trades = p.o.markets[0]!.trades;
        const from = new Date(Math.floor(trades[0]!.timeMs / 60_000) * 60_000).toISOString();
        const to = new Date(Math.floor(trades.at(-1)!.timeMs / 60_000) * 60_000 + 60_000).toISOString();
        return `${p.gatewayUrl}/api/footprint?exchange=${EXCHANGE}&symbol=LTCUSDT&timeframe=1m&from=${from}&to=${to}&ticks=10`;
      })();
      await p.producedAtLeast(Math.floor(p.total * KILL_AT), 300_000);
      const liveConnectsBefore = p.live!.connects;
      const poll = pollGateway(footprintUrl);
      await sleep(1000);
      const onR2AtKill = await p.storedTrades(direct[1]);
      const toR2AtKill = proxy.connections['r2']!;
      const producedAtKill = (await p.simStats()).tradesProduced;
      const killedAt = Date.now();
      await r1.kill();
      const goneAt = Date.now();
      await sleep(DOWN_MS);
      const onR2BeforeRestart = await p.storedTrades(direct[1]);
      const toR2 = proxy.connections['r2']! - toR2AtKill;
      const restartAt = Date.now();
      await r1.start();
      const upAt = Date.now();
      await syncReplica(direct[0], db, tables);
      const caughtUpAt = Date.now();
      const onR1AtCatchUp = await p.storedTrades(direct[0]);
      const producedAtCatchUp = (await p.simStats()).tradesProduced;
      await sleep(1000);
      const gateway = await poll.stop();
      // a response r1 had begun when it died is lost (the gateway answers 503; a read whose connection broke before the
      // answer is sent
      // again): those started until 1 s after r1 was gone, at most the one in flight and one on a kept-alive connection
      const FAILOVER_WINDOW_MS = 1000;
      const inFlightAtKill = gateway.failures.filter((f) => f.startedAt <= goneAt + FAILOVER_WINDOW_MS);
      const afterFailover = gateway.failures.filter((f) => f.startedAt > goneAt + FAILOVER_WINDOW_MS);

      // the end: the replay over, everything acknowledged, both replication queues empty
      await p.settle(400_000);
      const s0 = Date.now();
      await waitFor(
        'both replication queues empty',
        async () => {
          await Promise.all(direct.map((c) => syncReplica(c, db, tables)));
          const queued = await Promise.all(
            direct.map(async (c) =>
              Number((await rows(c, `SELECT count() FROM system.replication_queue WHERE database = '${db}'`))[0]),
            ),
          );
          return queued.every((n) => n === 0);
        },
        120_000,
      );
      const finalSyncMs = Date.now() - s0;

      const views = await Promise.all(
        direct.map((c) => Promise.all(p.recordings.map((rec) => readViews(c, db, rec.exchange, rec.symbol)))),
      );
      const differ = (a: string[], b: string[]) => {
        const sb = new Set(b);
        const sa = new Set(a);
        return a.filter((x) => !sb.has(x)).length + b.filter((x) => !sa.has(x)).length;
      };
      const betweenReplicas = p.recordings.map((rec, i) => ({
        symbol: rec.symbol,
        cells: differ(views[0]![i]!.cells, views[1]![i]!.cells),
        candles: differ(views[0]![i]!.candles, views[1]![i]!.candles),
      }));
      const measured = await Promise.all(direct.map((c) => p.measure(c)));
      const cmp = (await p.compareLive(direct[1], 60_000))!;

      const line =
        `[replicas] ClickHouse ${(await rows(direct[0], 'SELECT version()'))[0]}, ${p.total.toLocaleString('en')} trades at --replay-rate ${RATE}: cluster (ZooKeeper + 2 replicas) up in ${clusterMs} ms, platform with migrations ON CLUSTER in ${startMs} ms; ` +
        `r1 kill -9 after ${producedAtKill} trades produced, started again ${restartAt - killedAt} ms later, answered /ping ${upAt - restartAt} ms after its start (down ${upAt - killedAt} ms in all), caught up ${caughtUpAt - restartAt} ms after its start (SYSTEM SYNC REPLICA of its ${tables.length} tables returned ${caughtUpAt - upAt} ms after /ping; it then held ${onR1AtCatchUp} trades, r2 had ${onR2BeforeRestart} at the restart; ${producedAtCatchUp} trades produced by then); ` +
        `while r1 was down: ${toR2} connections went to r2, r2 took ${onR2BeforeRestart - onR2AtKill} trades; ` +
        `gateway /api/footprint polled ${gateway.requests} times from 1 s before the kill to 1 s after the catch-up, ${gateway.failures.length} failed (${inFlightAtKill.length} started by 1 s after r1 was gone, ${afterFailover.length} later), slowest ${gateway.slowestMs} ms; ` +
        `live client: ${p.live!.connects - liveConnectsBefore} reconnections; final replication sync ${finalSyncMs} ms; ` +
        measured
          .map(
            (ms, i) =>
              `${cluster.replicas[i]!.name}: ${ms.map((m) => `${m.symbol} ${m.tradesInClickHouse}/${m.tradesIn} trades, lost ${m.lost}, counted twice ${m.countedTwice}, cell/candle/raw diffs ${m.cellDiffs}/${m.candleDiffs}/${m.rawDiffs}`).join('; ')}`,
          )
          .join('; ') +
        `; between the replicas: ${betweenReplicas.map((d) => `${d.symbol} ${d.cells} cells, ${d.candles} candles differ`).join(', ')}; live client vs ClickHouse: ${cmp.live.map((c) => `${c.view} ${c.candles} candles, ${c.cellDiffs + c.candleDiffs + c.metricDiffs + c.httpDiffs + c.missingCandles} diffs`).join(', ')}; total ${Date.now() - t0} ms`;
      console.log(line);
      if (gateway.failures.length > 0)
        console.log(
          `[replicas] gateway failures (ms from the kill):\n${gateway.failures.map((f) => `${f.startedAt - killedAt} ms: ${f.error}`).join('\n')}`,
        );

      // the survivor took the writes while r1 was down
      expect(toR2).toBeGreaterThan(0);
      expect(onR2BeforeRestart).toBeGreaterThan(onR2AtKill);
      // once synced, the restarted replica held at least what the survivor had taken while it was down
      expect(onR1AtCatchUp).toBeGreaterThanOrEqual(onR2BeforeRestart);
      // the same views on both replicas, each equal to the reference: nothing lost, nothing counted twice
      for (const d of betweenReplicas) expect(d).toEqual({ symbol: d.symbol, cells: 0, candles: 0 });
      for (const ms of measured) expectNothingLost(ms);
      // the gateway kept answering, and the live client holds exactly what ClickHouse holds
      expect(gateway.requests).toBeGreaterThan(DOWN_MS / 1000);
      expect(afterFailover).toEqual([]);
      expect(inFlightAtKill.length).toBeLessThanOrEqual(2);
      expectLiveExact(cmp, p.live!.stats(), p.live!.errors);
      expect(r1.running && r2.running).toBe(true);
    }, 600_000);
  },
);
