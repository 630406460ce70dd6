#!/usr/bin/env node
// Load: the simulator (constant-rate synthetic Binance spot market, live timestamps) driven at rising
// rates, through the collector, JetStream and two aggregator shards into ClickHouse and through the
// gateway to subscribed Socket.IO clients; every service its own process, on NATS and ClickHouse of
// our own (spare ports, temp dirs). Per rate step: sustained throughput (trades/s produced,
// acknowledged by JetStream, written to ClickHouse), end-to-end lag (wall clock minus the newest
// exchange time in ClickHouse) and JetStream consumer lag, then, for each client count, the
// trade-to-client latency of every update every client receives, and CPU and memory per process.
// The headline is the highest rate held without growing lag. Writes docs/proof/LOAD.md and LOAD.svg.
//
//   node tests/bench/load.bench.mjs          # 10k,25k,50k,100k trades/s; 100 then 1,000 clients, 20 s each
//   LOAD_RATES=50000 LOAD_SECONDS=8 LOAD_CLIENTS=100 node tests/bench/load.bench.mjs   # a short run
//
// LOAD_RATES (trades/s, summed over the 2 symbols), LOAD_SECONDS (measurement time per client
// count), LOAD_CLIENTS (client counts in rising order; "" = none), LOAD_WARMUP_SECONDS (default 5),
// LOAD_DRAIN_SECONDS (default 20), LOAD_CLIENT_PROCESSES (at most this many client processes per
// added batch of clients, default 4), LOAD_LOGS=1 (service logs), LOAD_OUT=dir (default docs/proof).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// ---- client worker: Socket.IO clients spread over a few processes (as gateway.bench.mjs does), so
// that decoding their updates is not serialised on one event loop
if (process.argv[2] === '--clients-worker') {
  const { connectWorkerClients } = await import('./lib/clients.mjs');
  let record = false;
  let recvAt = [];
  let delays = [];
  let updates = 0;
  let nullTrades = 0;
  const sockets = await connectWorkerClients({
    url: process.env.LOAD_GW_URL,
    views: JSON.parse(process.env.LOAD_VIEWS),
    n: Number(process.env.LOAD_N),
    offset: Number(process.env.LOAD_OFFSET),
    onUpdate: (u) => {
      if (!record) return;
      updates++;
      if (u.lastTradeUs === null || u.lastTradeUs === undefined) {
        nullTrades++;
        return;
      }
      const now = Date.now();
      recvAt.push(now);
      delays.push(now - u.lastTradeUs / 1000);
    },
  });
  let disconnects = 0;
  for (const s of sockets) s.on('disconnect', () => disconnects++);
  process.on('message', (m) => {
    if (m === 'record') {
      record = true;
    } else if (m === 'report') {
      record = false;
      process.send({ recvAt, delays, updates, nullTrades, disconnects });
      recvAt = [];
      delays = [];
      updates = 0;
      nullTrades = 0;
    } else if (m === 'exit') {
      for (const s of sockets) s.close();
      process.exit(0);
    }
  });
  process.send('ready');
  await new Promise(() => undefined);
}

const { jetstreamManager } = await import('@nats-io/jetstream');
const { connect } = await import('@nats-io/transport-node');
const { cpuPct, perGroup, sampleAll } = await import('./lib/procstat.mjs');
const { plot } = await import('./lib/svg.mjs');
const { clickHouseVersion, natsServerVersion } = await import('./lib/versions.mjs');
const { chQuery, freePorts, startClickHouse, startNatsInTempDir } = await import('./lib/servers.mjs');
const { ROOT, getJson, sleep, startAggregator, startCollector, startGateway, startSimulator, waitUrl } = await import(
  './lib/services.mjs'
);
const { forkClientWorkers, workersReady } = await import('./lib/clients.mjs');

