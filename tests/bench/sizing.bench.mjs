#!/usr/bin/env node
// Sizing: what each service costs per trade, per active symbol and per client, measured on the
// real services as processes (apps/*/dist/main.js, run `npx nx run-many -t build` first), fed by
// the exchange simulator at a known trade rate. The figures behind docs/sizing.md and the chart's
// default resources (deploy/helm/orderflow/values.yaml). Run on demand, not by npm test.
//
//   npm run bench-sizing -w tests          # or: node tests/bench/sizing.bench.mjs (about 25 min)
//   SIZING_RUNS='2x400:0,100;2x4000;8x400;8x1200' SIZING_REPEAT=1 SIZING_SECONDS=15 node tests/bench/sizing.bench.mjs
//
// A run = SYMBOLSxRATE[@FLUSH_MS][:CLIENTS,...]: RATE trades/s in total, spread evenly over
// SYMBOLS synthetic Binance spot markets (simulator --pacing constant), one collector, one
// aggregator (AGG_SHARDS=1: every symbol in one process), one gateway, and for each client count
// in turn that many Socket.IO clients (socket.io-client, in forked processes), each subscribed to
// one of 8 views (the first 2 symbols x 1m native ticks, 1m x10, 5m x10, 1h x100); a lower count
// than the one before disconnects every client first. Then the simulator pauses and, once the
// pipeline has drained, an idle phase measures the same processes without trades. Every run gets
// a fresh nats-server (JetStream) and a database of its own in one ClickHouse, both started here
// on spare ports. @FLUSH_MS sets the aggregator's AGG_FLUSH_INTERVAL_MS (default 1000); such runs
// stay out of the fit and are compared with its prediction (ClickHouse's cost is per insert, so
// per symbol and flush). The runs are repeated (SIZING_REPEAT passes, every second one in reverse
// order), so that a machine busier at one time than another weighs on every configuration alike.
//
// Per phase, CPU is the process's utime+stime over the phase, from /proc/<pid>/stat; memory is
// VmRSS from /proc/<pid>/status, sampled every 2 s. Then, per service:
//   CPU (cores)  = a + b * trades/s + m * batches/s + c * active symbols + d * clients
//                least squares over the phases; a batch is one JetStream message of the collector
//                (its trades of one symbol within PUBLISH_MAX_BATCH_DELAY_MS, 5 ms): a symbol
//                trading below ~200/s sends about one batch per trade, a busy one ~200 batches/s
//   RSS (MB)     = a + b * trades/s + c * symbols + d * clients          least squares over the samples
//   aggregator   RSS also against the trades it holds: it keeps the raw trades of the open minute
//                and the AGG_WINDOW_MINUTES (5) before it, so its memory grows with rate x 6 min
// and, in a process of its own (--expose-gc), the aggregator's per-symbol state (SymbolState, the
// class the aggregator runs) is fed a window of trades and a whole UTC day of minutes, to give the
// bytes per held trade, per minute candle and per price level that a day adds.
// At the end of each run the run's ClickHouse tables are merged (OPTIMIZE FINAL) and system.parts
// gives rows and bytes per trade and per symbol-minute. When the recordings in ../shared/data are
// present, their trade rates and price levels per minute are printed as real-market inputs.
//
// Environment: SIZING_RUNS (default below), SIZING_REPEAT (passes, default 2), SIZING_SECONDS (per
// phase, default 30), SIZING_IDLE_SECONDS (default 20), SIZING_WARMUP_SECONDS (default 30: the
// first seconds after a start carry JIT compilation, the consumers' set-up and the new database's
// first merges), SIZING_LOGS=1 (service logs), SIZING_SKIP_STATE=1 (no in-process SymbolState
// measurement).
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// ---- client worker: connects and subscribes its share of the clients, counts updates
if (process.argv[2] === '--clients-worker') {
  const { connectWorkerClients } = await import('./lib/clients.mjs');
  let updates = 0;
  const sockets = await connectWorkerClients({
    url: process.env.SIZING_GW_URL,
    views: JSON.parse(process.env.SIZING_VIEWS),
    n: Number(process.env.SIZING_N),
    offset: Number(process.env.SIZING_OFFSET),
    onUpdate: () => updates++,
  });
  process.on('message', (m) => {
    if (m === 'count') {
      process.send({ updates });
      updates = 0;
    } else if (m === 'exit') {
      for (const s of sockets) s.close();
      process.exit(0);
    }
  });
  process.send('ready');
  await new Promise(() => undefined);
}

