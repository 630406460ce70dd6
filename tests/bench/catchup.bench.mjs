/**
 * Collector catch-up after a stop: how fast a resumed collector fills the hole its stop left,
 * paced by the REST budget (half the exchange's limit, shared by its symbols), and whether every
 * id arrived exactly once.
 *
 * For each venue: a simulator (its own process, the exchange's real REST limits) replays a
 * synthetic market; a collector A (the runtime main.ts runs, in this process) stores the first
 * trades and stops; the simulator trades on until the hole holds BENCH_TRADES trades, then holds
 * still; a collector B starts on the same JetStream and catches up from REST. Once the catch-up is
 * done the simulator finishes its replay live, and the TRADES stream is read back: every id from
 * A's first trade to the simulator's last must be stored exactly once.
 *
 * Printed per venue: trades recovered, seconds, trades/s overall (the collector's catch-up status)
 * and after the first burst (the slope over the second half of the catch-up; the token bucket's
 * saved-up budget goes first), and the read-back check.
 *
 * Run: npx nx run @orderflow/system-tests:bench-catchup
 *   BENCH_VENUES=spot,usdm,okx     which venues (default all three)
 *   BENCH_TRADES=spot:368000,usdm:74000,okx:30000   hole sizes (a plain number: the same for each)
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CollectorRuntime, loadCollectorConfig } from '@orderflow/collector';
import { connect } from '@nats-io/transport-node';
import { getFreePort, startNatsInTempDir } from './lib/servers.mjs';
import { checkTradeIds, readGapEvents } from './lib/stream-ids.mjs';
import { natsServerVersion } from './lib/versions.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The venues: simulator protocol, collector exchange id, symbol, the exchange's REST limit
 * (Binance spot 6000 and USDT-M 2400 request weight a minute; OKX as the collector budgets it,
 * 600 a minute), the default hole, and how fast the simulator replays (trades/s of wall time).
 */
const VENUES = {
  spot: {
    label: 'Binance spot',
    protocol: 'binance-spot',
    exchange: 'sim-binance',
    symbol: 'BTCUSDT',
    wsPath: '',
    weightPerMinute: 6000,
    hole: 368_000,
    replayRate: 50_000,
  },
  usdm: {
    label: 'Binance USDT-M futures',
    protocol: 'binance-usdm',
    exchange: 'sim-binance-futures',
    symbol: 'BTCUSDT',
    wsPath: '',
    weightPerMinute: 2400,
    hole: 74_000,
    replayRate: 20_000,
  },
  okx: {
    label: 'OKX',
    protocol: 'okx',
    exchange: 'sim-okx',
    symbol: 'BTC-USDT',
    wsPath: '/ws/v5/business',
    weightPerMinute: 600,
    hole: 30_000,
    replayRate: 10_000,
  },
};
/** Trades collector A stores before it stops, and trades the simulator sends live after the catch-up. */
const HEAD = 1000;
const TAIL = 2000;
/** Exchange time of the synthetic market: trades per second (the hole spans hours of it). */
const EXCHANGE_RATE = 50;

const venues = (process.env.BENCH_VENUES ?? 'spot,usdm,okx').split(',').map((v) => v.trim());
for (const v of venues)
  if (!VENUES[v]) throw new Error(`BENCH_VENUES: unknown venue "${v}" (${Object.keys(VENUES).join(', ')})`);
const holes = parseSizes(process.env.BENCH_TRADES);

function parseSizes(text) {
  const out = {};
  if (!text) return out;
  if (/^\d+$/.test(text.trim())) {
    for (const v of Object.keys(VENUES)) out[v] = Number(text);
    return out;
  }
  for (const part of text.split(',')) {
    const [v, n] = part.split(':').map((s) => s.trim());
    if (!VENUES[v] || !/^\d+$/.test(n ?? ''))
      throw new Error(`BENCH_TRADES: expected a number or venue:number,..., got "${part}"`);
    out[v] = Number(n);
  }
  return out;
}

