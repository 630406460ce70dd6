/**
 * Gateway benchmark, on the built packages (run `npx nx run-many -t build` first):
 *
 *   node tests/bench/gateway.bench.mjs
 *
 * Starts nats-server (JetStream) and ClickHouse of its own, the aggregator and the gateway as their
 * own processes (apps/*\/dist/main.js, as in production), and drives them from this process:
 *
 * 1. latency: trades published to JetStream (TradePublisher, as the collector does) at
 *    BENCH_RATE trades/s (default 10,000), each stamped with its publish time as exchange time;
 *    Socket.IO clients measure `receive time - update.lastTradeUs` (the newest trade behind the
 *    update): trade published -> update received, p50/p99;
 * 2. fan-out: BENCH_CLIENTS (default 1,000) concurrent clients subscribed to a mix of views on one
 *    gateway process, the same trade rate, latency over every update of every client, and the
 *    gateway's memory before and after they connected;
 * 3. history: a synthetic day of 1m footprints (BENCH_LEVELS traded levels a minute, default 300)
 *    written with FootprintStore, then GET /api/footprint for the 24 h (native and grouped, JSON and
 *    CSV, read with node:http) and a 1,440-candle Socket.IO snapshot, timed to the last byte received (not decoded);
 * the first read comes right
 *    after the write (many unmerged parts), and the same day of a second symbol is read for the
 *    first time once ClickHouse has merged the parts (what a chart usually meets), then the day copied
 *    (in ClickHouse) under 2 x BENCH_COLD_SYMBOLS (default 10) more symbols, each read once, a second
 *    apart: the spread of a cold read, with nothing else running, then while BENCH_HISTORY_FLOW
 *    (default 1,000) trades/s flow to 10 live clients.
 *
 * BENCH_PHASES (default latency,fanout,history) picks the phases; BENCH_GATEWAY_NODE_ARGS are given to
 * the gateway's node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`); BENCH_KEEP=1 keeps the servers up at the
 * end (their URLs are printed) until Ctrl-C. BENCH_SECONDS (default 15) is the measurement time of phases 1 and 2
 * (after a 3 s warm-up).
 */
import { fork, spawn } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { FootprintStore, connectClickHouse } from '@orderflow/clickhouse';
import { FootprintCandle, instrumentFromSteps } from '@orderflow/footprint';
import { TradePublisher, ensureStreams, silentLogger } from '@orderflow/nats';
import { io } from 'socket.io-client';

/**
 * GET `u` to the last byte received, with node:http: the body's bytes counted as they arrive
 * (decoding them is the client's work, not the query's; fetch's web streams add 50-100 ms to 9.5 MB
 * here, curl does not).
 */
function timedGet(u) {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    httpGet(u, (res) => {
      let bytes = 0;
      const head = [];
      res.on('data', (chunk) => {
        bytes += chunk.length;
        if (res.statusCode !== 200 && head.length < 4) head.push(chunk);
      });
      res.on('end', () =>
        res.statusCode === 200
          ? resolve({ ms: performance.now() - t, bytes })
          : reject(new Error(`${u}: ${res.statusCode} ${Buffer.concat(head).toString().slice(0, 300)}`)),
      );
      res.on('error', reject);
    }).on('error', reject);
  });
}

// ---- reader: the history reads come from a process of its own, as a browser's would: this
// process holds the generated day (~10^6 objects), which made the reader's own garbage collections
// slow and counted them in the figures
if (process.argv[2] === '--reader') {
  process.on('message', (u) =>
    timedGet(u).then(
      (r) => process.send({ ok: r }),
      (e) => process.send({ error: String(e?.message ?? e) }),
    ),
  );
  process.on('disconnect', () => process.exit(0));
  await new Promise(() => undefined);
}