// ---- the aggregator's per-symbol state, measured in a process of its own (node --expose-gc)
if (process.argv[2] === '--state-memory') {
  const { SymbolState } = await import('@orderflow/aggregation');
  const heap = () => {
    for (let i = 0; i < 4; i++) globalThis.gc();
    return process.memoryUsage().heapUsed;
  };
  const EX = 'sim-binance';
  const SYM = 'SIZEUSDT';
  const scales = { priceScale: 2, quantityScale: 3, tick: 1 };
  const DAY = Date.UTC(2026, 0, 5);
  let seq = 0;
  let id = 3_000_000_000;
  /**
   * One minute of `n` trades over `levels` adjacent prices, applied in batches of 500 (as the collector publishes),
   * then written.
   */
  const feedMinute = (state, minute, n, levels, base = 1_000_000) => {
    for (let i = 0; i < n; i += 500) {
      const batch = [];
      for (let k = i; k < Math.min(n, i + 500); k++) {
        const t = (minute + Math.floor((k * 60_000) / n)) * 1000;
        batch.push({
          exchange: EX,
          symbol: SYM,
          id: String(id++),
          price: base + ((k * 7919) % levels),
          quantity: 1 + (k % 13),
          side: k % 2 ? 'buy' : 'sell',
          exchangeTimeUs: t,
          receiveTimeMs: t / 1000 + 5,
          ingestSeq: seq++,
        });
      }
      state.apply(batch);
    }
    const b = state.takeFlush();
    if (b) state.flushed(b);
  };
  const out = {};
  // 1. trades held: six minutes (the open one and the 5-minute window) of 50,000 trades each
  {
    const before = heap();
    const state = new SymbolState({ exchange: EX, symbol: SYM, scales, windowMinutes: 5 });
    for (let m = 0; m < 6; m++) feedMinute(state, DAY + m * 60_000, 50_000, 50);
    const held = state.sizes.ids;
    out.bytesPerHeldTrade = (heap() - before) / held;
    out.heldTrades = held;
  }
  // 2. a whole UTC day of minutes, at two level counts: bytes per minute candle and per level
  const day = [];
  for (const levels of [10, 200]) {
    const before = heap();
    const state = new SymbolState({ exchange: EX, symbol: SYM, scales, windowMinutes: 5 });
    for (let m = 0; m < 1440; m++) feedMinute(state, DAY + m * 60_000, levels, levels, 1_000_000 + m);
    const sizes = state.sizes;
    const bytes = heap() - before - sizes.ids * out.bytesPerHeldTrade;
    day.push({ levels, dayMinutes: sizes.dayMinutes, bytes });
    if (state.sizes.dayMinutes !== 1440) throw new Error(`expected 1440 day minutes, got ${state.sizes.dayMinutes}`);
  }
  const [lo, hi] = day;
  out.bytesPerLevel = (hi.bytes - lo.bytes) / (1440 * (hi.levels - lo.levels));
  out.bytesPerMinuteCandle = lo.bytes / 1440 - lo.levels * out.bytesPerLevel;
  out.day = day;
  process.send(out, () => process.exit(0));
  await new Promise(() => undefined);
}

const { jetstreamManager } = await import('@nats-io/jetstream');
const { connect } = await import('@nats-io/transport-node');
const { perGroup, procSample, sampleAll } = await import('./lib/procstat.mjs');
const { clickHouseVersion, natsServerVersion } = await import('./lib/versions.mjs');
const { chQuery, freePorts, startClickHouse, startNatsInTempDir } = await import('./lib/servers.mjs');
const { ROOT, getJson, sleep, startAggregator, startCollector, startGateway, startSimulator, waitUrl } = await import(
  './lib/services.mjs'
);
const { forkClientWorkers, stopWorkers, workersReady } = await import('./lib/clients.mjs');