const list = (v, d) =>
  (v ?? d)
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(Number);
const RATES = list(process.env.LOAD_RATES, '10000,25000,50000,100000');
const SECONDS = Number(process.env.LOAD_SECONDS ?? 20);
const CLIENTS = list(process.env.LOAD_CLIENTS, '100,1000').sort((a, b) => a - b);
const WARMUP_S = Number(process.env.LOAD_WARMUP_SECONDS ?? 5);
const DRAIN_S = Number(process.env.LOAD_DRAIN_SECONDS ?? 20);
const MAX_CLIENT_PROCS = Number(process.env.LOAD_CLIENT_PROCESSES ?? 4);
const CONNECT_TIMEOUT_S = 180;
const OUT_DIR = process.env.LOAD_OUT ? path.resolve(process.env.LOAD_OUT) : path.join(ROOT, 'docs/proof');
const SYMBOLS = ['LTCUSDT', 'LTCUSDC']; // one per aggregator shard
const EXCHANGE = 'sim-binance';
const TICK_MS = 5; // the simulator's --tick-ms (its default with --pacing constant)
// what the clients subscribe to, spread evenly: both symbols, four views each (as gateway.bench.mjs)
const VIEWS = SYMBOLS.flatMap((symbol) => [
  { exchange: EXCHANGE, symbol, timeframe: '1m', ticks: 1, candles: 60 },
  { exchange: EXCHANGE, symbol, timeframe: '1m', ticks: 10, candles: 60 },
  { exchange: EXCHANGE, symbol, timeframe: '5m', ticks: 10, candles: 60 },
  { exchange: EXCHANGE, symbol, timeframe: '1h', ticks: 100, candles: 24 },
]);
const SERVICES = ['sim', 'collector', 'agg0', 'agg1', 'gateway', 'nats', 'clickhouse', 'clients'];

const LOGS = { logs: Boolean(process.env.LOAD_LOGS) };
const READY = { timeoutMs: 90_000, intervalMs: 200 };
const pct = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : NaN;
const mean = (v) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0);
/** Least-squares slope of y over x. */
function slope(points) {
  if (points.length < 2) return 0;
  const mx = mean(points.map((p) => p[0]));
  const my = mean(points.map((p) => p[1]));
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den > 0 ? num / den : 0;
}
const fmt = (n) => Math.round(n).toLocaleString('en');
const ms = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en') : '–');