// ---- client worker: BENCH_CLIENTS are spread over a few processes, so that decoding their
// messages is not serialised on one event loop (which would add its own delay to the figures)
if (process.argv[2] === '--clients-worker') {
  const views = JSON.parse(process.env.BENCH_VIEWS);
  const n = Number(process.env.BENCH_N);
  const offset = Number(process.env.BENCH_OFFSET);
  const delays = [];
  let record = false;
  let updates = 0;
  const sockets = [];
  for (let i = 0; i < n; i += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, n - i) }, (_, k) => {
        const s = io(process.env.BENCH_GW_URL, {
          path: '/socket.io',
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
        });
        sockets.push(s);
        s.on('update', (u) => {
          if (!record) return;
          updates++;
          if (u.lastTradeUs !== null) delays.push(Date.now() - u.lastTradeUs / 1000);
        });
        return new Promise((resolve, reject) => {
          s.once('connect_error', reject);
          s.once('connect', () =>
            s
              .timeout(60_000)
              .emitWithAck('subscribe', views[(offset + i + k) % views.length])
              .then((a) => (a.ok ? resolve() : reject(new Error(JSON.stringify(a.error)))), reject),
          );
        });
      }),
    );
  }
  const lag = monitorEventLoopDelay({ resolution: 10 });
  let cpuAt = process.cpuUsage();
  process.on('message', (m) => {
    if (m === 'record') {
      record = true;
      cpuAt = process.cpuUsage();
      lag.enable();
    } else if (m === 'stop') {
      record = false;
      lag.disable();
      const cpu = process.cpuUsage(cpuAt);
      process.send(
        { delays, updates, lagP99: lag.percentile(99) / 1e6, cpuSeconds: (cpu.user + cpu.system) / 1e6 },
        () => {
          for (const s of sockets) s.close();
          process.exit(0);
        },
      );
    }
  });
  process.send('ready');
  await new Promise(() => undefined);
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const { getFreePort, startClickHouse, startNatsInTempDir } = await import('./lib/servers.mjs');
const RATE = Number(process.env.BENCH_RATE ?? 10_000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const LEVELS = (process.env.BENCH_LEVELS ?? '100,300').split(',').map(Number);
const FANOUT_RATES = (process.env.BENCH_FANOUT_RATES ?? '2000,10000').split(',').map(Number);
const DB = 'gwbench';
/** Which phases run (BENCH_PHASES=latency,fanout,history; default all). */
const PHASES = new Set((process.env.BENCH_PHASES ?? 'latency,fanout,history').split(','));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (v, p) => {
  if (v.length === 0) return NaN;
  const s = Float64Array.from(v).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const max = (v) => v.reduce((a, b) => (b > a ? b : a), -Infinity);
/** History phase: how many more symbols get a copy of the day for cold reads (BENCH_COLD_SYMBOLS). */
const COLD_SYMBOLS = Number(process.env.BENCH_COLD_SYMBOLS ?? 10);
/** History phase: trades/s flowing during the second series of cold reads (BENCH_HISTORY_FLOW). */
const HISTORY_FLOW = Number(process.env.BENCH_HISTORY_FLOW ?? 1000);
const ms = (x) => `${Number.isFinite(x) ? x.toFixed(1) : '-'} ms`;
const cleanup = [];

async function waitHttp(url, what, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > until) throw new Error(`${what} did not become ready (${url})`);
    await sleep(200);
  }
}

