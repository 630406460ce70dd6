/**
 * Memory per active symbol: heap held by SymbolState after a whole UTC day of trades.
 * A day of BENCH_TRADES trades (default 1,500,000, about a busy USDT-M perpetual's aggTrades) as a
 * random walk on the native tick, written (flushed) every 1,000 trades as the shard does. Prints
 * the heap held per symbol (after GC) and its parts.
 * Run: npx nx run @orderflow/aggregation:bench   (node --expose-gc)
 */
import { SymbolState } from '../dist/index.js';

const TRADES = Number(process.env.BENCH_TRADES ?? 1_500_000);
const SYMBOLS = Number(process.env.BENCH_SYMBOLS ?? 4);
const gc = globalThis.gc;
if (!gc) throw new Error('run with node --expose-gc');
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const day = Date.UTC(2025, 0, 2) * 1000;
const step = Math.floor(86_400_000_000 / TRADES);
const before = heap();
const states = [];
for (let s = 0; s < SYMBOLS; s++) {
  const st = new SymbolState({
    exchange: 'bench',
    symbol: `S${s}`,
    scales: { priceScale: 1, quantityScale: 3, tick: 1 },
  });
  let price = 600_000; // 60000.0 at a 0.1 tick
  let batch = [];
  for (let i = 0; i < TRADES; i++) {
    price += Math.round((Math.random() - 0.5) * 4);
    batch.push({
      exchange: 'bench',
      symbol: `S${s}`,
      id: String(i + 1),
      price,
      quantity: 1 + (i % 900),
      side: i % 3 ? 'buy' : 'sell',
      exchangeTimeUs: day + i * step,
      receiveTimeMs: 0,
      ingestSeq: i,
    });
    if (batch.length === 1000) {
      st.apply(batch);
      batch = [];
      const b = st.takeFlush();
      if (b) st.flushed(b);
      st.takeLiveChanges();
    }
  }
  states.push(st);
}
const held = heap() - before;
const sizes = states[0].sizes;
const levels = states[0].openCandle('1d').levels.size;
console.log(
  `SymbolState after a day of ${TRADES.toLocaleString('en')} trades, ${SYMBOLS} symbols, node ${process.version}`,
);
console.log(
  `heap held per symbol: ${(held / SYMBOLS / 2 ** 20).toFixed(1)} MiB (${sizes.dayMinutes} minutes of the day, ${levels} price levels in the day, ${sizes.windowMinutes} minutes and ${sizes.ids} trade ids in the dedupe window)`,
);
