import { parseFixed } from '@orderflow/footprint';
import { describe, expect, it } from 'vitest';
import { instrumentFor } from '../instruments.js';
import { SyntheticMarket } from './synthetic.js';

function run(
  symbol: string,
  seed: number,
  seconds: number,
  venue: Parameters<typeof instrumentFor>[0] = 'binance-spot',
) {
  const m = new SyntheticMarket({
    instrument: instrumentFor(venue, symbol),
    rate: 200,
    seed,
    startTime: 0,
  });
  const out = [];
  for (let t = m.next()!; t.time < seconds * 1000; t = m.next()!) out.push(t);
  return out;
}

describe('SyntheticMarket', () => {
  it('is deterministic per seed, with contiguous ids and exact tick/step multiples', () => {
    const a = run('BTCUSDT', 7, 60);
    expect(run('BTCUSDT', 7, 60)).toEqual(a);
    expect(run('BTCUSDT', 8, 60)).not.toEqual(a);
    const problems: string[] = [];
    for (let i = 0; i < a.length; i++) {
      const t = a[i]!;
      if (i > 0 && (t.id !== a[i - 1]!.id + 1 || t.time < a[i - 1]!.time)) problems.push(`order at ${i}`);
      if (!/^\d+\.\d{8}$/.test(t.price)) problems.push(`format ${t.price}`); // Binance spot prints 8 decimals
      if (parseFixed(t.price, 8) % 1_000_000 !== 0) problems.push(`tick ${t.price}`);
      if (parseFixed(t.quantity, 8) % 1000 !== 0 || parseFixed(t.quantity, 8) === 0)
        problems.push(`step ${t.quantity}`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it('has the configured rate on average, both sides, same-millisecond bursts and heavy-tailed sizes', () => {
    const trades = run('ETHUSDT', 3, 900);
    const rate = trades.length / 900;
    expect(rate).toBeGreaterThan(150);
    expect(rate).toBeLessThan(260);
    const buys = trades.filter((t) => t.side === 'buy').length / trades.length;
    expect(buys).toBeGreaterThan(0.4);
    expect(buys).toBeLessThan(0.6);
    const sameMs = trades.filter((t, i) => i > 0 && t.time === trades[i - 1]!.time).length;
    expect(sameMs / trades.length).toBeGreaterThan(0.2);
    const notionals = trades.map((t) => Number(t.price) * Number(t.quantity)).sort((x, y) => x - y);
    const median = notionals[notionals.length >> 1]!;
    expect(notionals[notionals.length - 1]! / median).toBeGreaterThan(500);
    let lo = Infinity;
    let hi = 0;
    for (const t of trades) {
      lo = Math.min(lo, Number(t.price));
      hi = Math.max(hi, Number(t.price));
    }
    expect(hi / lo).toBeLessThan(1.1);
  });

  it('prints venue formats: futures tick 0.10 / step 0.001, OKX trimmed, OKX SWAP in contracts', () => {
    const fut = run('BTCUSDT', 1, 5, 'binance-usdm');
    expect(
      fut.every((t) => /^\d+\.\d{2}$/.test(t.price) && /^\d+\.\d{3}$/.test(t.quantity) && t.price.endsWith('0')),
    ).toBe(true);
    const okx = run('BTC-USDT', 1, 5, 'okx-spot');
    expect(okx.every((t) => !/\.\d*0$/.test(t.price) && !/\.\d*0$/.test(t.quantity))).toBe(true);
    const swap = run('BTC-USDT-SWAP', 1, 5, 'okx-swap');
    expect(swap.every((t) => parseFixed(t.quantity, 2) >= 1)).toBe(true);
  });
});
