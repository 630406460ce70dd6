/**
 * TradePublisher throughput against a real nats-server -js (started here, on a free port in a temp
 * dir, by scripts/lib/services.mjs): 1,000,000 trades of 4 symbols, interleaved like a feed, for
 * batch sizes 500, 50 and 1 (slowest last). Prints acknowledged trades/s and messages/s. The source honours
 * back-pressure (awaits onceDrained() while saturated), as a collector does.
 * Run with `nx run @orderflow/nats:bench`; BENCH_TRADES and BENCH_BATCHES override the defaults.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { TRADES_STREAM } from '@orderflow/contracts';
import type { Instrument, Trade } from '@orderflow/footprint';
import { connectNats, drainNats, ensureStreams, silentLogger, TradePublisher } from '@orderflow/nats';

interface NatsServer {
  url: string;
  stop(): Promise<void>;
}
interface ServicesModule {
  startNats(o?: { port?: number; storeDir?: string }): Promise<NatsServer>;
}

const N = Number(process.env['BENCH_TRADES'] ?? 1_000_000);
const BATCHES = (process.env['BENCH_BATCHES'] ?? '500,50,1').split(',').map(Number);
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT'];

// plain JS outside the TypeScript projects: loaded by URL (dist-bench/ -> repo root)
const SERVICES_URL = new URL('../../../scripts/lib/services.mjs', import.meta.url).href;

const instruments: Instrument[] = SYMBOLS.map((symbol) => ({
  exchange: 'binance',
  symbol,
  priceScale: 2,
  quantityScale: 5,
  tick: 1,
}));
const which = new Uint8Array(N);
const trades: Trade[] = new Array(N);

/**
 * The feed: 4 symbols in a 50/30/15/5 mix. Trade ids start at a different base each run: the same
 * trades published again within the duplicate window would (rightly) be dropped as duplicates.
 */
function makeTrades(run: number): void {
  let s = 42;
  const rnd = () => (s = (s * 16_807) % 2_147_483_647) / 2_147_483_647;
  const next = SYMBOLS.map(() => 3_358_000_000 + run * 100_000_000);
  let p = 9_350_000;
  for (let i = 0; i < N; i++) {
    const u = rnd();
    const k = u < 0.5 ? 0 : u < 0.8 ? 1 : u < 0.95 ? 2 : 3;
    p += Math.floor(rnd() * 7) - 3;
    which[i] = k;
    trades[i] = {
      exchange: 'binance',
      symbol: SYMBOLS[k]!,
      id: String(next[k]!++),
      price: p,
      quantity: 1 + Math.floor(rnd() ** 4 * 100_000),
      side: rnd() < 0.5 ? 'buy' : 'sell',
      exchangeTimeUs: 1_735_689_600_000_000 + i * 300,
      receiveTimeMs: 1_735_689_600_000 + Math.floor(i * 0.3),
    };
  }
}

const services = (await import(SERVICES_URL)) as ServicesModule;
const server = await services.startNats();
const nc = await connectNats({ servers: server.url, name: 'publisher-bench', logger: silentLogger });
try {
  await ensureStreams(nc, { maxAgeMs: 3_600_000, maxBytes: 2 * 1024 ** 3, duplicateWindowMs: 120_000 });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  console.log(
    `TradePublisher -> nats-server ${nc.info?.version} (JetStream, file storage, localhost): ${N.toLocaleString('en-US')} trades of ${SYMBOLS.length} symbols`,
  );
  for (const [run, batch] of BATCHES.entries()) {
    makeTrades(run);
    await jsm.streams.purge(TRADES_STREAM);
    const pub = new TradePublisher(js, { maxBatchTrades: batch, logger: silentLogger });
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      pub.add(instruments[which[i]!]!, trades[i]!);
      if (pub.saturated) await pub.onceDrained();
    }
    await pub.flush();
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    const s = pub.stats();
    await pub.close();
    const stored = (await jsm.streams.info(TRADES_STREAM)).state;
    if (s.tradesAcked !== N || stored.messages !== s.batchesAcked)
      throw new Error(`lost something: ${JSON.stringify(s)}, stream ${stored.messages} messages`);
    console.log(
      `batch ${String(batch).padStart(3)}: ${Math.round(N / sec)
        .toLocaleString('en-US')
        .padStart(10)} trades/s  ` +
        `${Math.round(s.batchesAcked / sec)
          .toLocaleString('en-US')
          .padStart(8)} msgs/s  ` +
        `(${s.batchesAcked.toLocaleString('en-US')} messages, ${(stored.bytes / 1024 / 1024).toFixed(1)} MiB, ${sec.toFixed(2)} s, retries ${s.retries})`,
    );
  }
} finally {
  await drainNats(nc);
  await server.stop();
}