const ch = await startClickHouse({ analyst: false });
const versions = { clickhouse: await clickHouseVersion(ch.url), nats: null };
// a fresh nats-server (JetStream store) per rate: a step that did not drain must not leave its
// backlog, or its durable consumers' positions, to the next one
let nats = null;
let nc = null;
const stopNats = async () => {
  await nc?.close().catch(() => undefined);
  await nats?.stop();
  nc = nats = null;
};
const steps = [];
const timeline = []; // { t (s since the bench started), chPerS, lagS }
const latencyTimeline = []; // [t, p99 s] per second of each client phase
const markers = [];
const t0 = Date.now();
let failure = null;
try {
  for (const rate of RATES) {
    const db = `load_${rate}`;
    nats = await startNatsInTempDir('orderflow-load-nats-');
    nc = await connect({ servers: nats.url, name: 'load-bench' });
    const jsm = await jetstreamManager(nc);
    versions.nats ??= natsServerVersion(nc);
    const [simPort, colPort, a0, a1, gwPort] = await freePorts(5);
    const sim = startSimulator(
      { port: simPort, symbols: SYMBOLS, ratePerSymbol: rate / SYMBOLS.length, tickMs: TICK_MS },
      LOGS,
    );
    await waitUrl(`http://127.0.0.1:${simPort}/health`, sim, READY);
    const col = startCollector(
      { natsUrl: nats.url, exchange: EXCHANGE, symbols: SYMBOLS, simPort, httpPort: colPort },
      LOGS,
    );
    const startShard = (i, port) =>
      startAggregator(
        `agg${i}`,
        {
          natsUrl: nats.url,
          clickhouseUrl: ch.url,
          database: db,
          shards: 2,
          httpPort: port,
          env: { AGG_SHARD_INDEX: String(i) },
        },
        LOGS,
      );
    const agg0 = startShard(0, a0);
    await waitUrl(`http://127.0.0.1:${a0}/health/ready`, agg0, READY);
    const agg1 = startShard(1, a1);
    await waitUrl(`http://127.0.0.1:${a1}/health/ready`, agg1, READY);
    await waitUrl(`http://127.0.0.1:${colPort}/health/ready`, col, READY);
    const gwUrl = `http://127.0.0.1:${gwPort}`;
    const gw = startGateway(
      {
        natsUrl: nats.url,
        clickhouseUrl: ch.url,
        database: db,
        shards: 2,
        port: gwPort,
        maxClients: Math.max(0, ...CLIENTS) + 100,
      },
      LOGS,
    );
    await waitUrl(`${gwUrl}/health/ready`, gw, READY);
    const services = [sim, col, agg0, agg1, gw];
    const pids = {
      sim: [sim.child.pid],
      collector: [col.child.pid],
      agg0: [agg0.child.pid],
      agg1: [agg1.child.pid],
      gateway: [gw.child.pid],
      nats: [nats.pid],
      clickhouse: [ch.pid],
      clients: [],
    };
    const workers = [];

    // ---- sampling, once a second, for the whole step
    let phase = 'warmup';
    const samples = [];
    let stopSampling = false;
    const stepStart = Date.now();
    markers.push({ t: (stepStart - t0) / 1000, label: `${rate >= 1000 ? `${rate / 1000}k` : rate}/s` });
    let prev = { t: stepStart, stored: 0, acked: 0, produced: 0, proc: new Map() };
    // [count, newest exchange time of the symbol further behind]: count() is cheap, and the newest
    // time is read past the last trade id seen (the primary key is exchange, symbol, trade_id; the
    // simulator's ids have 10 digits, so string order is numeric order) instead of scanning the table
    const lastIds = Object.fromEntries(SYMBOLS.map((sym) => [sym, '']));
    const newest = Object.fromEntries(SYMBOLS.map((sym) => [sym, 0]));
    const newestInClickHouse = async () => {
      try {
        const [count, ...perSymbol] = await Promise.all([
          chQuery(ch.url, `SELECT count() FROM ${db}.trades`),
          ...SYMBOLS.map((sym) =>
            chQuery(
              ch.url,
              `SELECT max(trade_id), max(exchange_time_us), count() FROM ${db}.trades WHERE exchange = '${EXCHANGE}' AND symbol = '${sym}' AND trade_id >= '${lastIds[sym]}'`,
            ),
          ),
        ]);
        SYMBOLS.forEach((sym, i) => {
          const [id, us, n] = perSymbol[i].split('\t');
          if (Number(n) > 0) {
            lastIds[sym] = id;
            newest[sym] = Math.max(newest[sym], Number(us));
          }
        });
        return [Number(count), Math.min(...SYMBOLS.map((sym) => newest[sym]))];
      } catch {
        return [prev.stored, 0];
      }
    };
    const sampleOnce = async () => {
      const now = Date.now();
      const [row, st, sim1, pending] = await Promise.all([
        newestInClickHouse(),
        getJson(`http://127.0.0.1:${colPort}/status`, 8000).then((r) => r.body),
        getJson(`http://127.0.0.1:${simPort}/__sim/stats`, 8000).then((r) => r.body),
        Promise.all(
          SYMBOLS.map((s) =>
            jsm.consumers.info('TRADES', `agg_${EXCHANGE}_${s}`).then(
              (i) => i.num_pending + i.num_ack_pending,
              () => 0,
            ),
          ),
        ).then((v) => v.reduce((a, b) => a + b, 0)),
      ]);
      const cur = sampleAll(pids);
      const cpu = perGroup(pids, (pid) => cpuPct(prev.proc.get(pid), cur.get(pid)));
      const rss = perGroup(pids, (pid) => cur.get(pid)?.rssMb ?? 0);
      const dt = (now - prev.t) / 1000;
      const acked = st?.publisher?.tradesAcked ?? prev.acked;
      const produced = sim1?.tradesProduced ?? prev.produced;
      const lagS = row[1] > 0 ? (now - row[1] / 1000) / 1000 : null;
      const s = {
        t: (now - stepStart) / 1000,
        phase,
        produced,
        acked,
        stored: row[0],
        prodPerS: (produced - prev.produced) / dt,
        natsPerS: (acked - prev.acked) / dt,
        chPerS: (row[0] - prev.stored) / dt,
        lagS,
        pending,
        cpu,
        rss,
      };
      samples.push(s);
      timeline.push({ t: (now - t0) / 1000, chPerS: s.chPerS, lagS });
      prev = { t: now, stored: row[0], acked, produced, proc: cur };
      console.log(
        `rate ${fmt(rate)}: t=${s.t.toFixed(0)}s ${phase} produced ${fmt(s.prodPerS)}/s acked ${fmt(s.natsPerS)}/s stored ${fmt(s.chPerS)}/s lag ${lagS?.toFixed(2)} s, JetStream pending ${pending}; CPU % ${SERVICES.map((k) => `${k} ${Math.round(cpu[k])}`).join(', ')}`,
      );
    };
    const sampler = (async () => {
      // once a second; a sample that took longer (a busy machine) delays the next instead of bunching them
      for (let next = Date.now() + 1000; !stopSampling; next = Math.max(next + 1000, Date.now() + 500)) {
        await sleep(Math.max(0, next - Date.now()));
        if (!stopSampling) await sampleOnce();
      }
    })();

    await fetch(`http://127.0.0.1:${simPort}/__sim/resume`, { method: 'POST' });
    await sleep(WARMUP_S * 1000);
    const clientPhases = [];
    let connected = 0;
    try {
      for (const target of CLIENTS.length ? CLIENTS : [0]) {
        // ---- add clients up to `target`, then measure
        const add = target - connected;
        if (add > 0) {
          phase = `connect ${target}`;
          const t1 = Date.now();
          const batch = forkClientWorkers(fileURLToPath(import.meta.url), add, MAX_CLIENT_PROCS, (n, w) => ({
            LOAD_GW_URL: gwUrl,
            LOAD_VIEWS: JSON.stringify(VIEWS),
            LOAD_N: String(n),
            LOAD_OFFSET: String(connected + w),
          }));
          pids.clients.push(...batch.map((child) => child.pid));
          workers.push(...batch);
          const failed = await workersReady(batch, CONNECT_TIMEOUT_S);
          if (failed) {
            // a finding, not a crash: the step's pipeline figures still count
            console.log(`rate ${fmt(rate)}: connecting ${target} clients failed: ${failed.split('\n')[0]}`);
            clientPhases.push({ clients: target, error: failed.split('\n')[0].slice(0, 200) });
            break;
          }
          connected = target;
          console.log(
            `rate ${fmt(rate)}: ${target} clients connected and subscribed (${add} in ${((Date.now() - t1) / 1000).toFixed(1)} s, ${workers.length} client processes)`,
          );
          await sleep(1000);
        }
        phase = `c${target}`;
        const from = Date.now();
        for (const w of workers) w.send('record');
        await sleep(SECONDS * 1000);
        const reports = await Promise.all(
          workers.map(
            (w) =>
              new Promise((resolve) => {
                w.once('message', resolve);
                w.send('report');
              }),
          ),
        );
        const to = Date.now();
        const delays = Float64Array.from(reports.flatMap((r) => r.delays)).sort();
        // p99 of each second of the phase, for the plot
        const bySecond = new Map();
        for (const r of reports)
          r.recvAt.forEach((at, i) => {
            const k = Math.floor((at - t0) / 1000);
            if (!bySecond.has(k)) bySecond.set(k, []);
            bySecond.get(k).push(r.delays[i]);
          });
        for (const [k, v] of [...bySecond].sort((a, b) => a[0] - b[0]))
          latencyTimeline.push([k + 0.5, pct(Float64Array.from(v).sort(), 99) / 1000]);
        clientPhases.push({
          clients: target,
          from,
          to,
          seconds: (to - from) / 1000,
          updates: reports.reduce((n, r) => n + r.updates, 0),
          withTrade: delays.length,
          disconnects: reports.reduce((n, r) => n + r.disconnects, 0),
          p50: pct(delays, 50),
          p99: pct(delays, 99),
          max: delays.length ? delays[delays.length - 1] : NaN,
        });
        console.log(
          `rate ${fmt(rate)}, ${target} clients: ${fmt(delays.length)} updates with a trade in ${((to - from) / 1000).toFixed(0)} s; trade -> client latency p50 ${ms(pct(delays, 50))} ms, p99 ${ms(pct(delays, 99))} ms, max ${ms(clientPhases.at(-1).max)} ms`,
        );
      }
    } finally {
      // ---- stop the flow and let the pipeline drain
      phase = 'drain';
      await fetch(`http://127.0.0.1:${simPort}/__sim/pause`, { method: 'POST' }).catch(() => undefined);
      for (const w of workers) {
        if (w.connected) w.send('exit');
        setTimeout(() => w.exitCode === null && w.kill('SIGKILL'), 5000).unref();
      }
    }
    const pausedAt = Date.now();
    while (Date.now() - pausedAt < DRAIN_S * 1000) {
      await sleep(500);
      const last = samples.at(-1);
      if (last?.phase === 'drain' && last.pending === 0 && last.stored >= last.produced * 0.999) break;
    }
    stopSampling = true;
    await sampler;

    // ---- the step's figures
    const loaded = samples.filter((s) => s.phase !== 'warmup' && s.phase !== 'drain');
    const lagPts = loaded.filter((s) => s.lagS !== null).map((s) => [s.t, s.lagS]);
    const first = loaded[0];
    const last = loaded.at(-1);
    const span = last && first ? last.t - first.t : 0;
    const rateOf = (k) => (span > 0 ? (last[k] - first[k]) / span : 0);
    const avgCpu = (list) => Object.fromEntries(SERVICES.map((k) => [k, Math.round(mean(list.map((s) => s.cpu[k])))]));
    const peakRss = (list) =>
      Object.fromEntries(SERVICES.map((k) => [k, Math.round(Math.max(0, ...list.map((s) => s.rss[k])))]));
    const drained = samples.filter((s) => s.phase === 'drain');
    const lastDrain = drained.at(-1);
    const step = {
      rate,
      seconds: Math.round(span),
      producedPerS: Math.round(rateOf('produced')),
      natsPerS: Math.round(rateOf('acked')),
      chPerS: Math.round(rateOf('stored')),
      lagStart: first?.lagS ?? null,
      lagEnd: last?.lagS ?? null,
      lagMax: Math.max(0, ...lagPts.map((p) => p[1])),
      lagGrowth: slope(lagPts) * span,
      maxPending: Math.max(0, ...loaded.map((s) => s.pending)),
      drainS:
        lastDrain && lastDrain.pending === 0 && lastDrain.stored >= lastDrain.produced * 0.999
          ? Math.ceil(lastDrain.t - (pausedAt - stepStart) / 1000)
          : null,
      cpu: avgCpu(loaded.slice(1)),
      rss: peakRss(loaded),
      clients: clientPhases.map((c) => {
        if (c.error) return c;
        const inPhase = samples.filter((s) => s.phase === `c${c.clients}`);
        const f = inPhase[0];
        const l = inPhase.at(-1);
        const sp = l && f ? l.t - f.t : 0;
        return {
          ...c,
          chPerS: sp > 0 ? Math.round((l.stored - f.stored) / sp) : 0,
          lagEnd: l?.lagS ?? null,
          cpu: avgCpu(inPhase.slice(1)),
          rss: peakRss(inPhase),
        };
      }),
    };
    step.held =
      step.producedPerS >= rate * 0.97 &&
      step.chPerS >= rate * 0.9 &&
      step.lagEnd !== null &&
      step.lagEnd < 5 &&
      step.lagGrowth < 1;
    steps.push(step);
    console.log(JSON.stringify(step));
    timeline.push(null); // the plot's lines break between steps
    await Promise.all(services.map((p) => p.kill()));
    await stopNats();
  }
} catch (e) {
  failure = e;
  console.error(e);
} finally {
  await stopNats();
  await ch.stop();
}
if (steps.length === 0) process.exit(1);

