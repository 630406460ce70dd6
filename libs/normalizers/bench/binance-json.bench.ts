/**
 * Raw Binance aggTrade JSON text into footprints (parsing included): the collector's and the
 * aggregator's per-message work on one core. Frames are combined-stream aggTrade messages exactly
 * as Binance sends them; every timeframe (1m ... 1d) is kept, grouped by 10 ticks.
 * Also prints the JSON.parse-based general path alone, for comparison.
 */
import { AddResult, FootprintSeries, TIMEFRAMES, instrumentFromSteps, type Instrument } from '@orderflow/footprint';
import { type BinanceAggTrade, normalizeBinanceAggTrade } from '@orderflow/normalizers';

const N = Number(process.env['BENCH_TRADES'] ?? 1_000_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);

const instruments = new Map<string, Instrument>([['BTCUSDT', instrumentFromSteps('binance', 'BTCUSDT', '0.01', '0.00001')]]);
const options = { exchange: 'binance' as const, instruments };

const frames: string[] = new Array(N);
{
  let s = 7;
  const r = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  let p = 9_350_000;
  let t = 1_735_689_600_000;
  for (let i = 0; i < N; i++) {
    p += Math.floor(r() * 5) - 2;
    t += Math.floor(r() * 40);
    const price = `${Math.floor(p / 100)}.${String(p % 100).padStart(2, '0')}000000`;
    const qty = `0.${String(1 + Math.floor(r() ** 4 * 99_999)).padStart(5, '0')}000`;
    const id = 3_300_000_000 + i;
    // Through a Buffer, as frames arrive from the socket: flat strings, not concatenation ropes.
    frames[i] = Buffer.from(
      `{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":${t + 1},"s":"BTCUSDT","a":${id},"p":"${price}","q":"${qty}",` +
      `"f":${id * 2},"l":${id * 2 + 1},"T":${t},"m":${r() < 0.5},"M":true}}`,
    ).toString('utf8');
  }
}

type Mode = 'text' | 'json';

function run(mode: Mode): number {
  const s = new FootprintSeries({ timeframes: TIMEFRAMES, step: 10 });
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

function report(label: string, mode: Mode, runs: number): void {
  run(mode); // warm-up, not counted: the JIT and WebAssembly tier-up settle during the first run
  const rates = Array.from({ length: runs }, () => run(mode)).sort((a, b) => a - b);
  const fmt = (x: number) => `${(x / 1e6).toFixed(2)} M trades/s`;
  console.log(`  ${label}: median ${fmt(rates[Math.floor(runs / 2)]!)}, best ${fmt(rates[runs - 1]!)} (runs: ${rates.map((r) => (r / 1e6).toFixed(2)).join(' ')})`);
}

console.log(`raw Binance aggTrade JSON -> footprints: ${N.toLocaleString('en')} frames, ${TIMEFRAMES.length} timeframes, 10-tick grouping, node ${process.version}`);
report('canonical frames (WebAssembly scanner)', 'text', RUNS);
report('non-canonical text (JSON.parse + field checks)', 'json', Math.max(1, Math.floor(RUNS / 2)));