const DEFAULT_FLUSH_MS = 1000; // AGG_FLUSH_INTERVAL_MS, the aggregator's default
const RUNS = (process.env.SIZING_RUNS ?? '2x400:0,150,450,0;2x8000;8x400;8x1600;8x400@5000')
  .split(';')
  .map((r) => r.trim())
  .filter(Boolean)
  .map((r) => {
    const m = /^(\d+)x(\d+)(?:@(\d+))?(?::([\d,]+))?$/.exec(r);
    if (!m) throw new Error(`SIZING_RUNS: "${r}" is not SYMBOLSxRATE[@FLUSH_MS][:CLIENTS,...]`);
    if (Number(m[1]) < 2) throw new Error('SIZING_RUNS: at least 2 symbols (the clients watch the first two)');
    return {
      symbols: Number(m[1]),
      rate: Number(m[2]),
      flushMs: Number(m[3] ?? DEFAULT_FLUSH_MS),
      clients: (m[4] ?? '0').split(',').map(Number),
    };
  });
const SECONDS = Number(process.env.SIZING_SECONDS ?? 30);
const IDLE_SECONDS = Number(process.env.SIZING_IDLE_SECONDS ?? 20);
const WARMUP_S = Number(process.env.SIZING_WARMUP_SECONDS ?? 30);
const REPEAT = Number(process.env.SIZING_REPEAT ?? 2);
const EXCHANGE = 'sim-binance';
const WINDOW_MINUTES = 5; // AGG_WINDOW_MINUTES, the aggregator's default
const SERVICES = ['collector', 'aggregator', 'gateway', 'nats', 'clickhouse'];
const OTHERS = ['sim', 'clients'];
const symbolsOf = (n) => Array.from({ length: n }, (_, i) => `SZ${String(i).padStart(3, '0')}USDT`);
const viewsOf = (symbols) =>
  symbols.slice(0, 2).flatMap((symbol) => [
    { exchange: EXCHANGE, symbol, timeframe: '1m', ticks: 1, candles: 60 },
    { exchange: EXCHANGE, symbol, timeframe: '1m', ticks: 10, candles: 60 },
    { exchange: EXCHANGE, symbol, timeframe: '5m', ticks: 10, candles: 60 },
    { exchange: EXCHANGE, symbol, timeframe: '1h', ticks: 100, candles: 24 },
  ]);

const LOGS = { logs: Boolean(process.env.SIZING_LOGS) };
const READY = { timeoutMs: 120_000, intervalMs: 250 };
const CH_TIMEOUT_MS = 120_000;
const mean = (v) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0);

/** The inverse of a square matrix (Gauss-Jordan with partial pivoting). */
function invert(M) {
  const k = M.length;
  const A = M.map((row, i) => [...row, ...Array.from({ length: k }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(A[r][c]) > Math.abs(A[p][c])) p = r;
    [A[c], A[p]] = [A[p], A[c]];
    if (Math.abs(A[c][c]) < 1e-12)
      throw new Error('the runs do not separate the regressors (vary symbols, rate and clients)');
    const d = A[c][c];
    for (let j = 0; j < 2 * k; j++) A[c][j] /= d;
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = A[r][c];
      for (let j = 0; j < 2 * k; j++) A[r][j] -= f * A[c][j];
    }
  }
  return A.map((row) => row.slice(k));
}

/**
 * Least squares of y over the rows of X (the first column 1, the intercept): coefficients, their standard errors, the
 * residuals' RMS.
 */
function fit(X, y) {
  const k = X[0].length;
  const XtX = Array.from({ length: k }, (_, i) =>
    Array.from({ length: k }, (_, j) => X.reduce((s, row) => s + row[i] * row[j], 0)),
  );
  const Xty = Array.from({ length: k }, (_, i) => X.reduce((s, row, r) => s + row[i] * y[r], 0));
  const inv = invert(XtX);
  const b = inv.map((row) => row.reduce((s, x, j) => s + x * Xty[j], 0));
  const res = X.map((row, r) => y[r] - row.reduce((s, x, i) => s + x * b[i], 0));
  const sse = res.reduce((s, e) => s + e * e, 0);
  const dof = X.length - k;
  const se = inv.map((row, i) => (dof > 0 ? Math.sqrt((sse / dof) * row[i]) : NaN));
  return { b, se, rms: Math.sqrt(sse / X.length) };
}