function service(name, main, env, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, join(root, main)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = [];
  const keep = (d) => {
    out.push(d.toString());
    if (out.length > 200) out.shift();
    if (process.env.BENCH_LOGS) process.stdout.write(`[${name}] ${d}`);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited (${code ?? signal}):\n${out.join('').slice(-3000)}`);
  });
  cleanup.push(
    () => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM')))),
  );
  children.push(child);
  return child;
}

/** Live updates received from the aggregator so far and re-snapshots, summed over the gateway's streams (/status). */
async function streamTotals(url) {
  const { streams } = await (await fetch(`${url}/status`)).json();
  return {
    updates: streams.reduce((n, s) => n + s.updates, 0),
    resyncs: streams.reduce((n, s) => n + s.resyncs, 0),
    streams: streams.length,
  };
}

async function metrics(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const get = (name) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    rss: get('process_resident_memory_bytes'),
    heap: get('nodejs_heap_size_used_bytes'),
    cpu: get('process_cpu_seconds_total'),
    conflated: get('gateway_updates_conflated_total'),
    clients: get('gateway_connected_clients'),
  };
}

let stopping = false;
const children = [];
// the services this bench started never outlive it, even when it fails
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});
async function shutdown(code) {
  stopping = true;
  for (const c of cleanup.reverse()) await Promise.resolve(c()).catch(() => undefined);
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(130));
// a killed bench removes its servers' data too (a day copied 2 x 10 times is ~1 GB of ClickHouse parts)
process.on('SIGTERM', () => void shutdown(143));
process.on('uncaughtException', (e) => {
  console.error(e);
  void shutdown(1);
});
process.on('unhandledRejection', (e) => {
  console.error(e);
  void shutdown(1);
});
const nats = await startNatsInTempDir('orderflow-bench-gw-nats-');
cleanup.push(() => nats.stop());
const ch = await startClickHouse();
cleanup.push(() => ch.stop());
const nc = await connect({ servers: nats.url, name: 'gateway-bench' });
cleanup.push(() => nc.close());
await ensureStreams(nc, { maxAgeMs: 86_400_000, maxBytes: -1, duplicateWindowMs: 120_000 });

const aggPort = await getFreePort();
service('aggregator', 'apps/aggregator/dist/main.js', {
  NATS_URL: nats.url,
  CLICKHOUSE_URL: ch.url,
  CLICKHOUSE_DATABASE: DB,
  AGG_HTTP_PORT: String(aggPort),
  AGG_DISCOVER_INTERVAL_MS: '200',
});
await waitHttp(`http://127.0.0.1:${aggPort}/health/ready`, 'aggregator');
const gwPort = await getFreePort();
const gwUrl = `http://127.0.0.1:${gwPort}`;
const gwMetricsPort = await getFreePort();
/** /metrics and /status: the gateway's metrics port. */
const gwOpsUrl = `http://127.0.0.1:${gwMetricsPort}`;
service(
  'gateway',
  'apps/gateway/dist/main.js',
  {
    NATS_URL: nats.url,
    CLICKHOUSE_URL: ch.url,
    CLICKHOUSE_DATABASE: DB,
    GATEWAY_PORT: String(gwPort),
    GATEWAY_METRICS_PORT: String(gwMetricsPort),
    // the history phase reads the API as fast as it can from one process
    GATEWAY_HTTP_RATE_PER_MINUTE: '1000000',
    GATEWAY_HTTP_BURST: '1000000',
    GATEWAY_HTTP_MAX_CONCURRENT_PER_CLIENT: '1000',
    GATEWAY_HTTP_MAX_CONCURRENT: '10000',
    GATEWAY_MAX_CLIENTS: String(CLIENTS + 100),
    GATEWAY_MAX_MESSAGES_PER_SECOND: '1000',
  },
  (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean),
);
await waitHttp(`${gwUrl}/health/ready`, 'gateway');

const instrument = instrumentFromSteps('binance', 'BTCUSDT', '0.01', '0.00001');
const publisher = new TradePublisher(jetstream(nc), { maxBatchTrades: 500, maxBatchDelayMs: 5, logger: silentLogger });
let nextId = 1;
let price = 6_000_000;
let usLast = 0;
/** Publishes at RATE trades/s, each stamped with the current time (µs, strictly increasing), until stopped. */
function startPublishing(rate = RATE) {
  let running = true;
  let sent = 0;
  const started = performance.now();
  const loop = (async () => {
    while (running) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate) - sent;
      for (let i = 0; i < due; i++) {
        price += Math.floor(Math.random() * 21) - 10;
        let us = Date.now() * 1000;
        if (us <= usLast) us = usLast + 1;
        usLast = us;
        publisher.add(instrument, {
          exchange: 'binance',
          symbol: 'BTCUSDT',
          id: String(nextId++),
          price,
          quantity: 1 + Math.floor(Math.random() * 100_000),
          side: Math.random() < 0.5 ? 'buy' : 'sell',
          exchangeTimeUs: us,
          receiveTimeMs: Math.floor(us / 1000),
        });
      }
      sent += Math.max(0, due);
      await sleep(2);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { sent, seconds: (performance.now() - started) / 1000 };
    },
  };
}

function client(subscription, onDelay) {
  const s = io(gwUrl, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true });
  let updates = 0;
  s.on('update', (u) => {
    updates++;
    if (u.lastTradeUs !== null) onDelay(Date.now() - u.lastTradeUs / 1000);
  });
  const ready = new Promise((resolve, reject) => {
    s.once('connect_error', reject);
    s.once('connect', () =>
      s
        .timeout(60_000)
        .emitWithAck('subscribe', subscription)
        .then((ack) => (ack.ok ? resolve() : reject(new Error(JSON.stringify(ack.error)))), reject),
    );
  });
  return { s, ready, updates: () => updates };
}

