/**
 * Aggregator throughput: JetStream → 2 shard processes → ClickHouse, acknowledged (= durable).
 *
 * nats-server, ClickHouse and two aggregator shards (apps/aggregator/dist/main.js) run as their
 * own processes; this process publishes synthetic trades (a random walk on a 0.01 tick, with
 * TradePublisher, exactly as the collector does) for BENCH_SYMBOLS symbols.
 *
 * Phase 1 (backlog): BENCH_TRADES trades are in the stream before the shards start; prints the
 * rate from the shards' start to the last acknowledgement (the sustained maximum).
 * Phase 2 (paced): publishes at BENCH_RATE trades/s for BENCH_SECONDS and samples the consumers'
 * lag (messages not yet acknowledged) every second: flat lag = the rate is held.
 * Memory: RSS of each shard, and trade ids / minutes held per symbol (from /status).
 *
 * Run: npx nx run @orderflow/system-tests:bench-aggregator
 *      (BENCH_TRADES=2000000 BENCH_SYMBOLS=8 BENCH_RATE=100000 BENCH_SECONDS=30)
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { TRADES_STREAM } from '@orderflow/contracts';
import { instrumentFromSteps } from '@orderflow/footprint';
import { TradePublisher, ensureStreams, silentLogger } from '@orderflow/nats';
import { procSample } from './lib/procstat.mjs';
import { freePorts, startClickHouse, startNatsInTempDir } from './lib/servers.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const TRADES = Number(process.env.BENCH_TRADES ?? 2_000_000);
const NSYM = Number(process.env.BENCH_SYMBOLS ?? 8);
const RATE = Number(process.env.BENCH_RATE ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const SHARDS = 2;

const nats = await startNatsInTempDir('orderflow-bench-nats-');
const ch = await startClickHouse();
const nc = await connect({ servers: nats.url });
await ensureStreams(nc, { maxAgeMs: 86_400_000, maxBytes: -1, duplicateWindowMs: 120_000 });
const jsm = await jetstreamManager(nc);

const symbols = Array.from({ length: NSYM }, (_, i) => `SYM${i}USDT`);
const instruments = symbols.map((s) => instrumentFromSteps('bench', s, '0.01', '0.001'));
const state = symbols.map((_, i) => ({ id: 1, price: 5_000_000 + i * 1000, t: Date.UTC(2025, 0, 1) * 1000 }));
let seed = 42;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;

/** n trades round-robin over the symbols; each symbol's clock advances ~1 ms per trade. */
function* trades(n) {
  for (let k = 0; k < n; k++) {
    const i = k % NSYM;
    const s = state[i];
    s.price += Math.round((rnd() - 0.5) * 6);
    s.t += 1000 + Math.floor(rnd() * 1000);
    yield [
      instruments[i],
      {
        exchange: 'bench',
        symbol: symbols[i],
        id: String(s.id++),
        price: s.price,
        quantity: 1 + Math.floor(rnd() * 5000),
        side: rnd() < 0.5 ? 'buy' : 'sell',
        exchangeTimeUs: s.t,
        receiveTimeMs: Math.floor(s.t / 1000),
      },
    ];
  }
}

async function publishAll(n) {
  const p = new TradePublisher(jetstream(nc), { maxBatchTrades: 500, logger: silentLogger });
  for (const [inst, t] of trades(n)) {
    p.add(inst, t);
    if (p.saturated) await p.onceDrained();
  }
  await p.close({ timeoutMs: 120_000 });
}

async function lag() {
  let pending = 0;
  let ackPending = 0;
  for (const s of symbols) {
    const c = await jsm.consumers.info(TRADES_STREAM, `agg_bench_${s}`).catch(() => null);
    if (!c) return null;
    pending += c.num_pending;
    ackPending += c.num_ack_pending;
  }
  return { pending, ackPending, total: pending + ackPending };
}