const fmt = (n) => Math.round(n).toLocaleString('en');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The collectors' log: warnings kept (a 429 from the simulator means the budget was overspent), errors printed. */
const warnings = [];
const quiet = { log: () => undefined, warn: (m) => void warnings.push(m), error: (m) => console.error(m) };

async function waitFor(what, check, timeoutMs) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function runVenue(key) {
  const venue = VENUES[key];
  const hole = holes[key] ?? venue.hole;
  // room for what the simulator replays while collector A starts and stops (seconds of its replay rate)
  const count = HEAD + hole + TAIL + 5 * venue.replayRate;
  const nats = await startNatsInTempDir('orderflow-bench-catchup-');
  const port = await getFreePort();
  const origin = `127.0.0.1:${port}`;
  const startTime = Date.now() - Math.ceil(count / EXCHANGE_RATE) * 1000 - 10 * 60_000;
  // the exchange's real REST limits: no --no-rate-limit
  const sim = spawn(
    process.execPath,
    [
      join(root, 'apps/exchange-sim/dist/main.js'),
      '--protocol',
      venue.protocol,
      '--port',
      String(port),
      '--symbols',
      venue.symbol,
      '--mode',
      'replay',
      '--start-time',
      String(startTime),
      '--rate',
      String(EXCHANGE_RATE),
      '--seed',
      '7',
      '--count',
      String(count),
      '--history',
      String(count),
      '--replay-rate',
      String(venue.replayRate),
      '--wait-clients',
      '1',
      '--quiet',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const control = async (action, query = '') => {
    const r = await fetch(`http://${origin}/__sim/${action}${query}`, { method: action === 'stats' ? 'GET' : 'POST' });
    const body = await r.json();
    if (!r.ok) throw new Error(`simulator ${action}: ${body.error ?? r.status}`);
    return body;
  };
  const market = async () => (await control('stats')).markets[0];
  const cleanup = [];
  warnings.length = 0;
  try {
    await waitFor(
      'the simulator',
      () =>
        fetch(`http://${origin}/health`).then(
          () => true,
          () => false,
        ),
      30_000,
    );
    cleanup.push(async () => {
      sim.kill('SIGTERM');
      await new Promise((r) => (sim.exitCode !== null ? r() : sim.once('exit', r)));
    });
    const env = {
      COLLECTOR_EXCHANGE: venue.exchange,
      COLLECTOR_SYMBOLS: venue.symbol,
      COLLECTOR_WS_URL: `ws://${origin}${venue.wsPath}`,
      COLLECTOR_REST_URL: `http://${origin}`,
      COLLECTOR_REST_WEIGHT_PER_MINUTE: String(venue.weightPerMinute),
      COLLECTOR_BACKFILL_MINUTES: '1',
      NATS_URL: nats.url,
      TRADES_MAX_GIB: '4',
    };
    const nc = await connect({ servers: nats.url, name: 'bench-catchup' });
    cleanup.push(() => nc.close());

    // collector A: the first trades, then a stop as SIGTERM does it
    const a = new CollectorRuntime(loadCollectorConfig(env), quiet);
    await a.start();
    await waitFor('collector A under way', () => a.publisher.stats().tradesAcked >= HEAD, 60_000);
    await control('pause');
    await a.stop(10_000);
    const before = await market();
    const storedA = await checkTradeIds(nc, before.firstId, before.lastId);
    const firstStored = storedA.minId;
    const lastStored = storedA.lastId;

    // the hole: the simulator trades on without a collector, then holds still
    await control('resume');
    await waitFor(
      `a hole of ${fmt(hole)} trades`,
      async () => {
        const m = await market();
        if (m.produced >= count)
          throw new Error(`the simulator replayed all ${fmt(count)} trades before the hole was made`);
        return m.lastId - lastStored >= hole;
      },
      600_000,
    );
    await control('pause');
    const holeEnd = (await market()).lastId;

    // collector B: resumes after the stored trade, catches up from REST
    const b = new CollectorRuntime(loadCollectorConfig(env), quiet);
    cleanup.push(() => b.stop(10_000));
    await b.start();
    const samples = [];
    let catchUp = null;
    await waitFor(
      'the catch-up done',
      () => {
        const c = b.feed.status().symbols[0]?.catchUp;
        if (c) samples.push([Date.now(), c.done]);
        catchUp = c ?? null;
        return c?.active === false;
      },
      3_600_000,
    );

    // the rest of the replay live, then everything acknowledged
    await control('resume');
    await control('replayFinished', '?timeoutMs=600000');
    const end = await market();
    await waitFor(
      'the last trade acknowledged',
      () => b.publisher.stats().tradesIn >= end.lastId - lastStored && b.publisher.stats().buffered === 0,
      120_000,
    );
    const retries = b.publisher.stats().retries;
    await b.stop(10_000);
    cleanup.pop();

    const ids = await checkTradeIds(nc, firstStored, end.lastId);
    const gaps = await readGapEvents(nc);
    const natsVersion = natsServerVersion(nc);

    // the rate after the first burst: the slope over the second half of the catch-up
    const startMs = catchUp.startedAtMs;
    const endMs = catchUp.finishedAtMs;
    const midMs = startMs + (endMs - startMs) / 2;
    const mid = samples.find(([t]) => t >= midMs) ?? samples.at(-1);
    const sustained = endMs > mid[0] ? ((catchUp.done - mid[1]) * 1000) / (endMs - mid[0]) : 0;
    const seconds = (endMs - startMs) / 1000;
    const burst = Math.max(0, catchUp.done - sustained * seconds);
    return {
      key,
      venue,
      hole: holeEnd - lastStored,
      holeIds: [lastStored + 1, holeEnd],
      catchUp,
      seconds,
      overall: catchUp.done / seconds,
      sustained,
      burst,
      ids,
      range: [firstStored, end.lastId],
      gaps: {
        detected: gaps.filter((g) => g.status === 'detected').length,
        filled: gaps.filter((g) => g.status === 'filled').length,
        unfilled: gaps.filter((g) => g.status === 'unfilled').length,
      },
      retries,
      rejected: warnings.filter((w) => / answered 429/.test(w)).length,
      natsVersion,
    };
  } finally {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    sim.kill('SIGTERM');
    await nats.stop();
  }
}

const results = [];
for (const key of venues) {
  const r = await runVenue(key);
  results.push(r);
  const c = r.catchUp;
  console.log(
    `catch-up: ${r.venue.label} (${r.venue.exchange} ${r.venue.symbol}), REST limit ${fmt(r.venue.weightPerMinute)} a minute (the collector spends half), node ${process.version}, nats-server ${r.natsVersion ?? 'unknown'}`,
  );
  console.log(
    `  hole ${fmt(r.hole)} trades (ids ${r.holeIds[0]}..${r.holeIds[1]}); catch-up ${c.fromId}..${c.toId}: ${fmt(c.done)} trades from REST in ${r.seconds.toFixed(1)} s = ${fmt(r.overall)} trades/s overall`,
  );
  console.log(
    `  after the first burst: ${fmt(r.sustained)} trades/s (second half of the catch-up); ~${fmt(r.burst)} trades came at once before that pace`,
  );
  console.log(
    `  read back from JetStream: ${fmt(r.ids.stored)} trades, ids ${r.ids.minId}..${r.ids.maxId} of ${r.range[0]}..${r.range[1]}; every id exactly once: ${r.ids.exactlyOnce ? 'yes' : 'NO'} (duplicates ${r.ids.duplicates}, missing ${r.ids.missing}, outside ${r.ids.outside}); gaps detected ${r.gaps.detected}, filled ${r.gaps.filled}, unfilled ${r.gaps.unfilled}; publisher retries ${r.retries}; REST answers 429: ${r.rejected}`,
  );
}
if (results.some((r) => !r.ids.exactlyOnce || r.gaps.unfilled > 0)) {
  console.log('FAILED: trades lost, repeated or left unfilled (see above); a rate of such a catch-up means nothing');
  process.exitCode = 1;
}
