/**
 * Proof under fire: the LTCUSDT recording replayed through the whole platform, each
 * service its own process, with one fault per run; after each, ClickHouse's `footprint` and
 * `candles` must equal an independent BigInt aggregation of the input at every timeframe, and the
 * report line says what was lost or counted twice (computed, then asserted to be 0). The gateway
 * runs too, and in every run a live Socket.IO client (live-client.ts: reconnecting, re-subscribing,
 * applying snapshot + updates) follows LTCUSDT and LTCUSDC through it from the first trades on; at
 * the end what it holds must equal ClickHouse's final footprint and candles of the same candles.
 *
 * Size: PROOF_SIZE=small (default, inside `npm test`) or PROOF_SIZE=full (≥ 1M trades per fault,
 * writes docs/proof/REPORT.md): `scripts/proof.sh`.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { connectClickHouse } from '@orderflow/clickhouse';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publish, startOwnClickHouse, units } from '../aggregator-support.js';
import { type Cleanup, needsSharedData, readEvents, runCleanup, waitFor } from '../support.js';
import { type LiveComparison, type LiveView } from './live-client.js';
import { expectLiveExact, expectNothingLost } from './exact.js';
import { Pipeline, sleep } from './pipeline.js';
import { type Row, appendJson, line, writeReport } from './report.js';
import { EXCHANGE, type StreamSpec, type StreamTrade, holes, ltcRecording, marketsNearNow } from './stream.js';

const FULL = process.env['PROOF_SIZE'] === 'full';
const SIZE = FULL ? 'full' : 'small';
// full: 4 copies of the whole recording per market, ids renumbered contiguously (see buildStream): 2 × 599,776 trades
// per fault
const FAULT_STREAM: StreamSpec = FULL
  ? { from: 0, to: 149_944, copies: 4, keepHoles: false }
  : { from: 63_000, to: 78_000, copies: 1, keepHoles: true };
// the exactness run keeps the recording's real holes (REST cannot fill them either)
const EXACT_STREAM: StreamSpec = FULL
  ? { from: 0, to: 149_944, copies: 4, keepHoles: true }
  : { from: 139_000, to: 149_000, copies: 1, keepHoles: true };
const RATE = Number(process.env['PROOF_RATE'] ?? (FULL ? 20_000 : 4_000));
const CH_OUTAGE_MS = Number(process.env['PROOF_CH_OUTAGE_S'] ?? (FULL ? 60 : 20)) * 1000;
const SYMBOLS = ['LTCUSDT', 'LTCUSDC']; // shardOf: 0 and 1 of 2, so that both shards work
const JSON_OUT = process.env['PROOF_JSON'] ?? '';
// On the current ClickHouse (test-ch26: chdb behind the HTTP interface) the exactness run proves
// the pipeline's SQL and bytes; the faults exercise processes, not the engine, and run on 18.16
// (a ClickHouse outage on 26.x: aggregator.int.spec.ts).
const CURRENT_ENGINE = process.env['ORDERFLOW_TEST_CLICKHOUSE'] === 'chdb';
if (CURRENT_ENGINE)
  console.log(
    'proof under fire on the current ClickHouse: the exactness run only; the faults run against 18.16 in the `test` target',
  );
// not registered at all on the current engine: a test that does not apply there is not a skipped one
const faultIt: (name: string, fn: () => unknown, timeout?: number) => void = CURRENT_ENGINE ? () => undefined : it;
// The supervised kills replay slower: four restarts follow one another while the replay runs, a
// restarted gateway takes seconds to start on two shared cores, and its recovery is measured by
// updates arriving after its restart.
const SUPERVISED_RATE = Number(process.env['PROOF_SUPERVISED_RATE'] ?? (FULL ? RATE : 500));
/** What the live client follows in every run: both shards' symbols, native 1m and grouped higher timeframes. */
const LIVE_VIEWS: LiveView[] = [
  { exchange: EXCHANGE, symbol: 'LTCUSDT', timeframe: '1m', ticks: 1, candles: 2000 },
  { exchange: EXCHANGE, symbol: 'LTCUSDT', timeframe: '1h', ticks: 10, candles: 500 },
  { exchange: EXCHANGE, symbol: 'LTCUSDC', timeframe: '1m', ticks: 1, candles: 2000 },
  { exchange: EXCHANGE, symbol: 'LTCUSDC', timeframe: '15m', ticks: 5, candles: 500 },
];

