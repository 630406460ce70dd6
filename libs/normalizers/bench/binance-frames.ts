/**
 * The frames of the raw-JSON bench: combined-stream Binance aggTrade messages exactly as Binance
 * sends them (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#aggregate-trade-streams),
 * BTCUSDT around 93,500.00 (0.01 tick, 0.00001 step), from a seeded generator, so that every run,
 * and the Python reference (tests/bench/python-reference.py) reading them from a file, sees the
 * same frames.
 */
export const BENCH_SYMBOL = 'BTCUSDT';
export const BENCH_TICK = '0.01';
export const BENCH_STEP = '0.00001';

export function binanceAggTradeFrames(n: number): string[] {
  const frames: string[] = new Array(n);
  let s = 7;
  const r = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
  let p = 9_350_000;
  let t = 1_735_689_600_000;
  for (let i = 0; i < n; i++) {
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
  return frames;
}
