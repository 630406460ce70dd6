/**
 * The platform on a JetStream cluster of three nats-servers (scripts/lib/nats-cluster.mjs): every
 * service is given the three URLs as NATS_URL, the collector creates TRADES and COLLECTOR_EVENTS
 * with 3 replicas (TRADES_REPLICAS=3), and the aggregator's per-symbol durables inherit them.
 * During one replay of the LTCUSDT recording (as LTCUSDT and LTCUSDC, with the live Socket.IO
 * client of faults.int.spec.ts following both through the gateway), one after the other:
 *
 *  1. kill -9 of the server leading the TRADES stream (stream info's cluster.leader), restarted 2 s later;
 *  2. kill -9 of the server leading a shard's durable consumer (consumer info's cluster.leader), restarted 2 s later;
 *  3. a rolling restart: each server in turn stopped with SIGTERM, started again with its store,
 *     and the next one only once it has rejoined (/healthz ok, a current replica of both streams).
 *
 * Then the run must end like every proof run: ClickHouse's footprint and candles equal to the
 * independent aggregation of the input (0 lost, 0 counted twice), and the live client exact.
 *
 * Recovery after each server stop, measured from the moment its process had exited (all three
 * run at once, polled every 100 ms):
 *  - "published": until the collector has a publish acknowledged by JetStream (its tradesAcked grows);
 *  - "delivering": until every symbol's durable has delivered to its shard a message stored after
 *    the stream answered again (consumer info's delivered.stream_seq beyond the stream's last
 *    sequence at its first answer after the stop): the shards pull again, through the consumer
 *    leaders of after the stop. (Not the ack floor: on nats-server 2.9.10 the new leader of a
 *    durable was seen reporting a stale ack floor that stayed frozen while acknowledgements went
 *    on, num_ack_pending staying small; durability is what "caught up" measures);
 *  - "caught up": until ClickHouse holds every trade the simulator had produced at the stop (the
 *    "recovered" of faults.int.spec.ts).
 * And for each restarted server, "rejoined": from its start until it answers /healthz ok and the
 * stream leader lists its replicas of TRADES and COLLECTOR_EVENTS as current.
 *
 * Size: PROOF_SIZE=small (default, in `npm test`) or full; the replay rate PROOF_NATS_RATE.
 * PROOF_REPORT=1 (or full) writes docs/proof/REPORT-nats-cluster-<size>.md, PROOF_JSON appends the row.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, connect } from '@nats-io/transport-node';
import { EVENTS_STREAM, TRADES_STREAM } from '@orderflow/contracts';
import { connectClickHouse } from '@orderflow/clickhouse';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOwnClickHouse } from '../aggregator-support.js';
import { type Cleanup, needsSharedData, runCleanup, waitFor } from '../support.js';
import type { LiveView } from './live-client.js';
import { expectLiveExact, expectNothingLost } from './exact.js';
import { type NatsPasswords, Pipeline, sleep } from './pipeline.js';
import { type Row, appendJson, line, writeReport } from './report.js';
import { EXCHANGE, type StreamSpec, marketsNearNow } from './stream.js';

const FULL = process.env['PROOF_SIZE'] === 'full';
const SIZE = FULL ? 'full' : 'small';
// small: the slice of the recording faults.int.spec.ts replays at small size (15,000 trades per market)
const STREAM: StreamSpec = FULL
  ? { from: 0, to: 149_944, copies: 2, keepHoles: false }
  : { from: 63_000, to: 78_000, copies: 1, keepHoles: true };
// slow enough that the replay outlasts the three faults (each waits for the cluster to recover; a
// consumer leader's recovery has taken up to 50 s on nats-server 2.9.10 in CI)
const RATE = Number(process.env['PROOF_NATS_RATE'] ?? (FULL ? 4000 : 250));
const DOWN_MS = 2000;
const JSON_OUT = process.env['PROOF_JSON'] ?? '';
const SYMBOLS = ['LTCUSDT', 'LTCUSDC']; // shards 0 and 1 of 2
const LIVE_VIEWS: LiveView[] = [
  { exchange: EXCHANGE, symbol: 'LTCUSDT', timeframe: '1m', ticks: 1, candles: 2000 },
  { exchange: EXCHANGE, symbol: 'LTCUSDT', timeframe: '1h', ticks: 10, candles: 500 },
  { exchange: EXCHANGE, symbol: 'LTCUSDC', timeframe: '1m', ticks: 1, candles: 2000 },
  { exchange: EXCHANGE, symbol: 'LTCUSDC', timeframe: '15m', ticks: 5, candles: 500 },
];
const CLUSTER_URL = new URL('../../../scripts/lib/nats-cluster.mjs', import.meta.url).href;

interface ClusterNode {
  name: string;
  port: number;
  pid: number;
  alive: boolean;
  kill(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
  healthz(): Promise<boolean>;
  tail(n?: number): string;
}
interface NatsCluster {
  urls: string;
  nodes: ClusterNode[];
  node(name: string): ClusterNode | undefined;
  waitFormed(timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

const durable = (symbol: string) => `agg_${EXCHANGE}_${symbol}`;

/** `f()`, or null while JetStream cannot answer (no leader yet, the server just left). */
async function attempt<T>(f: () => Promise<T>): Promise<T | null> {
  try {
    return await f();
  } catch {
    return null;
  }
}