const versions = { clickhouse: null, nats: null };
const loadBefore = os.loadavg();
const ch = await startClickHouse({ analyst: false });
versions.clickhouse = await clickHouseVersion(ch.url);
const phases = []; // { pass, symbols (configured), active (symbols trading), rate, clients, tradesPerS, cpu{}, rss{} }
const memSamples = []; // every 2 s of every flowing phase: { symbols, rate, clients, held, rss{} }
const storage = []; // per run: ClickHouse rows and bytes
let failure = null;
const t0 = Date.now();
const order = Array.from({ length: REPEAT }, (_, pass) =>
  (pass % 2 === 0 ? RUNS : [...RUNS].reverse()).map((run) => ({ run, pass })),
).flat();

try {
  for (const [runIndex, { run, pass }] of order.entries()) {
    const symbols = symbolsOf(run.symbols);
    const views = viewsOf(symbols);
    const db = `sizing_${runIndex}`;
    const nats = await startNatsInTempDir('orderflow-sizing-nats-');
    const nc = await connect({ servers: nats.url, name: 'sizing-bench' });
    versions.nats ??= natsServerVersion(nc);
    const jsm = await jetstreamManager(nc);
    const services = [];
    let workers = [];
    try {
      const [simPort, colPort, aggPort, gwPort] = await freePorts(4);
      const sim = startSimulator({ port: simPort, symbols, ratePerSymbol: run.rate / run.symbols }, LOGS);
      services.push(sim);
      await waitUrl(`http://127.0.0.1:${simPort}/health`, sim, READY);
      const agg = startAggregator(
        'aggregator',
        {
          natsUrl: nats.url,
          clickhouseUrl: ch.url,
          database: db,
          shards: 1,
          httpPort: aggPort,
          env: { AGG_FLUSH_INTERVAL_MS: String(run.flushMs) },
        },
        LOGS,
      );
      services.push(agg);
      await waitUrl(`http://127.0.0.1:${aggPort}/health/ready`, agg, READY);
      const col = startCollector({ natsUrl: nats.url, exchange: EXCHANGE, symbols, simPort, httpPort: colPort }, LOGS);
      services.push(col);
      await waitUrl(`http://127.0.0.1:${colPort}/health/ready`, col, READY);
      const gwUrl = `http://127.0.0.1:${gwPort}`;
      const gw = startGateway(
        {
          natsUrl: nats.url,
          clickhouseUrl: ch.url,
          database: db,
          shards: 1,
          port: gwPort,
          maxClients: Math.max(...run.clients) + 100,
        },
        LOGS,
      );
      services.push(gw);
      await waitUrl(`${gwUrl}/health/ready`, gw, READY);
      const pids = {
        sim: [sim.child.pid],
        collector: [col.child.pid],
        aggregator: [agg.child.pid],
        gateway: [gw.child.pid],
        nats: [nats.pid],
        clickhouse: [ch.pid],
        clients: [],
      };
      const acked = async () => {
        const p = (await getJson(`http://127.0.0.1:${colPort}/status`, 8000)).body?.publisher;
        return { trades: p?.tradesAcked ?? NaN, batches: p?.batchesAcked ?? NaN };
      };
      const pending = async () => {
        let n = 0;
        let consumers = 0;
        for await (const c of jsm.consumers.list('TRADES')) {
          if (!c.name.startsWith('agg_')) continue;
          consumers++;
          n += c.num_pending + c.num_ack_pending;
        }
        return { consumers, pending: n };
      };
      const count = () =>
        Promise.all(
          workers.map(
            (w) =>
              new Promise((resolve) => {
                w.once('message', (m) => resolve(m.updates));
                w.send('count');
              }),
          ),
        );

      /** One phase: CPU over it, RSS every 2 s (flowing phases feed the memory fit). */
      const measure = async (label, { active, rate, clients, seconds }) => {
        await count();
        const first = { t: Date.now(), acked: await acked(), proc: sampleAll(pids) };
        const rssSeries = [];
        const until = first.t + seconds * 1000;
        while (Date.now() < until) {
          await sleep(Math.min(2000, until - Date.now()));
          const a = await acked();
          const rss = perGroup(pids, (pid) => procSample(pid)?.rssMb ?? 0);
          rssSeries.push(rss);
          // trades the aggregator holds: the raw trades of the open minute and the window before it
          if (rate > 0)
            memSamples.push({
              symbols: run.symbols,
              flushMs: run.flushMs,
              rate,
              clients,
              held: Math.min(a.trades, rate * 60 * (WINDOW_MINUTES + 1)),
              rss,
            });
        }
        const last = { t: Date.now(), acked: await acked(), proc: sampleAll(pids) };
        const updates = (await count()).reduce((a, b) => a + b, 0);
        const dt = (last.t - first.t) / 1000;
        const cpu = perGroup(pids, (pid) => {
          const a = first.proc.get(pid);
          const b = last.proc.get(pid);
          return a && b ? (b.cpuS - a.cpuS) / dt : 0;
        });
        const rss = Object.fromEntries(Object.keys(pids).map((k) => [k, mean(rssSeries.map((r) => r[k]))]));
        const p = await pending();
        const phase = {
          pass,
          label,
          symbols: run.symbols,
          flushMs: run.flushMs,
          active,
          rate,
          clients,
          seconds: dt,
          tradesPerS: (last.acked.trades - first.acked.trades) / dt,
          batchesPerS: (last.acked.batches - first.acked.batches) / dt,
          pendingAtEnd: p.pending,
          updatesPerClientPerS: clients > 0 ? updates / clients / dt : 0,
          cpu,
          rss,
        };
        phases.push(phase);
        console.log(
          `pass ${pass + 1}, ${run.symbols} symbols x ${run.rate} trades/s${run.flushMs === DEFAULT_FLUSH_MS ? '' : `, flush every ${run.flushMs} ms`}, ${label}: ${Math.round(phase.tradesPerS)} trades/s in ${Math.round(phase.batchesPerS)} batches/s acked, JetStream pending ${p.pending}${clients ? `, ${phase.updatesPerClientPerS.toFixed(1)} updates/s per client` : ''}; CPU millicores ${[...SERVICES, ...OTHERS].map((k) => `${k} ${Math.round(cpu[k] * 1000)}`).join(', ')}; RSS MB ${[...SERVICES, ...OTHERS].map((k) => `${k} ${Math.round(rss[k])}`).join(', ')}`,
        );
      };

      await fetch(`http://127.0.0.1:${simPort}/__sim/resume`, { method: 'POST' });
      // every symbol has its consumer on the aggregator (it discovers them from the stream)
      for (let until = Date.now() + 180_000; ; ) {
        const p = await pending();
        if (p.consumers >= run.symbols) break;
        if (Date.now() > until)
          throw new Error(
            `${run.symbols}x${run.rate}: ${p.consumers} of ${run.symbols} aggregator consumers after 180 s`,
          );
        await sleep(500);
      }
      await sleep(WARMUP_S * 1000);
      let connected = 0;
      for (const target of run.clients) {
        if (target < connected) {
          // fewer clients: all leave, then `target` connect again
          await stopWorkers(workers);
          workers = [];
          pids.clients = [];
          connected = 0;
          await sleep(3000);
        }
        const add = target - connected;
        if (add > 0) {
          const batch = forkClientWorkers(fileURLToPath(import.meta.url), add, 4, (n, w) => ({
            SIZING_GW_URL: gwUrl,
            SIZING_VIEWS: JSON.stringify(views),
            SIZING_N: String(n),
            SIZING_OFFSET: String(connected + w),
          }));
          pids.clients.push(...batch.map((child) => child.pid));
          workers.push(...batch);
          const failed = await workersReady(batch, 180);
          if (failed) throw new Error(`${run.symbols}x${run.rate}: connecting ${target} clients failed: ${failed}`);
          connected = target;
          await sleep(3000); // the snapshots of the new subscriptions are sent
        }
        await measure(`${target} clients`, { active: run.symbols, rate: run.rate, clients: target, seconds: SECONDS });
      }

      // ---- idle: the simulator paused, the pipeline drained; the same processes, no trade
      await stopWorkers(workers);
      workers = [];
      pids.clients = [];
      await fetch(`http://127.0.0.1:${simPort}/__sim/pause`, { method: 'POST' }).catch(() => undefined);
      for (let until = Date.now() + 60_000; Date.now() < until; ) {
        if ((await pending()).pending === 0) break;
        await sleep(500);
      }
      await sleep(10_000); // the aggregator's last flush and ClickHouse's merges of it
      await measure('idle', { active: 0, rate: 0, clients: 0, seconds: IDLE_SECONDS });

      // ---- ClickHouse: the run's rows and bytes once merged
      const tables = (
        await chQuery(
          ch.url,
          `SELECT name FROM system.tables WHERE database = '${db}' AND engine LIKE '%MergeTree' FORMAT TSV`,
          CH_TIMEOUT_MS,
        )
      )
        .split('\n')
        .filter(Boolean);
      for (const t of tables) await chQuery(ch.url, `OPTIMIZE TABLE ${db}.${t} FINAL`, CH_TIMEOUT_MS);
      const parts = (
        await chQuery(
          ch.url,
          `SELECT table, sum(rows), sum(bytes_on_disk), sum(data_uncompressed_bytes) FROM system.parts WHERE database = '${db}' AND active GROUP BY table ORDER BY table FORMAT TSV`,
          CH_TIMEOUT_MS,
        )
      )
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [table, rows, bytes, raw] = l.split('\t');
          return { table, rows: Number(rows), bytes: Number(bytes), raw: Number(raw) };
        });
      const trades = parts.find((p) => p.table === 'trades')?.rows ?? 0;
      const symbolMinutes = parts.find((p) => p.table === 'candles_1m')?.rows ?? 0;
      storage.push({ pass, symbols: run.symbols, rate: run.rate, flushMs: run.flushMs, trades, symbolMinutes, parts });
    } finally {
      await stopWorkers(workers);
      await Promise.all(services.map((p) => p.kill()));
      await nc.close().catch(() => undefined);
      await nats.stop();
      // the next runs share this ClickHouse: none of this run's tables left to merge meanwhile
      await chQuery(ch.url, `DROP DATABASE IF EXISTS ${db}`, CH_TIMEOUT_MS).catch((e) =>
        console.log(`could not drop ${db}: ${e.message.split('\n')[0]}`),
      );
    }
  }
} catch (e) {
  failure = e;
  console.error(e);
} finally {
  await ch.stop();
}
if (phases.length === 0) process.exit(1);

