/**
 * Engine throughput: normalised trades into footprints for every timeframe at once (1m ... 1d),
 * grouped by 10 ticks and at native ticks. Prints trades/s; run with `nx run @orderflow/footprint:bench`.
 * Per grouping: one warm-up run, then BENCH_RUNS measured runs (default 5): their median, best and every run.
 *
 * The stream is a seeded random walk shaped like BTCUSDT on Binance spot: price around 93,500.00
 * (0.01 tick), quantities of 0.00001 to 1 BTC, about 3,000 trades a minute, so candles of every
 * timeframe open and close during the run exactly as they do live.
 */
import { FootprintSeries, TIMEFRAMES, type FootprintCandle, type Side } from '@orderflow/footprint';

const N = Number(process.env['BENCH_TRADES'] ?? 5_000_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const prices = new Float64Array(N);
const quantities = new Float64Array(N);
const times = new Float64Array(N);
const sides: Side[] = new Array(N);
{
  const r = rng(42);
  let p = 9_350_000;
  let t = 1_735_689_600_000_000;
  for (let i = 0; i < N; i++) {
    const u = r();
    p += u < 0.45 ? 0 : u < 0.72 ? 1 + Math.floor(r() * 3) : -1 - Math.floor(r() * 3);
    t += Math.floor(r() * 40_000);
    prices[i] = p;
    quantities[i] = 1 + Math.floor(r() ** 4 * 100_000);
    times[i] = t;
    sides[i] = r() < 0.5 ? 'buy' : 'sell';
  }
}

function run(step: number): { rate: number; candles: number } {
  let candles = 0;
  const s = new FootprintSeries({ timeframes: TIMEFRAMES, step, onClose: (_c: FootprintCandle) => candles++ });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) s.add(prices[i]!, quantities[i]!, sides[i]!, times[i]!);
  s.flush();
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rate: N / sec, candles };
}

console.log(
  `footprint engine: ${N.toLocaleString('en')} trades, ${TIMEFRAMES.length} timeframes at once, ${RUNS} runs, node ${process.version}`,
);
for (const step of [10, 1]) {
  run(step); // warm-up, not counted: the JIT settles during the first run
  const rates: number[] = [];
  let candles = 0;
  for (let k = 0; k < RUNS; k++) {
    const r = run(step);
    rates.push(r.rate);
    candles = r.candles;
  }
  rates.sort((a, b) => a - b);
  const m = RUNS >> 1;
  // the middle run; for an even BENCH_RUNS, the mean of the two middle ones
  const median = RUNS % 2 === 1 ? rates[m]! : (rates[m - 1]! + rates[m]!) / 2;
  const fmt = (x: number) => `${(x / 1e6).toFixed(2)} M trades/s`;
  console.log(
    `  grouping ${String(step).padStart(2)} tick(s): median of ${RUNS} ${fmt(median)}, best ${fmt(rates[RUNS - 1]!)} (${candles.toLocaleString('en')} candles closed per run; runs: ${rates.map((r) => (r / 1e6).toFixed(1)).join(' ')})`,
  );
}