function liveLine(
  fault: string,
  p: Pipeline,
  c: { live: LiveComparison[]; fresh: LiveComparison[]; resyncs: number | null; rounds: number },
): string {
  const stats = p.live!.stats();
  const diffs = (x: LiveComparison) =>
    `cell/candle/metric/HTTP diffs ${x.cellDiffs}/${x.candleDiffs}/${x.metricDiffs}/${x.httpDiffs}, missing ${x.missingCandles}`;
  const views = c.live.map((x, i) => {
    const s = stats[i]!;
    return `${x.view}: ${x.candles} candles, ${diffs(x)}; ${s.snapshots} snapshots (${s.notLive} not live), ${s.updates} updates, ${s.gaps} seq/epoch gaps; a new subscriber: ${diffs(c.fresh[i]!)}`;
  });
  const cost = p.liveCosts;
  const kicked = p.live!.errors.filter((e) => e.code === 'too-slow').length;
  return `[proof] ${fault}: live client (${p.live!.connects} connections${kicked > 0 ? `, ${kicked} closed by the gateway as too slow` : ''}; gateway stream resyncs ${c.resyncs ?? 'n/a'}; cost: gateway start ${cost.gatewayWait} ms, replay held ${cost.subscribeHold} ms while subscribing, checks ${cost.check} ms in ${c.rounds} round${c.rounds === 1 ? '' : 's'}): ${views.join('; ')}`;
}

function describeStream(spec: StreamSpec): string {
  const slice = ltcRecording().slice(spec.from, spec.to);
  const h = spec.keepHoles ? holes(slice) : [];
  return `LTCUSDT recording rows [${spec.from}, ${spec.to}) × ${spec.copies} cop${spec.copies === 1 ? 'y' : 'ies'} (copy k: ids + k × id span, times + k × (time span + 60 s)); ${spec.keepHoles ? `the recording's own ${h.length * spec.copies} id holes (${h.reduce((n, x) => n + x[1], 0) * spec.copies} ids) kept` : 'ids renumbered contiguously (no holes)'}; moved in time by whole minutes so that its 40 % point lies 20 minutes before the run; replayed as LTCUSDT and LTCUSDC (${(slice.length * spec.copies).toLocaleString('en')} trades each) at --replay-rate ${RATE}`;
}