// ---- the aggregator's state, in a process of its own
let state = null;
if (!process.env.SIZING_SKIP_STATE) {
  state = await new Promise((resolve) => {
    const child = fork(fileURLToPath(import.meta.url), ['--state-memory'], {
      execArgv: ['--expose-gc'],
      cwd: path.join(ROOT, 'tests'),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', resolve);
    child.once('exit', (code) => code !== 0 && resolve(null));
  });
}

// ---- real-market inputs from the recordings (when present)
const recordings = [];
const DATA = path.resolve(ROOT, '../shared/data');
for (const f of fs.existsSync(DATA) ? fs.readdirSync(DATA).filter((f) => /_trade-ws_.*\.jsonl$/.test(f)) : []) {
  const perSecond = new Map();
  const levels = new Map();
  for (const line of fs.readFileSync(path.join(DATA, f), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const o = JSON.parse(line);
    const m = o.data ?? o;
    if (m.T === undefined || m.p === undefined) continue;
    const s = Math.floor(m.T / 1000);
    perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    const minute = Math.floor(m.T / 60_000);
    if (!levels.has(minute)) levels.set(minute, new Set());
    levels.get(minute).add(m.p);
  }
  if (perSecond.size === 0) continue;
  const secs = [...perSecond.keys()];
  const span = Math.max(...secs) - Math.min(...secs) + 1;
  const total = [...perSecond.values()].reduce((a, b) => a + b, 0);
  // whole minutes only (the first and last are partial)
  const mins = [...levels.keys()].sort((a, b) => a - b).slice(1, -1);
  recordings.push({
    file: f,
    trades: total,
    meanPerS: total / span,
    maxPerS: Math.max(...perSecond.values()),
    levelsPerMinute: mean(mins.map((m) => levels.get(m).size)),
    maxLevelsPerMinute: Math.max(0, ...mins.map((m) => levels.get(m).size)),
  });
}

// ---- the fits
const f1 = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const pm = (b, se, scale, d = 1) => `${f1(b * scale, d)} ± ${f1(se * scale, d)}`;
// the fit: runs at the aggregator's default flush interval (the others are compared with it below)
const fitted = phases.filter((p) => p.flushMs === DEFAULT_FLUSH_MS);
const X = fitted.map((p) => [1, p.tradesPerS, p.batchesPerS, p.active, p.clients]);
const tryFit = (X, y) => {
  try {
    return fit(X, y);
  } catch (e) {
    console.log(`no fit: ${e.message}`);
    return { b: X[0].map(() => NaN), se: X[0].map(() => NaN), rms: NaN };
  }
};
const cpuFits = Object.fromEntries(
  [...SERVICES, 'sim'].map((k) => [
    k,
    tryFit(
      X,
      fitted.map((p) => p.cpu[k]),
    ),
  ]),
);
const predict = (k, p) =>
  [1, p.tradesPerS, p.batchesPerS, p.active, p.clients].reduce((s, x, i) => s + x * cpuFits[k].b[i], 0);
const mem = memSamples.filter((s) => s.flushMs === DEFAULT_FLUSH_MS);
const memX = mem.map((s) => [1, s.rate, s.symbols, s.clients]);
const memFits = Object.fromEntries(
  SERVICES.map((k) => [
    k,
    tryFit(
      memX,
      mem.map((s) => s.rss[k]),
    ),
  ]),
);
const aggHeld = tryFit(
  mem.map((s) => [1, s.held, s.symbols, s.clients]),
  mem.map((s) => s.rss.aggregator),
);

const say = (s = '') => console.log(s);
say();
say(`## Sizing bench, ${new Date().toISOString()}`);
say();
say(
  `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? ''}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}, Node ${process.version}, nats-server ${versions.nats ?? 'unknown'}, ClickHouse ${versions.clickhouse ?? 'unknown'}; load average before ${loadBefore.map((x) => x.toFixed(1)).join(' / ')}, after ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ')}; ${Math.round((Date.now() - t0) / 1000)} s.`,
);
say(
  `Runs: ${RUNS.map((r) => `${r.symbols}x${r.rate}${r.flushMs === DEFAULT_FLUSH_MS ? '' : `@${r.flushMs}`}:${r.clients.join(',')}`).join('; ')} (symbols x trades/s [@ flush ms] : clients), ${REPEAT} pass(es) (every second pass in reverse order), ${SECONDS} s per phase after ${WARMUP_S} s warm-up, then ${IDLE_SECONDS} s idle (simulator paused).`,
);
say();
say('### Phases (CPU in millicores = 1/1000 of a core, averaged over the phase; RSS in MB, mean of the 2 s samples)');
say();
say(
  `| pass | symbols | flush ms | phase | trades/s (acked) | batches/s | updates/s per client | pending at end | ${[...SERVICES, ...OTHERS].map((k) => `${k} CPU`).join(' | ')} | ${SERVICES.map((k) => `${k} RSS`).join(' | ')} |`,
);
say(
  `| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ${[...SERVICES, ...OTHERS].map(() => '---:').join(' | ')} | ${SERVICES.map(() => '---:').join(' | ')} |`,
);
for (const p of phases)
  say(
    `| ${p.pass + 1} | ${p.symbols} | ${p.flushMs} | ${p.label} | ${Math.round(p.tradesPerS)} | ${Math.round(p.batchesPerS)} | ${p.clients ? f1(p.updatesPerClientPerS) : '–'} | ${p.pendingAtEnd} | ${[...SERVICES, ...OTHERS].map((k) => Math.round(p.cpu[k] * 1000)).join(' | ')} | ${SERVICES.map((k) => Math.round(p.rss[k])).join(' | ')} |`,
  );
say();
say(
  '### CPU = base + per trade × trades/s + per batch × batches/s + per symbol × active symbols + per client × clients (least squares over the phases, ± one standard error)',
);
say();
say(
  '| service | base (millicores) | per trade (µs CPU) | per batch (µs CPU) | per active symbol (µs CPU per s = 1/1000 millicore) | per client (µs CPU per s) | residual RMS (millicores) |',
);
say('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [k, r] of Object.entries(cpuFits))
  say(
    `| ${k} | ${pm(r.b[0], r.se[0], 1000)} | ${pm(r.b[1], r.se[1], 1e6, 2)} | ${pm(r.b[2], r.se[2], 1e6, 1)} | ${pm(r.b[3], r.se[3], 1e6, 0)} | ${pm(r.b[4], r.se[4], 1e6, 0)} | ${f1(r.rms * 1000)} |`,
  );
const others = phases.filter((p) => p.flushMs !== DEFAULT_FLUSH_MS && p.rate > 0);
if (others.length) {
  say();
  say(
    `Other flush intervals (AGG_FLUSH_INTERVAL_MS; not in the fit): measured vs the fit's prediction at ${DEFAULT_FLUSH_MS} ms, millicores.`,
  );
  say();
  say(`| pass | symbols | trades/s | flush ms | ${SERVICES.map((k) => `${k} measured / predicted`).join(' | ')} |`);
  say(`| ---: | ---: | ---: | ---: | ${SERVICES.map(() => '---:').join(' | ')} |`);
  for (const p of others)
    say(
      `| ${p.pass + 1} | ${p.symbols} | ${Math.round(p.tradesPerS)} | ${p.flushMs} | ${SERVICES.map((k) => `${Math.round(p.cpu[k] * 1000)} / ${Math.round(predict(k, p) * 1000)}`).join(' | ')} |`,
    );
}
say();
say(
  '### RSS = base + per 1,000 trades/s + per symbol + per client (least squares over the 2 s samples of the flowing phases)',
);
say();
say('| service | base (MB) | per 1,000 trades/s (MB) | per symbol (MB) | per client (MB) | residual RMS (MB) |');
say('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const [k, r] of Object.entries(memFits))
  say(`| ${k} | ${f1(r.b[0])} | ${f1(r.b[1] * 1000, 2)} | ${f1(r.b[2], 3)} | ${f1(r.b[3], 3)} | ${f1(r.rms)} |`);
say();
say(
  `Aggregator RSS against the trades it holds (raw trades since the flow started, at most rate × ${(WINDOW_MINUTES + 1) * 60} s): base ${f1(aggHeld.b[0])} MB + ${f1(aggHeld.b[1] * 2 ** 20, 0)} bytes per held trade + ${f1(aggHeld.b[2], 3)} MB per symbol + ${f1(aggHeld.b[3], 3)} MB per client (residual RMS ${f1(aggHeld.rms)} MB).`,
);
if (state) {
  say();
  say(
    `Aggregator state in-process (SymbolState, V8 heap after GC): ${f1(state.bytesPerHeldTrade, 0)} bytes per held trade (${state.heldTrades.toLocaleString('en')} held); a UTC day of 1,440 minute candles: ${f1(state.bytesPerMinuteCandle, 0)} bytes per minute candle + ${f1(state.bytesPerLevel, 0)} bytes per price level (${state.day.map((d) => `${d.levels} levels/min: ${f1(d.bytes / 2 ** 20)} MB`).join(', ')}).`,
  );
}
say();
say('### ClickHouse (after OPTIMIZE FINAL; bytes on disk, compressed)');
say();
say(
  '| pass | run | flush ms | trades | symbol-minutes | table | rows | rows per trade | rows per symbol-minute | bytes on disk | bytes per trade | bytes per symbol-minute |',
);
say('| ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const s of storage) {
  for (const p of s.parts)
    say(
      `| ${s.pass + 1} | ${s.symbols}x${s.rate} | ${s.flushMs} | ${s.trades} | ${s.symbolMinutes} | ${p.table} | ${p.rows} | ${f1(p.rows / s.trades, 4)} | ${f1(p.rows / s.symbolMinutes, 2)} | ${p.bytes} | ${f1(p.bytes / s.trades, 2)} | ${f1(p.bytes / s.symbolMinutes, 0)} |`,
    );
}
if (recordings.length) {
  say();
  say('### Real-market inputs (recordings in ../shared/data)');
  say();
  say('| recording | trades | mean trades/s | max trades in a second | price levels per minute (mean / max) |');
  say('| --- | ---: | ---: | ---: | ---: |');
  for (const r of recordings)
    say(
      `| ${r.file} | ${r.trades} | ${f1(r.meanPerS)} | ${r.maxPerS} | ${f1(r.levelsPerMinute, 0)} / ${r.maxLevelsPerMinute} |`,
    );
}
// the aggregator acknowledges once a flush has written the trades: up to a flush interval and a
// write of trades stay pending in a pipeline that keeps up
const notHeld = phases.filter(
  (p) => p.rate > 0 && (p.tradesPerS < p.rate * 0.95 || p.pendingAtEnd > p.rate * (p.flushMs / 1000 + 2)),
);
if (notHeld.length)
  say(
    `\nWARNING: ${notHeld.length} phase(s) did not keep up with the rate (acked < 95 % or JetStream pending > a flush interval + 2 s of trades): ${notHeld.map((p) => `pass ${p.pass + 1} ${p.symbols}x${p.rate} ${p.label}`).join(', ')}; their figures include catching up.`,
  );
process.exit(failure ? 1 : 0);
