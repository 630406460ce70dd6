/**
 * Raw Binance aggTrade JSON text into footprints (parsing included): the collector's and the
 * aggregator's per-message work on one core. Frames are combined-stream aggTrade messages exactly
 * as Binance sends them (binance-frames.ts); every timeframe (1m ... 1d) is kept, grouped by 10 ticks.
 * Also prints the JSON.parse-based general path alone, for comparison. Each path: one warm-up run,
 * then BENCH_RUNS measured runs (default 5); it prints their median, best and every run.
 *
 * BENCH_WRITE_FRAMES=FILE writes the frames to FILE (one a line) instead, and prints the engine's
 * totals for them per timeframe, in the format tests/bench/python-reference.py prints its own, so
 * that the two can be compared with diff.
 */
import { writeFileSync } from 'node:fs';
import {
  AddResult,
  FootprintSeries,
  TIMEFRAMES,
  formatFixed,
  instrumentFromSteps,
  type FootprintCandle,
  type Instrument,
} from '@orderflow/footprint';
import { type BinanceAggTrade, normalizeBinanceAggTrade } from '@orderflow/normalizers';
import { BENCH_STEP, BENCH_SYMBOL, BENCH_TICK, binanceAggTradeFrames } from './binance-frames.js';

const N = Number(process.env['BENCH_TRADES'] ?? 1_000_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const WRITE_FRAMES = process.env['BENCH_WRITE_FRAMES'];
const GROUPING_TICKS = 10;

const instrument = instrumentFromSteps('binance', BENCH_SYMBOL, BENCH_TICK, BENCH_STEP);
const instruments = new Map<string, Instrument>([[BENCH_SYMBOL, instrument]]);
const options = { exchange: 'binance' as const, instruments };

const frames = binanceAggTradeFrames(N);

type Mode = 'text' | 'json';

function run(mode: Mode): number {
  const s = new FootprintSeries({ timeframes: TIMEFRAMES, step: GROUPING_TICKS * instrument.tick });
  const t0 = process.hrtime.bigint();
  let added = 0;
  for (let i = 0; i < N; i++) {
    // A leading space is still valid JSON but not Binance's canonical form: it takes JSON.parse.
    const t = normalizeBinanceAggTrade(mode === 'text' ? frames[i]! : ` ${frames[i]!}`, options, 0) as BinanceAggTrade;
    if (s.add(t.price, t.quantity, t.side, t.exchangeTimeUs) === AddResult.Added) added++;
  }
  s.flush();
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  if (added !== N) throw new Error(`only ${added} of ${N} trades were added`);
  return N / sec;
}

/** The median of the measured runs (the middle one; for an even count, the mean of the two middle ones). */
function median(sorted: number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

function report(label: string, mode: Mode): void {
  run(mode); // warm-up, not counted: the JIT and WebAssembly tier-up settle during the first run
  const rates = Array.from({ length: RUNS }, () => run(mode)).sort((a, b) => a - b);
  const fmt = (x: number) => `${(x / 1e6).toFixed(2)} M trades/s`;
  console.log(
    `  ${label}: median of ${RUNS} ${fmt(median(rates))}, best ${fmt(rates[RUNS - 1]!)} (runs: ${rates.map((r) => (r / 1e6).toFixed(2)).join(' ')})`,
  );
}

/** Per timeframe: candles, cells, buy/sell volume and trades, and Σ level price × volume, as exact decimals. */
function totals(): string[] {
  const sum = new Map<
    string,
    {
      candles: number;
      cells: number;
      buy: bigint;
      sell: bigint;
      buyTrades: number;
      sellTrades: number;
      notional: bigint;
    }
  >();
  for (const tf of TIMEFRAMES)
    sum.set(tf, { candles: 0, cells: 0, buy: 0n, sell: 0n, buyTrades: 0, sellTrades: 0, notional: 0n });
  const onClose = (c: FootprintCandle) => {
    const t = sum.get(c.timeframe)!;
    t.candles++;
    for (const l of c.levels.values()) {
      t.cells++;
      t.buy += BigInt(l.buyVolume);
      t.sell += BigInt(l.sellVolume);
      t.buyTrades += l.buyTrades;
      t.sellTrades += l.sellTrades;
      t.notional += BigInt(l.price) * BigInt(l.buyVolume + l.sellVolume);
    }
  };
  const s = new FootprintSeries({ timeframes: TIMEFRAMES, step: GROUPING_TICKS * instrument.tick, onClose });
  for (const f of frames) {
    const t = normalizeBinanceAggTrade(f, options, 0) as BinanceAggTrade;
    if (s.add(t.price, t.quantity, t.side, t.exchangeTimeUs) !== AddResult.Added)
      throw new Error(`trade ${t.id} not added`);
  }
  s.flush();
  const q = instrument.quantityScale;
  return TIMEFRAMES.map((tf) => {
    const t = sum.get(tf)!;
    return `${tf} candles ${t.candles} cells ${t.cells} buy ${formatFixed(t.buy, q)} sell ${formatFixed(t.sell, q)} buy_trades ${t.buyTrades} sell_trades ${t.sellTrades} level_notional ${formatFixed(t.notional, instrument.priceScale + q)}`;
  });
}

if (WRITE_FRAMES) {
  writeFileSync(WRITE_FRAMES, frames.join('\n') + '\n');
  console.log(
    `${N.toLocaleString('en')} frames written to ${WRITE_FRAMES}; the engine's totals, ${GROUPING_TICKS}-tick grouping:`,
  );
  for (const line of totals()) console.log(line);
} else {
  console.log(
    `raw Binance aggTrade JSON -> footprints: ${N.toLocaleString('en')} frames, ${TIMEFRAMES.length} timeframes, ${GROUPING_TICKS}-tick grouping, node ${process.version}`,
  );
  report('canonical frames (WebAssembly scanner)', 'text');
  report('non-canonical text (JSON.parse + field checks)', 'json');
}