/** Polls `check` every 100 ms; ms from `since` until it held, or null after `timeoutMs`. */
async function msUntil(since: number, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<number | null> {
  while (Date.now() - since < timeoutMs) {
    if (await check()) return Date.now() - since;
    await sleep(100);
  }
  return null;
}

interface Recovery {
  what: string;
  node: string;
  /** ms from the stop (process exited) */
  publishedMs: number | null;
  consumingMs: number | null;
  caughtUpMs: number | null;
  /** ms from the restart */
  rejoinedMs: number | null;
  /** trades the simulator still had to send when every measure above was in */
  tradesLeft: number;
}

const fmt = (ms: number | null) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);
const recoveryText = (r: Recovery) =>
  `${r.what} (${r.node}): published again after ${fmt(r.publishedMs)}, every durable delivering again after ${fmt(r.consumingMs)}, ClickHouse caught up after ${fmt(r.caughtUpMs)} (from the stop); rejoined ${fmt(r.rejoinedMs)} after its restart; ${r.tradesLeft} trades of the replay still to come then`;

describe(`the platform on a JetStream cluster of 3 (${SIZE})`, needsSharedData, () => {
  let ch: Awaited<ReturnType<typeof startOwnClickHouse>>;
  let client: ClickHouseClient;
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let natsPasswords: NatsPasswords;
  const outer: Cleanup = [];
  const cleanup: Cleanup = [];

  beforeAll(async () => {
    const { startNatsCluster } = (await import(CLUSTER_URL)) as {
      startNatsCluster(o?: { size?: number; accounts?: NatsPasswords }): Promise<NatsCluster>;
    };
    // the platform's NATS users on every node: the services connect as their own, within their permissions
    const { generatePassword } = (await import(
      new URL('../../../scripts/lib/nats-accounts.mjs', import.meta.url).href
    )) as { generatePassword(): string };
    natsPasswords = {
      collector: generatePassword(),
      aggregator: generatePassword(),
      gateway: generatePassword(),
      admin: generatePassword(),
    };
    const starting = startNatsCluster({ size: 3, accounts: natsPasswords });
    starting.then(
      (c) => outer.push(() => c.stop()),
      () => undefined,
    );
    [ch, cluster] = await Promise.all([startOwnClickHouse(outer), starting]);
    client = connectClickHouse({ url: ch.url });
    // the test's own view of the cluster: reconnects to any member at once, short API timeouts so that polls see a
    // failover as it ends
    await expect(connect({ servers: cluster.urls.split(','), name: 'anonymous' })).rejects.toThrow(
      /Authorization Violation/i,
    );
    nc = await connect({
      servers: cluster.urls.split(','),
      name: 'cluster-proof',
      user: 'admin',
      pass: natsPasswords.admin,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    outer.push(() => nc.close());
    jsm = await jetstreamManager(nc, { timeout: 1500 });
  }, 120_000);
  afterEach(() => runCleanup(cleanup));
  afterAll(async () => {
    await client?.close();
    await runCleanup(outer);
  }, 120_000);

  /** Waits until `node` answers /healthz ok and the stream leaders list its replicas of both streams as current. */
  async function rejoined(node: ClusterNode, since: number): Promise<number | null> {
    return msUntil(
      since,
      async () => {
        if (!(await node.healthz())) return false;
        for (const stream of [TRADES_STREAM, EVENTS_STREAM]) {
          const c = (await attempt(() => jsm.streams.info(stream)))?.cluster;
          if (!c || !(c.leader === node.name || c.replicas?.some((r) => r.name === node.name && r.current)))
            return false;
        }
        return true;
      },
      180_000,
    );
  }

  /**
   * Stops `node` with `signal`, measures the recovery (see the file's comment) while it is down
   * for DOWN_MS or more, starts it again and waits until it has rejoined.
   */
  async function stopAndRestart(
    p: Pipeline,
    what: string,
    node: ClusterNode,
    signal: NodeJS.Signals,
    downMs: number,
  ): Promise<Recovery> {
    const tradesAcked = async () =>
      ((await p.collectorStatus())?.publisher as { tradesAcked?: number } | undefined)?.tradesAcked;
    // recovery is seen in trades flowing after the stop: the replay runs only while a stop waits for
    // them (paused between stops, so that a slow machine cannot use the replay up before the last one)
    await p.simControl('resume');
    await sleep(1000);
    const left = p.total - (await p.simStats()).tradesProduced;
    expect(
      left,
      `trades of the replay left before "${what}" (0: the replay was over, lower PROOF_NATS_RATE)`,
    ).toBeGreaterThan(RATE * 10);
    await node.kill(signal);
    const stoppedAt = Date.now();
    const ackedAtStop = (await tradesAcked()) ?? Infinity;
    const producedAtStop = (await p.simStats()).tradesProduced;
    const published = msUntil(stoppedAt, async () => ((await tradesAcked()) ?? 0) > ackedAtStop);
    let seqAfter: number | null = null;
    const consuming = msUntil(stoppedAt, async () => {
      if (seqAfter === null) {
        seqAfter = (await attempt(() => jsm.streams.info(TRADES_STREAM)))?.state.last_seq ?? null;
        return false;
      }
      for (const s of SYMBOLS) {
        const info = await attempt(() => jsm.consumers.info(TRADES_STREAM, durable(s)));
        if (!info || info.delivered.stream_seq <= seqAfter) return false;
      }
      return true;
    });
    const caughtUp = p.recoveryMs(client, stoppedAt, producedAtStop, 60_000);
    await sleep(downMs);
    const restartAt = Date.now();
    await node.start();
    const [publishedMs, consumingMs] = await Promise.all([published, consuming]);
    await p.simControl('pause');
    const [rejoinedMs, caughtUpMs] = await Promise.all([rejoined(node, restartAt), caughtUp]);
    const r: Recovery = {
      what,
      node: node.name,
      publishedMs,
      consumingMs,
      caughtUpMs,
      rejoinedMs,
      tradesLeft: p.total - (await p.simStats()).tradesProduced,
    };
    console.log(`[nats-cluster] ${recoveryText(r)}`);
    return r;
  }

  it('stream leader kill -9, consumer leader kill -9 and a rolling restart during a replay: nothing lost or counted twice, the live client exact', async () => {
    const started = Date.now();
    const p = new Pipeline({
      db: `proof_nats_${SIZE}_${Date.now() % 100000}`,
      clickhouseUrl: ch.url,
      clickhouseRoles: ch.roles,
      markets: marketsNearNow(STREAM, SYMBOLS, 0.4, 20),
      rate: RATE,
      cleanup,
      live: LIVE_VIEWS,
      natsUrl: cluster.urls,
      natsPasswords,
      streamReplicas: 3,
    });
    await p.start();

    // R3 everywhere: both streams, and the durables (num_replicas 0: the stream's)
    for (const stream of [TRADES_STREAM, EVENTS_STREAM]) {
      const info = await jsm.streams.info(stream);
      expect({ stream, replicas: info.config.num_replicas, peers: info.cluster?.replicas?.length }).toEqual({
        stream,
        replicas: 3,
        peers: 2,
      });
    }
    await waitFor(
      'both durables',
      async () =>
        (await Promise.all(SYMBOLS.map((s) => attempt(() => jsm.consumers.info(TRADES_STREAM, durable(s)))))).every(
          (i) => i !== null,
        ),
      60_000,
    );
    for (const s of SYMBOLS) {
      const info = await jsm.consumers.info(TRADES_STREAM, durable(s));
      expect({
        consumer: durable(s),
        replicas: info.config.num_replicas ?? 0,
        peers: info.cluster?.replicas?.length,
        leader: Boolean(info.cluster?.leader),
      }).toEqual({ consumer: durable(s), replicas: 0, peers: 2, leader: true });
    }

    const recoveries: Recovery[] = [];
    await p.producedAtLeast(Math.floor(p.total * 0.05));

    // 1. the TRADES stream's leader
    const streamLeader = (await jsm.streams.info(TRADES_STREAM)).cluster!.leader!;
    recoveries.push(
      await stopAndRestart(p, 'TRADES stream leader kill -9', cluster.node(streamLeader)!, 'SIGKILL', DOWN_MS),
    );

    // 2. a durable's leader, on another server than the stream's leader when one is
    const nowStreamLeader = (await jsm.streams.info(TRADES_STREAM)).cluster!.leader!;
    const consumerLeaders = await Promise.all(
      SYMBOLS.map(async (s) => ({
        symbol: s,
        leader: (await jsm.consumers.info(TRADES_STREAM, durable(s))).cluster!.leader!,
      })),
    );
    const target = consumerLeaders.find((c) => c.leader !== nowStreamLeader) ?? consumerLeaders[0]!;
    recoveries.push(
      await stopAndRestart(
        p,
        `${durable(target.symbol)} consumer leader kill -9${target.leader === nowStreamLeader ? ' (also the stream leader)' : ''}`,
        cluster.node(target.leader)!,
        'SIGKILL',
        DOWN_MS,
      ),
    );

    // 3. rolling restart
    for (const node of cluster.nodes)
      recoveries.push(await stopAndRestart(p, 'rolling restart: SIGTERM', node, 'SIGTERM', 1000));
    expect(await cluster.waitFormed(60_000)).toBeTruthy();
    await p.simControl('resume');

    await p.settle(FULL ? 1_800_000 : 400_000);
    const measurements = await p.measure(client);
    const cmp = (await p.compareLive(client, FULL ? 120_000 : 30_000))!;
    const wallMs = Date.now() - started;
    const worst = recoveries.reduce<number | null>(
      (m, r) => (r.caughtUpMs === null || m === null ? null : Math.max(m, r.caughtUpMs)),
      0,
    );
    const row: Row = {
      fault: 'NATS cluster of 3 (R3): stream leader kill -9, consumer leader kill -9, rolling restart',
      how: `one replay at --replay-rate ${RATE}; ${recoveries.map(recoveryText).join('; ')}. Recovery is measured from the moment the server process had exited; "recovered in" = the longest "ClickHouse caught up" of the five stops`,
      measurements,
      recoveryMs: worst,
      wallMs,
      live: `[proof] NATS cluster: live client (${p.live!.connects} connections): ${cmp.live.map((c, i) => `${c.view}: ${c.candles} candles, cell/candle/metric/HTTP diffs ${c.cellDiffs}/${c.candleDiffs}/${c.metricDiffs}/${c.httpDiffs}, missing ${c.missingCandles}, ${p.live!.stats()[i]!.gaps} seq gaps; a new subscriber: cell/candle diffs ${cmp.fresh[i]!.cellDiffs}/${cmp.fresh[i]!.candleDiffs}`).join('; ')}`,
    };
    console.log(line(row));
    console.log(row.live);
    console.log(`[nats-cluster] run took ${(wallMs / 1000).toFixed(1)} s`);
    if (JSON_OUT) appendJson(JSON_OUT, Object.assign({}, row, { recoveries }));
    if (FULL || process.env['PROOF_REPORT']) {
      const file = writeReport([row], {
        size: `nats-cluster-${SIZE}`,
        stream: `LTCUSDT recording rows [${STREAM.from}, ${STREAM.to}) × ${STREAM.copies}, replayed as LTCUSDT and LTCUSDC through a JetStream cluster of 3 nats-servers`,
        command: `PROOF_SIZE=${SIZE} PROOF_REPORT=1 npx vitest run -c vitest.proof.config.ts src/proof/nats-cluster.int.spec.ts (in tests/)`,
      });
      console.log(`[nats-cluster] report written to ${file}`);
    }

    expectNothingLost(measurements);
    expectLiveExact(cmp, p.live!.stats(), p.live!.errors);
    // every stop was recovered from while the replay still ran (a measure that never came means the
    // pipeline did not recover, or, with tradesLeft 0, that the replay was too short: lower PROOF_NATS_RATE)
    for (const r of recoveries) {
      expect(
        {
          what: r.what,
          published: r.publishedMs !== null,
          consuming: r.consumingMs !== null,
          caughtUp: r.caughtUpMs !== null,
          rejoined: r.rejoinedMs !== null,
        },
        recoveryText(r),
      ).toEqual({ what: r.what, published: true, consuming: true, caughtUp: true, rejoined: true });
    }
  }, 1_800_000);
});