// a first trade makes the aggregator own the symbol (and write its instrument row)
let p = startPublishing();
await sleep(1500);
await p.stop();
await sleep(500);
console.log(
  `gateway benchmark, node ${process.version}, ${(await import('node:os')).cpus().length} cores; nats-server, ClickHouse, aggregator and gateway each in their own process`,
);

// ---- 1. latency at RATE trades/s ------------------------------------------------------------
if (PHASES.has('latency')) {
  const delays = [];
  let record = false;
  const clients = Array.from({ length: 10 }, () =>
    client(
      { exchange: 'binance', symbol: 'BTCUSDT', timeframe: '1m', ticks: 1, candles: 10 },
      (d) => record && delays.push(d),
    ),
  );
  await Promise.all(clients.map((c) => c.ready));
  p = startPublishing();
  await sleep(3000);
  const before = await metrics(gwOpsUrl);
  record = true;
  await sleep(SECONDS * 1000);
  record = false;
  const after = await metrics(gwOpsUrl);
  const { sent, seconds } = await p.stop();
  console.log(
    `1. trade published to JetStream -> update received by a Socket.IO client (10 clients, 1m at native ticks)`,
  );
  console.log(
    `   ${Math.round(sent / seconds).toLocaleString('en')} trades/s published; ${delays.length} updates: p50 ${ms(pct(delays, 50))}, p99 ${ms(pct(delays, 99))}, max ${ms(max(delays))} (target p99 <= 100 ms); gateway CPU ${(((after.cpu - before.cpu) / SECONDS) * 100).toFixed(0)}% of a core`,
  );
  for (const c of clients) c.s.close();
  await sleep(500);
}