describe(`proof under fire (${SIZE})`, needsSharedData, () => {
  let ch: Awaited<ReturnType<typeof startOwnClickHouse>>;
  let client: ClickHouseClient;
  const outer: Cleanup = [];
  const cleanup: Cleanup = [];
  const rows: Row[] = [];
  let n = 0;

  beforeAll(async () => {
    ch = await startOwnClickHouse(outer);
    client = connectClickHouse({ url: ch.url });
  }, 120_000);
  afterEach(() => runCleanup(cleanup));
  afterAll(async () => {
    await client?.close();
    await runCleanup(outer);
    if (FULL || process.env['PROOF_REPORT']) {
      const file = writeReport(rows, {
        size: SIZE,
        stream: `faults: ${describeStream(FAULT_STREAM)}. Exactness run: ${describeStream(EXACT_STREAM)}.`,
        command: FULL
          ? 'scripts/proof.sh full'
          : 'PROOF_REPORT=1 npx vitest run -c vitest.proof.config.ts src/proof/faults.int.spec.ts (in tests/)',
      });
      console.log(`[proof] report written to ${file}`);
    }
  }, 120_000);

  async function run(
    fault: string,
    how: string,
    spec: StreamSpec,
    act: (p: Pipeline) => Promise<number | null>,
    o: { aggEnv?: Record<string, string>; rate?: number; supervised?: boolean } = {},
  ) {
    const started = Date.now();
    const p = new Pipeline({
      db: `proof_${SIZE}_${++n}_${Date.now() % 100000}`,
      clickhouseUrl: ch.url,
      clickhouseRoles: ch.roles,
      markets: marketsNearNow(spec, SYMBOLS, 0.4, 20),
      rate: o.rate ?? RATE,
      cleanup,
      live: LIVE_VIEWS,
      ...(o.aggEnv ? { aggEnv: o.aggEnv } : {}),
      ...(o.supervised ? { supervised: true } : {}),
    });
    await p.start();
    const recoveryMs = await act(p);
    await p.settle(FULL ? 1_800_000 : 400_000);
    const measurements = await p.measure(client);
    const cmp = (await p.compareLive(client, FULL ? 120_000 : 30_000))!;
    const row: Row = {
      fault,
      how,
      measurements,
      recoveryMs,
      wallMs: Date.now() - started,
      live: liveLine(fault, p, cmp),
    };
    rows.push(row);
    // the live client's figures in detail go to the JSON rows too
    if (JSON_OUT)
      appendJson(
        JSON_OUT,
        Object.assign({}, row, {
          live: cmp.live.map((c, i) => ({ ...c, ...p.live!.stats()[i]!, newSubscriber: cmp.fresh[i] })),
          gatewayResyncs: cmp.resyncs,
        }),
      );
    console.log(line(row));
    console.log(row.live);
    expectNothingLost(measurements);
    const liveBad = [...cmp.live, ...cmp.fresh].some(
      (c) => c.cellDiffs + c.candleDiffs + c.missingCandles + c.metricDiffs + c.httpDiffs !== 0,
    );
    if (liveBad) {
      // what it takes to find out why: both comparisons, and what the gateway and the shards said
      console.log(
        `[proof] ${fault}: the live client differs from ClickHouse:\n${JSON.stringify({ live: cmp.live, fresh: cmp.fresh, stats: p.live!.stats() }, null, 1)}`,
      );
      for (const proc of [p.gateway, ...p.shards]) console.log(`[proof] ${proc.name} said:\n${proc.tail(120)}`);
    }
    expectLiveExact(cmp, p.live!.stats(), p.live!.errors);
    return p;
  }

  /**
   * Runs `fault` once `frac` of the stream is produced; returns the recovery time measured from the restart it returns.
   */
  const midway = (frac: number, fault: (p: Pipeline) => Promise<number>) => async (p: Pipeline) => {
    await p.producedAtLeast(Math.floor(p.total * frac));
    const restartAt = await fault(p);
    const producedThen = (await p.simStats()).tradesProduced;
    return p.recoveryMs(client, restartAt, producedThen);
  };

  it('exactness: the recording with its real id holes ends in footprint and candles equal to the reference', async () => {
    await run(
      'none (exactness)',
      'the recording replayed as it is; its real holes reach the collector as WebSocket gaps that REST cannot fill either (the simulator never had those ids), so they are recorded as unfilled and the reference is the recording itself',
      EXACT_STREAM,
      async () => null,
    );
  }, 1_800_000);

  faultIt(
    "kill -9 of the collector, each shard and the gateway under npm start's supervisor: each comes back by itself, the live client stays exact",
    async () => {
      // The services run as `npm start` runs them (scripts/platform.mjs), and nothing restarts them
      // but the supervisor, with the settings they started with: the collector resumes from the last
      // trade it stored in JetStream and fills what it missed from REST, a shard resumes its
      // consumers, the gateway's clients reconnect and re-subscribe. The kills follow one another
      // while the replay runs (at SUPERVISED_RATE); the gateway goes first, because its recovery is
      // measured by updates arriving after its restart, which needs the replay still running.
      const kills: [string, number][] = [
        ['gateway', 0.1],
        ['collector', 0.25],
        ['aggregator-0', 0.4],
        ['aggregator-1', 0.55],
      ];
      const figures: string[] = [];
      const p = await run(
        'supervised kill -9',
        `npm start's supervisor runs the collector, both shards and the gateway; SIGKILL of ${kills.map(([name, at]) => `${name} at ${at * 100} %`).join(', ')} of the replay (--replay-rate ${SUPERVISED_RATE}); each restarted only by the supervisor (ORDERFLOW_RESTART_DELAY_MS=500) with its original settings (the collector: COLLECTOR_BACKFILL_MINUTES=0, so what it missed comes from resuming at its last stored trade). "recovered" = the slowest of: the gateway until the live client had a new snapshot and an update of every view; a killed collector or shard until ClickHouse held every trade produced before the kill`,
        FAULT_STREAM,
        async (p) => {
          const caughtUp: Promise<number | null>[] = [];
          let worst = 0;
          for (const [name, at] of kills) {
            await p.producedAtLeast(Math.floor(p.total * at));
            const connectsBefore = p.live!.connects;
            const producedThen = (await p.simStats()).tradesProduced;
            const { killedAt, readyMs } = await p.killSupervised(name);
            if (name === 'gateway') {
              const rec = await p.live!.recoveredAfter(killedAt, 120_000);
              const left = p.total - (await p.simStats()).tradesProduced;
              figures.push(
                `gateway ready ${readyMs} ms after the kill, the client's snapshots and an update of every view ${rec?.ms ?? 'n/a'} ms after it (${left} trades of the replay still to come then)`,
              );
              expect(
                rec,
                `the live client had a new snapshot and an update of every view after the gateway's restart${left === 0 ? ' (the replay ended first: lower PROOF_SUPERVISED_RATE)' : ''}`,
              ).not.toBeNull();
              expect(p.live!.connects).toBe(connectsBefore + 1);
              worst = Math.max(worst, rec!.ms);
            } else {
              // ClickHouse catching up is measured while the next kills go on
              const ms = p.recoveryMs(client, killedAt, producedThen);
              caughtUp.push(ms);
              void ms.then((x) =>
                figures.push(
                  `${name} ready ${readyMs} ms after the kill, ClickHouse held the ${producedThen.toLocaleString('en')} trades produced before it ${x ?? 'n/a'} ms after it`,
                ),
              );
            }
          }
          for (const ms of await Promise.all(caughtUp)) {
            expect(ms, 'ClickHouse caught up after each kill').not.toBeNull();
            worst = Math.max(worst, ms!);
          }
          console.log(`[proof] supervised kill -9: ${figures.join('; ')}`);
          return worst;
        },
        { rate: SUPERVISED_RATE, supervised: true },
      );
      const restarts = (await p.supervisorStatus()).services.map((s) => [s.name, s.restarts]);
      expect(restarts).toEqual([
        ['collector', 1],
        ['aggregator-0', 1],
        ['aggregator-1', 1],
        ['gateway', 1],
      ]);
      for (const s of p.live!.stats()) expect(s.notLive, `${s.view}: snapshots without the shard`).toBe(0);
    },
    1_800_000,
  );

  faultIt(
    'NATS server restart (same store dir) mid-replay',
    async () => {
      await run(
        'NATS restart',
        'nats-server stopped at 40 % of the replay, down 3 s, started again on the same port with the same store directory',
        FAULT_STREAM,
        midway(0.4, (p) => p.restartNats(3000)),
      );
    },
    1_800_000,
  );

  faultIt(
    `ClickHouse stopped for ${CH_OUTAGE_MS / 1000} s mid-replay`,
    async () => {
      await run(
        `ClickHouse down ${CH_OUTAGE_MS / 1000} s`,
        `clickhouse-server stopped at 30 % of the replay for ${CH_OUTAGE_MS / 1000} s, then started with the same data dir and ports`,
        FAULT_STREAM,
        midway(0.3, async () => {
          await ch.stop();
          await sleep(CH_OUTAGE_MS);
          const at = Date.now();
          await ch.restart();
          return at;
        }),
      );
    },
    1_800_000,
  );

  faultIt(
    'exchange connection dropped with a gap of thousands of ids that REST fills',
    async () => {
      const gap = FULL ? 20_000 : 5_000;
      await run(
        'WebSocket dropped + gap',
        `at 30 % of the replay the simulator withholds the next ${gap} LTCUSDT trades from the WebSocket (skipIds; REST has them) and drops every connection; the collector reconnects, sees the id gap and fills it from REST`,
        FAULT_STREAM,
        midway(0.3, async (p) => {
          await p.simControl('skipIds', { n: gap, symbol: 'LTCUSDT' });
          await waitFor('the skipped trades produced', async () => (await p.simStats()).tradesSkipped >= gap, 120_000);
          await p.simControl('dropConnections');
          return Date.now();
        }),
      );
    },
    1_800_000,
  );

  faultIt(
    'duplicate delivery (same trades published twice with other batch boundaries) and malformed frames from the exchange',
    async () => {
      const hostile = [
        '{"stream":"ltcusdt@aggTrade","data":{"e":"aggTrade","s":"LTCUSDT","a":"1; DROP TABLE trades","p":"NaN","q":"1"}}',
        '{"stream":"ltcusdt@aggTrade","data":{"e":"aggTrade","s":"LTCUSDT\'--","a":1,"p":"1e308","q":"Infinity","T":1,"m":true}}',
        '{"__proto__":{"polluted":1},"stream":"x"}',
        'not json at all \u0000',
        '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
      ];
      const p = await run(
        'duplicate delivery + malformed frames',
        "the first 60 % of each market published a second time into TRADES by a separate publisher (publish(), batches of 333 instead of the collector's 500, so JetStream's msg-id dedupe cannot drop them) while the replay runs; 5 hostile malformed frames sent on the WebSocket by the simulator (sendMalformed)",
        FAULT_STREAM,
        midway(0.5, async (p) => {
          for (const text of hostile) await p.simControl('sendMalformed', { text });
          const at = Date.now();
          for (const rec of p.recordings) {
            const part = rec.recorded.slice(0, Math.floor(rec.recorded.length * 0.6)) as StreamTrade[];
            const trades = part.map((t) => ({
              exchange: rec.exchange,
              symbol: rec.symbol,
              id: t.id,
              price: Number(units(t.price, 2)),
              quantity: Number(units(t.quantity, 3)),
              side: t.side,
              exchangeTimeUs: t.timeMs * 1000,
              receiveTimeMs: t.timeMs,
            }));
            await publish(p.nc, { ...rec, trades }, trades, 333);
          }
          return at;
        }),
      );
      const { deadLetters } = await readEvents(p.nc);
      // every hostile frame is dead-lettered with its raw text, a code and a reason (and none reached ClickHouse: the
      // views are exact above)
      for (const text of hostile) {
        const d = deadLetters.find((x) => x.raw === text);
        expect(d, text).toBeDefined();
        expect(d!.code.length).toBeGreaterThan(0);
        expect(d!.reason.length).toBeGreaterThan(0);
      }
    },
    1_800_000,
  );
});