console.log(`aggregator bench: ${SHARDS} shards, ${NSYM} symbols, node ${process.version}`);
let t0 = performance.now();
await publishAll(TRADES);
console.log(
  `phase 1: ${TRADES.toLocaleString('en')} trades published in ${((performance.now() - t0) / 1000).toFixed(1)} s (before the shards start)`,
);

const ports = await freePorts(2);
const shards = ports.map((port, i) =>
  spawn(process.execPath, [join(root, 'apps/aggregator/dist/main.js')], {
    env: {
      ...process.env,
      NATS_URL: nats.url,
      CLICKHOUSE_URL: ch.url,
      CLICKHOUSE_DATABASE: 'bench',
      AGG_SHARDS: String(SHARDS),
      AGG_SHARD_INDEX: String(i),
      AGG_HTTP_PORT: String(port),
      AGG_DISCOVER_INTERVAL_MS: '200',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  }),
);
t0 = performance.now();
for (;;) {
  const l = await lag();
  if (l !== null && l.total === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}
const backlogSeconds = (performance.now() - t0) / 1000;
console.log(
  `phase 1: backlog JetStream → ClickHouse (acknowledged after the write): ${(TRADES / backlogSeconds).toFixed(0)} trades/s (${backlogSeconds.toFixed(1)} s incl. start-up and migrations)`,
);

/** VmRSS in MiB. */
const rss = (pid) => procSample(pid).rssMb;
console.log(
  `phase 2: paced at ${RATE.toLocaleString('en')} trades/s for ${SECONDS} s; lag = messages not yet acknowledged`,
);
const samples = [];
const sampler = setInterval(async () => {
  const l = await lag();
  samples.push(l.total);
  console.log(
    `  t+${samples.length}s lag ${l.total} msgs (undelivered ${l.pending}, unacked ${l.ackPending}); rss ${shards.map((s) => rss(s.pid).toFixed(0)).join(' / ')} MiB`,
  );
}, 1000);
const p = new TradePublisher(jetstream(nc), { maxBatchTrades: 500, logger: silentLogger });
const it = trades(RATE * SECONDS);
const start = performance.now();
let sent = 0;
while (sent < RATE * SECONDS) {
  const due = Math.min(RATE * SECONDS, Math.floor(((performance.now() - start) / 1000) * RATE));
  for (; sent < due; sent++) p.add(...it.next().value);
  await new Promise((r) => setTimeout(r, 5));
}
await p.close({ timeoutMs: 120_000 });
const publishSeconds = (performance.now() - start) / 1000;
clearInterval(sampler);
for (;;) {
  const l = await lag();
  if (l.total === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}
const drainSeconds = (performance.now() - start) / 1000 - publishSeconds;
const half = samples.length >> 1;
const avg = (a) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
console.log(
  `phase 2: published ${sent.toLocaleString('en')} trades in ${publishSeconds.toFixed(1)} s (${(sent / publishSeconds).toFixed(0)}/s); lag mean first half ${avg(samples.slice(0, half)).toFixed(0)} msgs, second half ${avg(samples.slice(half)).toFixed(0)} msgs, max ${Math.max(...samples)}; drained ${drainSeconds.toFixed(1)} s after the last publish`,
);

for (const [i, port] of ports.entries()) {
  const s = await (await fetch(`http://127.0.0.1:${port}/status`)).json();
  const ids = s.symbols.reduce((n, x) => n + (x.memory?.ids ?? 0), 0);
  console.log(
    `shard ${i}: ${s.symbols.length} symbols, rss ${rss(shards[i].pid).toFixed(0)} MiB, ${ids} trade ids held, written ${s.writer.tradesWritten} trades in ${s.writer.flushes} writes`,
  );
}
for (const s of shards) s.kill('SIGTERM');
await Promise.all(shards.map((s) => new Promise((r) => s.once('exit', r))));
await nc.close();
await nats.stop();
await ch.stop();