// ---- 2. fan-out to CLIENTS clients -----------------------------------------------------------
for (const rate of PHASES.has('fanout') ? FANOUT_RATES : []) {
  const views = [
    { exchange: 'binance', symbol: 'BTCUSDT', timeframe: '1m', ticks: 1, candles: 60 },
    { exchange: 'binance', symbol: 'BTCUSDT', timeframe: '1m', ticks: 10, candles: 60 },
    { exchange: 'binance', symbol: 'BTCUSDT', timeframe: '5m', ticks: 10, candles: 60 },
    { exchange: 'binance', symbol: 'BTCUSDT', timeframe: '1h', ticks: 100, candles: 24 },
  ];
  const idle = await metrics(gwOpsUrl);
  const PROCESSES = Number(process.env.BENCH_CLIENT_PROCESSES ?? 4);
  const t0 = performance.now();
  const workers = Array.from({ length: PROCESSES }, (_, w) => {
    const n = Math.floor(CLIENTS / PROCESSES) + (w < CLIENTS % PROCESSES ? 1 : 0);
    const child = fork(fileURLToPath(import.meta.url), ['--clients-worker'], {
      env: {
        ...process.env,
        BENCH_GW_URL: gwUrl,
        BENCH_VIEWS: JSON.stringify(views),
        BENCH_N: String(n),
        BENCH_OFFSET: String(w),
      },
    });
    children.push(child);
    return child;
  });
  await Promise.all(
    workers.map(
      (w) =>
        new Promise(
          (resolve, reject) => (
            w.once('message', resolve),
            w.once('exit', (code) => reject(new Error(`client worker exited ${code}`)))
          ),
        ),
    ),
  );
  const connectSeconds = (performance.now() - t0) / 1000;
  await sleep(1000);
  const connected = await metrics(gwOpsUrl);
  p = startPublishing(rate);
  await sleep(3000);
  const before = await metrics(gwOpsUrl);
  const streamsBefore = await streamTotals(gwOpsUrl);
  for (const w of workers) w.send('record');
  await sleep(SECONDS * 1000);
  const streamsAfter = await streamTotals(gwOpsUrl);
  const reports = await Promise.all(
    workers.map((w) => new Promise((resolve) => (w.once('message', resolve), w.send('stop')))),
  );
  const after = await metrics(gwOpsUrl);
  const delays = reports.flatMap((r) => r.delays);
  const updates = reports.reduce((n, r) => n + r.updates, 0);
  const lagP99 = max(reports.map((r) => r.lagP99));
  const clientCpu = reports.reduce((n, r) => n + r.cpuSeconds, 0);
  const { sent, seconds } = await p.stop();
  const mb = (b) => `${(b / 1048576).toFixed(0)} MB`;
  if (rate === FANOUT_RATES[0])
    console.log(
      `2. ${CLIENTS} concurrent clients on one gateway (in ${PROCESSES} client processes), 4 views (1m x1, 1m x10, 5m x10, 1h x100), trade published -> update received by every client`,
    );
  console.log(`   at ${Math.round(sent / seconds).toLocaleString('en')} trades/s:`);
  console.log(
    `   connected and subscribed in ${connectSeconds.toFixed(1)} s; ${updates.toLocaleString('en')} updates received in ${SECONDS} s (${Math.round(updates / SECONDS).toLocaleString('en')}/s); p50 ${ms(pct(delays, 50))}, p99 ${ms(pct(delays, 99))}, max ${ms(max(delays))} (target p99 <= 200 ms)`,
  );
  console.log(
    `   gateway memory: RSS ${mb(idle.rss)} idle -> ${mb(connected.rss)} with the clients (${((connected.rss - idle.rss) / 1024 / CLIENTS).toFixed(0)} KiB a client) -> ${mb(after.rss)} under load; heap ${mb(idle.heap)} -> ${mb(after.heap)}; gateway CPU ${(((after.cpu - before.cpu) / SECONDS) * 100).toFixed(0)}% of a core; updates conflated ${after.conflated - before.conflated}`,
  );
  console.log(
    `   the gateway took ${Math.round((streamsAfter.updates - streamsBefore.updates) / SECONDS)} live updates/s from the aggregator over ${streamsAfter.streams} streams (${streamsAfter.resyncs - streamsBefore.resyncs} re-snapshots)`,
  );
  console.log(
    `   load average ${(await import('node:os')).loadavg()[0].toFixed(1)} on this machine; client processes' event-loop delay p99 ${lagP99.toFixed(0)} ms, their CPU ${((clientCpu / SECONDS) * 100).toFixed(0)}% of a core in all`,
  );
  await sleep(1000);
}

