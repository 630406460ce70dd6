/**
 * Collector throughput: simulator frames to JetStream-acknowledged trades, one collector process.
 *
 * The Binance spot simulator runs as its own process (replaying a synthetic market as fast as the
 * collector reads it), nats-server as its own, and the collector's runtime (the code main.ts runs)
 * in this process. Prints trades/s from the first trade received to the last one acknowledged.
 * Run: npx nx run @orderflow/system-tests:bench   (BENCH_TRADES, BENCH_SYMBOLS to change the size)
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CollectorRuntime, loadCollectorConfig } from '@orderflow/collector';
import { getFreePort, startNatsInTempDir } from './lib/servers.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const TRADES = Number(process.env.BENCH_TRADES ?? 1_000_000);
const SYMBOLS = (process.env.BENCH_SYMBOLS ?? 'BTCUSDT,ETHUSDT').split(',');
const perSymbol = Math.ceil(TRADES / SYMBOLS.length);

const nats = await startNatsInTempDir('orderflow-bench-nats-');
const port = await getFreePort();
const sim = spawn(
  process.execPath,
  [
    join(root, 'apps/exchange-sim/dist/main.js'),
    '--protocol',
    'binance-spot',
    '--port',
    String(port),
    '--symbols',
    SYMBOLS.join(','),
    '--mode',
    'replay',
    '--count',
    String(perSymbol),
    '--wait-clients',
    '1',
    '--history',
    String(perSymbol),
    '--no-rate-limit',
    '--quiet',
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
await new Promise((resolve, reject) => {
  const until = Date.now() + 30_000;
  const poll = () =>
    fetch(`http://127.0.0.1:${port}/health`).then(resolve, () =>
      Date.now() > until ? reject(new Error('simulator did not start')) : setTimeout(poll, 100),
    );
  poll();
});

const config = loadCollectorConfig({
  COLLECTOR_EXCHANGE: 'sim-binance',
  COLLECTOR_SYMBOLS: SYMBOLS.join(','),
  COLLECTOR_WS_URL: `ws://127.0.0.1:${port}`,
  COLLECTOR_REST_URL: `http://127.0.0.1:${port}`,
  COLLECTOR_BACKFILL_MINUTES: '0',
  NATS_URL: nats.url,
  TRADES_MAX_GIB: '4',
});
const quiet = { log: () => undefined, warn: (m) => console.warn(m), error: (m) => console.error(m) };
const runtime = new CollectorRuntime(config, quiet);
await runtime.start();
const total = perSymbol * SYMBOLS.length;
let first = 0;
const cpuStart = process.cpuUsage();
await new Promise((resolve) => {
  const tick = setInterval(() => {
    const s = runtime.feed.status().counters;
    if (first === 0 && s.trades > 0) first = performance.now();
    if (runtime.publisher.stats().tradesAcked >= total) {
      clearInterval(tick);
      resolve();
    }
  }, 5);
});
const seconds = (performance.now() - first) / 1000;
const cpu = process.cpuUsage(cpuStart);
const c = runtime.feed.status().counters;
console.log(
  `collector: ${total.toLocaleString('en')} trades of ${SYMBOLS.length} symbols, simulator frames -> JetStream-acknowledged, node ${process.version}`,
);
console.log(
  `  ${Math.round(total / seconds).toLocaleString('en')} trades/s end to end (${seconds.toFixed(2)} s); collector CPU ${(((cpu.user + cpu.system) / 1e6 / seconds) * 100).toFixed(0)}% of a core`,
);
console.log(
  `  frames ${c.frames.toLocaleString('en')}, gaps ${c.gapsDetected} (backfilled ${c.backfilledTrades}), duplicates ${c.duplicates}, publisher retries ${runtime.publisher.stats().retries}`,
);
await runtime.stop();
sim.kill('SIGTERM');
await nats.stop();