// ---- the report
const held = steps.filter((s) => s.held).map((s) => s.rate);
const headline = held.length ? Math.max(...held) : null;
const firstNotHeld = steps.find((s) => !s.held);
const cpuModel = os.cpus()[0]?.model ?? '';
const sec = (x) => (x === null || x === undefined ? '–' : `${x.toFixed(1)} s`);
const cells = (o, keys) => keys.map((k) => o[k]).join(' / ');
const PIPE = ['sim', 'collector', 'agg0', 'agg1', 'gateway', 'nats', 'clickhouse'];
const md = [
  '# Load: simulator → collector → JetStream → 2 aggregator shards → ClickHouse, and → gateway → Socket.IO clients',
  '',
  `Run ${new Date().toISOString()} on ${os.cpus().length} × ${cpuModel}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}, Node ${process.version}, nats-server ${versions.nats ?? 'unknown'}, ClickHouse ${versions.clickhouse ?? 'unknown'} (SELECT version()); load average at the end ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ')} (machine shared with other work; figures vary).`,
  `Command: \`node tests/bench/load.bench.mjs\` (LOAD_RATES=${RATES.join(',')}, LOAD_SECONDS=${SECONDS}, LOAD_CLIENTS=${CLIENTS.join(',')}, LOAD_WARMUP_SECONDS=${WARMUP_S}).`,
  '',
  `Per rate, on a fresh nats-server (JetStream store) and a database of its own in one ClickHouse: one simulator process (\`--pacing constant\`: exactly rate/${SYMBOLS.length} trades/s on each of ${SYMBOLS.join(' and ')}, evenly spaced, live timestamps, one batch every ${TICK_MS} ms), one collector, one aggregator shard per symbol, one gateway (\`AGG_SHARDS=2\`, \`GATEWAY_MAX_CLIENTS=${Math.max(0, ...CLIENTS) + 100}\`), nats-server and ClickHouse — every service its own process on the same ${os.cpus().length} cores, with the clients. After a ${WARMUP_S} s warm-up, ${CLIENTS.length ? `${CLIENTS.map((c) => c.toLocaleString('en')).join(' then ')} Socket.IO clients (socket.io-client, in up to ${MAX_CLIENT_PROCS} forked processes per batch) are subscribed, one view each, spread over 8 views (both symbols × 1m native ticks, 1m ×10, 5m ×10, 1h ×100), and measured ${SECONDS} s each` : `no Socket.IO client (LOAD_CLIENTS empty); the pipeline is measured ${SECONDS} s`}; then the simulator stops and the pipeline drains.`,
  '',
  `**Headline: ${headline === null ? 'no rate was held without growing lag' : `${headline.toLocaleString('en')} trades/s held without growing lag`}${firstNotHeld ? `; ${firstNotHeld.rate.toLocaleString('en')} trades/s was not (${firstNotHeld.producedPerS < firstNotHeld.rate * 0.97 ? `the simulator produced ${fmt(firstNotHeld.producedPerS)}/s` : firstNotHeld.chPerS < firstNotHeld.rate * 0.9 ? `${fmt(firstNotHeld.chPerS)}/s reached ClickHouse` : `its lag grew by ${firstNotHeld.lagGrowth.toFixed(1)} s (least squares)`}; lag ${sec(firstNotHeld.lagStart)} → ${sec(firstNotHeld.lagEnd)}, max ${sec(firstNotHeld.lagMax)})` : ''}.** "Held" = over the measured time (from the end of the warm-up to the stop) the simulator produced ≥ 97 % of the rate, ClickHouse received ≥ 90 % of it (the shards write in batches of a second or two), and the end-to-end lag (wall clock − newest exchange time in ClickHouse, of the symbol further behind) ended < 5 s and grew < 1 s (least-squares slope × duration).`,
  '',
  '## Pipeline',
  '',
  `| target trades/s | produced/s | JetStream-acked/s | written to ClickHouse/s | lag start → end (max) | lag growth | max JetStream pending | drain after stop | held | CPU % (${PIPE.join(' / ')} / clients) | peak RSS MB (${PIPE.join(' / ')}) |`,
  '| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | --- | --- |',
  ...steps.map(
    (s) =>
      `| ${s.rate.toLocaleString('en')} | ${fmt(s.producedPerS)} | ${fmt(s.natsPerS)} | ${fmt(s.chPerS)} | ${sec(s.lagStart)} → ${sec(s.lagEnd)} (${sec(s.lagMax)}) | ${s.lagGrowth >= 0 ? '+' : ''}${s.lagGrowth.toFixed(1)} s | ${fmt(s.maxPending)} | ${s.drainS === null ? `> ${DRAIN_S} s` : `${s.drainS} s`} | ${s.held ? 'yes' : 'no'} | ${cells(s.cpu, [...PIPE, 'clients'])} | ${cells(s.rss, PIPE)} |`,
  ),
  '',
  `Measured over ${[...new Set([Math.min(...steps.map((s) => s.seconds)), Math.max(...steps.map((s) => s.seconds))])].join('–')} s per rate (the client phases and the connecting between them). Throughputs are counter differences over that time: trades the simulator produced (\`/__sim/stats\`), acknowledged by JetStream (collector \`/status\`), rows in ClickHouse's \`trades\`. CPU % is of one core (100 % = a full core), averaged over the time, from /proc/<pid>/stat (clients: all client processes together); RSS is the peak VmRSS from /proc/<pid>/status.`,
  '',
  '## Trade → Socket.IO client',
  '',
  '| target trades/s | clients | ClickHouse-written/s meanwhile | updates received/s (all clients) | latency p50 | p99 | max | gateway CPU % | gateway peak RSS MB | clients CPU % (all processes) | lag at the end |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...steps.flatMap((s) =>
    s.clients.map((c) =>
      c.error
        ? `| ${s.rate.toLocaleString('en')} | ${c.clients.toLocaleString('en')} | not measured: ${c.error.replace(/\|/g, '/')} | | | | | | | | |`
        : `| ${s.rate.toLocaleString('en')} | ${c.clients.toLocaleString('en')} | ${fmt(c.chPerS)} | ${fmt(c.updates / c.seconds)} | ${ms(c.p50)} ms | ${ms(c.p99)} ms | ${ms(c.max)} ms | ${c.cpu.gateway} | ${c.rss.gateway} | ${c.cpu.clients} | ${sec(c.lagEnd)} |`,
    ),
  ),
  '',
  `Latency = the client's receive time − \`update.lastTradeUs\` / 1000, over every update with a trade that every client received in the ${SECONDS} s: from the exchange timestamp of the newest trade in the update (the simulator's schedule; it sends each trade within one ${TICK_MS} ms tick of it) through simulator → WebSocket → collector → JetStream → aggregator shard → core NATS \`live.*\` → gateway (including its per-client conflation, \`GATEWAY_CONFLATION_MS\` = 50 by default) → Socket.IO → the client process's event loop. Same machine, same clock.`,
  '',
  '![throughput, lag and client latency over time](LOAD.svg)',
  '',
];
/** ClickHouse writes arrive in batches (one per shard write): a trailing mean over `n` samples, per step. */
function smooth(rows, n) {
  const out = [];
  let win = [];
  for (const r of rows) {
    if (r === null) {
      out.push(null);
      win = [];
      continue;
    }
    win.push(r.chPerS);
    if (win.length > n) win.shift();
    out.push([r.t, mean(win)]);
  }
  return out;
}
fs.mkdirSync(OUT_DIR, { recursive: true });
fs.writeFileSync(path.join(OUT_DIR, 'LOAD.md'), md.join('\n'));
fs.writeFileSync(
  path.join(OUT_DIR, 'LOAD.svg'),
  plot({
    title: `Load steps ${RATES.map((r) => r.toLocaleString('en')).join(' → ')} trades/s: ClickHouse writes, end-to-end lag, trade → client p99`,
    leftLabel: 'trades/s',
    rightLabel: 'seconds',
    markers,
    series: [
      {
        name: 'written to ClickHouse, trades/s (5 s mean)',
        color: '#1f77b4',
        axis: 'left',
        points: smooth(timeline, 5),
      },
      {
        name: 'end-to-end lag (wall clock − newest in ClickHouse), s',
        color: '#d62728',
        axis: 'right',
        points: timeline.filter((r) => r === null || r.lagS !== null).map((r) => r && [r.t, r.lagS]),
      },
      {
        name: 'trade → Socket.IO client latency p99 per second, s',
        color: '#2ca02c',
        axis: 'right',
        style: 'dots',
        points: latencyTimeline,
      },
    ],
  }),
);
console.log(`headline: ${headline}; wrote ${path.relative(ROOT, path.join(OUT_DIR, 'LOAD.md'))} and LOAD.svg`);
process.exit(failure ? 1 : 0);