// ---- 3. history: 24 h of 1m footprints -------------------------------------------------------
/** The reader process (--reader): one GET at a time. */
function startReader() {
  const child = fork(fileURLToPath(import.meta.url), ['--reader']);
  children.push(child);
  let queue = Promise.resolve();
  const get = (u) => {
    const p = queue.then(
      () =>
        new Promise(
          (resolve, reject) => (
            child.once('message', (m) => (m.ok ? resolve(m.ok) : reject(new Error(m.error)))),
            child.send(u)
          ),
        ),
    );
    queue = p.catch(() => undefined);
    return p;
  };
  return { get };
}
const reader = PHASES.has('history') ? startReader() : null;
for (const LEVEL of PHASES.has('history') ? LEVELS : []) {
  const SYMBOL = `DAY${LEVEL}USDT`;
  const chc = connectClickHouse({ url: ch.url });
  const store = new FootprintStore(chc, DB);
  await store.upsertInstruments([{ exchange: 'binance', symbol: SYMBOL, priceScale: 2, quantityScale: 5, tick: 1 }]);
  const day = Date.UTC(2026, 0, 1);
  let px = 6_000_000;
  const minutes = [];
  let cells = 0;
  for (let m = 0; m < 1440; m++) {
    const open = day + m * 60_000;
    const c = new FootprintCandle('1m', open);
    px += Math.floor(Math.random() * 201) - 100;
    const low = px - Math.floor(LEVEL / 2);
    for (let k = 0; k < LEVEL * 3; k++)
      c.add(
        low + (k % LEVEL),
        1 + Math.floor(Math.random() * 50_000),
        k % 3 === 0 ? 'sell' : 'buy',
        open * 1000 + k * 10,
      );
    cells += c.levels.size;
    minutes.push(c.toData());
  }
  for (let i = 0; i < minutes.length; i += 120) await store.insertMinutes('binance', SYMBOL, minutes.slice(i, i + 120));
  // the same day under a second symbol, read only once ClickHouse has merged the parts the writes
  // made (as it does in the background while a day is written live): the cold read a chart usually meets
  const MERGED = `${SYMBOL}M`;
  await store.upsertInstruments([{ exchange: 'binance', symbol: MERGED, priceScale: 2, quantityScale: 5, tick: 1 }]);
  for (let i = 0; i < minutes.length; i += 120) await store.insertMinutes('binance', MERGED, minutes.slice(i, i + 120));
  const parts = async () =>
    Number(
      (
        await (
          await chc.query({
            query: `SELECT count() FROM system.parts WHERE database = '${DB}' AND table = 'footprint_1m' AND active AND partition = '202601'`,
            format: 'TabSeparated',
          })
        ).text()
      ).trim(),
    );
  const url = (ticks, format = 'json') =>
    `${gwUrl}/api/footprint?exchange=binance&symbol=${SYMBOL}&timeframe=1m&from=${day}&to=${day + 86_400_000}&ticks=${ticks}&format=${format}`;
  // to the last byte received, by the reader process (timedGet)
  const time = (u) => reader.get(u);
  // the first read of a range is cold (every candle from ClickHouse); the next ones find the
  // unchanged candles in the gateway's history cache and read only the summaries
  const url2 = (symbol, ticks) => url(ticks).replace(`symbol=${SYMBOL}&`, `symbol=${symbol}&`);
  const partsNow = await parts();
  const runs = async (u) => {
    const cold = await time(u);
    const out = [];
    for (let i = 0; i < 5; i++) out.push(await time(u));
    return {
      cold: cold.ms,
      median: pct(
        out.map((x) => x.ms),
        50,
      ),
      max: max(out.map((x) => x.ms)),
      bytes: out[0].bytes,
    };
  };
  if (LEVEL === LEVELS[0])
    console.log(
      `3. history: 24 h of 1m footprints of one symbol, GET /api/footprint to the last byte: the first (cold) read, then the median of 5 (max) repeated reads; target <= 200 ms`,
    );
  console.log(`   ${LEVEL} levels a minute (1,440 candles, ${cells.toLocaleString('en')} cells):`);
  for (const [ticks, format] of [
    [1, 'json'],
    [10, 'json'],
    [1, 'csv'],
  ]) {
    const r = await runs(url(ticks, format));
    console.log(
      `     ticks=${ticks} ${format}: cold ${ms(r.cold)}${ticks === 1 && format === 'json' ? ` (right after the write: ${partsNow} parts)` : ''}; repeated ${ms(r.median)} (${ms(r.max)}); ${(r.bytes / 1048576).toFixed(1)} MB`,
    );
  }
  const until = Date.now() + 60_000;
  while ((await parts()) > 2 && Date.now() < until) await sleep(1000);
  // and no merge running on the same 2 cores (a merge of the day's parts takes a core for a while)
  const merging = async () =>
    Number(
      (await (await chc.query({ query: 'SELECT count() FROM system.merges', format: 'TabSeparated' })).text()).trim(),
    );
  const quiet = Date.now() + 30_000;
  while ((await merging()) > 0 && Date.now() < quiet) await sleep(500);
  const mergesAtStart = await merging();
  const merged = await time(url2(MERGED, 1));
  console.log(
    `     ticks=1 json, the same day of another symbol once ClickHouse merged the parts (${await parts()} parts; ${mergesAtStart} merges running as it started): cold ${ms(merged.ms)}`,
  );
  // the spread of a cold read: the same day under 2 x COLD_SYMBOLS more symbols, copied inside
  // ClickHouse (the rows FootprintStore wrote, every table a native read touches), each read once,
  // a second apart, once the copies' merges are done: COLD_SYMBOLS reads with nothing else running,
  // then COLD_SYMBOLS while trades flow (BENCH_HISTORY_FLOW trades/s to BTCUSDT, 10 live clients),
  // as on a desk's platform. On this VM a machine left idle even a second answers slower
  // (ClickHouse alone: a 6 h wire slice in 8-13 ms back to back, 30-48 ms a second apart)
  if (COLD_SYMBOLS > 0) {
    const text = async (query) => (await (await chc.query({ query, format: 'TabSeparated' })).text()).trim();
    const copies = Array.from({ length: 2 * COLD_SYMBOLS }, (_, i) => `${SYMBOL}C${i}`);
    for (const table of ['instruments', 'footprint_1m', 'footprint_1m_wire', 'candles_1m']) {
      const cols = (
        await text(`SELECT name FROM system.columns WHERE database = '${DB}' AND table = '${table}'`)
      ).split('\n');
      for (const c of copies)
        await chc.command({
          query: `INSERT INTO ${DB}.${table} (${cols.join(', ')}) SELECT ${cols.map((x) => (x === 'symbol' ? `'${c}'` : x)).join(', ')} FROM ${DB}.${table} WHERE exchange = 'binance' AND symbol = '${SYMBOL}'`,
        });
    }
    await sleep(2000);
    const calm = Date.now() + 30_000;
    while ((await merging()) > 0 && Date.now() < calm) await sleep(500);
    const series = async (symbols) => {
      const out = [];
      for (const c of symbols) {
        await sleep(1000);
        out.push((await time(url2(c, 1))).ms);
      }
      return `min ${ms(Math.min(...out))}, median ${ms(pct(out, 50))}, max ${ms(max(out))}; ${out.filter((x) => x <= 200).length} of ${out.length} within 200 ms (${out.map((x) => x.toFixed(0)).join(', ')})`;
    };
    console.log(
      `     ticks=1 json, the same day under ${COLD_SYMBOLS} more symbols (copied in ClickHouse), each read once, a second apart, nothing else running: cold ${await series(copies.slice(0, COLD_SYMBOLS))}`,
    );
    const live = Array.from({ length: 10 }, () =>
      client({ exchange: 'binance', symbol: 'BTCUSDT', timeframe: '1m', ticks: 1, candles: 10 }, () => undefined),
    );
    await Promise.all(live.map((c) => c.ready));
    const flow = startPublishing(HISTORY_FLOW);
    await sleep(2000);
    const during = await series(copies.slice(COLD_SYMBOLS));
    const { sent, seconds } = await flow.stop();
    for (const c of live) c.s.close();
    console.log(
      `     the same under ${COLD_SYMBOLS} further symbols while ${Math.round(sent / seconds).toLocaleString('en')} trades/s flow to BTCUSDT with 10 live clients: cold ${during}`,
    );
  }
  await chc.close();
  const snap = [];
  for (let i = 0; i < 4; i++) {
    const s = io(gwUrl, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise((r) => s.once('connect', r));
    const t = performance.now();
    const got = new Promise((r) => s.once('snapshot', (x) => r(x)));
    // a distinct size each time: not served from the gateway's short history cache
    await s
      .timeout(60_000)
      .emitWithAck('subscribe', { exchange: 'binance', symbol: SYMBOL, timeframe: '1m', ticks: 10, candles: 1440 - i });
    const x = await got;
    if (i > 0) snap.push(performance.now() - t);
    if (x.candles.length !== 1440 - i) throw new Error(`snapshot has ${x.candles.length} candles`);
    s.close();
  }
  console.log(
    `     Socket.IO subscribe -> snapshot of the 1,440 candles at 10 ticks: median ${ms(pct(snap, 50))} (max ${ms(max(snap))})`,
  );
  const metrics = await (await fetch(`${gwOpsUrl}/metrics`)).text();
  const counter = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  console.log(
    `     native 1m minutes served from their stored wire form so far: ${counter('gateway_history_wire_minutes_total')}, read from footprint_1m instead: ${counter('gateway_history_wire_fallbacks_total')}`,
  );
}

if (process.env.BENCH_KEEP === '1') {
  // the servers stay up for a look (curl, clickhouse-client) until Ctrl-C
  console.log(
    `BENCH_KEEP=1: gateway ${gwUrl}, ClickHouse ${ch.url} (database ${DB}), NATS ${nats.url}; Ctrl-C stops them`,
  );
  await new Promise(() => undefined);
}
await shutdown(0);
