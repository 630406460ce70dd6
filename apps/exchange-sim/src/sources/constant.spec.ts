import { parseFixed } from '@orderflow/footprint';
import { describe, expect, it } from 'vitest';
import { startBinanceSpotSim } from '../protocols/binance.js';
import { TestClient, until } from '../testing/helpers.js';
import { instrumentFor } from '../instruments.js';
import type { SimTrade } from '../trade.js';
import { ConstantRateMarket } from './constant.js';

const market = (rate: number, extra: { seed?: number; count?: number } = {}) =>
  new ConstantRateMarket({
    instrument: instrumentFor('binance-spot', 'LTCUSDT'),
    rate,
    startTime: 0,
    ...extra,
  });

/** Every trade with time < ms. */
function take(m: ConstantRateMarket, ms: number): SimTrade[] {
  const out: SimTrade[] = [];
  for (let t = m.peek(); t !== undefined && t.time < ms; t = m.peek()) out.push(m.next()!);
  return out;
}

function perSecond(trades: readonly SimTrade[]): number[] {
  const n: number[] = [];
  for (const t of trades) {
    const s = Math.floor(t.time / 1000);
    n[s] = (n[s] ?? 0) + 1;
  }
  return Array.from(n, (x) => x ?? 0);
}

describe('ConstantRateMarket (--pacing constant)', () => {
  it('puts exactly `rate` trades in every second of exchange time, for any integer rate', () => {
    for (const rate of [1, 7, 1000, 33_333, 50_000, 100_000]) {
      const counts = perSecond(take(market(rate), 5000));
      expect(counts, `rate ${rate}`).toEqual([rate, rate, rate, rate, rate]);
    }
  });

  it('spaces trades evenly: consecutive gaps differ by at most 1 ms and average 1000/rate', () => {
    for (const rate of [3, 400, 1000, 7000, 60_000]) {
      const trades = take(market(rate), 10_000);
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 1; i < trades.length; i++) {
        const gap = trades[i]!.time - trades[i - 1]!.time;
        if (gap < lo) lo = gap;
        if (gap > hi) hi = gap;
      }
      expect(hi - lo, `rate ${rate}`).toBeLessThanOrEqual(1);
      expect(lo).toBe(Math.floor(1000 / rate));
      // every window of 1000 ms, wherever it starts, holds floor or ceil of the rate
      const firstAtOrAfter = (ms: number) => {
        let a = 0;
        let b = trades.length;
        while (a < b) {
          const m = (a + b) >>> 1;
          if (trades[m]!.time < ms) a = m + 1;
          else b = m;
        }
        return a;
      };
      for (let w = 0; w + 1000 <= 10_000; w += 137) {
        const inWindow = firstAtOrAfter(w + 1000) - firstAtOrAfter(w);
        expect(Math.abs(inWindow - rate), `rate ${rate} at ${w}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('takes fractional rates (0.5 = one trade every 2 s) and non-integer rates on average', () => {
    expect(take(market(0.5), 10_000).map((t) => t.time)).toEqual([0, 2000, 4000, 6000, 8000]);
    const counts = perSecond(take(market(2.5), 10_000));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(25);
    expect(counts.every((c) => c === 2 || c === 3)).toBe(true);
    expect(() => market(0)).toThrow(RangeError);
  });

  it('rebase (resume after a pause) restarts the schedule at the wall clock without a backlog; ids stay contiguous', () => {
    const m = market(1000);
    const first = take(m, 1000);
    expect(first).toHaveLength(1000);
    const pending = m.peek()!; // generated, not taken
    m.rebase(60_000);
    const after = take(m, 61_000);
    expect(after).toHaveLength(1000);
    expect(after[0]).toMatchObject({ id: pending.id, time: 60_000 });
    expect(after.every((t, i) => t.id === first[0]!.id + 1000 + i)).toBe(true);
    expect(after.every((t, i) => t.time === 60_000 + i)).toBe(true);
    m.rebase(60_500); // not behind its schedule: nothing changes
    expect(m.peek()!.time).toBe(61_000);
  });

  it('is deterministic per seed, prints Binance spot formats on the tick and step grid, both sides, a bounded walk and varied sizes; honours count', () => {
    const a = take(market(2000, { seed: 4 }), 30_000);
    expect(take(market(2000, { seed: 4 }), 30_000)).toEqual(a);
    expect(take(market(2000, { seed: 5 }), 30_000)).not.toEqual(a);
    const problems: string[] = [];
    for (const t of a) {
      if (!/^\d+\.\d{8}$/.test(t.price)) problems.push(`format ${t.price}`);
      if (parseFixed(t.price, 8) % 1_000_000 !== 0) problems.push(`tick ${t.price}`);
      if (
        !/^\d+\.\d{8}$/.test(t.quantity) ||
        parseFixed(t.quantity, 8) % 100_000 !== 0 ||
        parseFixed(t.quantity, 8) === 0
      )
        problems.push(`step ${t.quantity}`);
      if (t.firstId !== t.id || t.lastId !== t.id) problems.push(`range ${t.id}`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    const buys = a.filter((t) => t.side === 'buy').length / a.length;
    expect(buys).toBeGreaterThan(0.45);
    expect(buys).toBeLessThan(0.55);
    const prices = a.map((t) => Number(t.price));
    const levels = new Set(a.map((t) => t.price)).size;
    expect(levels).toBeGreaterThan(5); // footprints get several levels
    expect(Math.max(...prices) / Math.min(...prices)).toBeLessThan(1.05);
    expect(new Set(a.map((t) => t.quantity)).size).toBeGreaterThan(50);
    const limited = market(10_000, { count: 1234 });
    expect(take(limited, 10_000)).toHaveLength(1234);
    expect(limited.peek()).toBeUndefined();
    expect(limited.total).toBe(1234);
  });

  it('is cheap: a million trades take well under a second of CPU (the bound is loose for shared machines)', () => {
    const m = market(100_000);
    const t0 = process.cpuUsage();
    let n = 0;
    while (n < 1_000_000 && m.next()) n++;
    const used = process.cpuUsage(t0);
    // ~0.15-0.35 s on the 2-core development VM
    expect((used.user + used.system) / 1e6).toBeLessThan(5);
  });

  it('through a live Binance simulator: the flow holds the rate, frames carry live timestamps, one batch per tick', async () => {
    const rate = 4000;
    const sim = await startBinanceSpotSim({
      port: 0,
      symbols: ['LTCUSDT'],
      pacing: 'constant',
      rate,
      tickMs: 5,
      paused: true,
    });
    try {
      const c = await TestClient.open(`${sim.wsUrl}/ws/ltcusdt@aggTrade`);
      await until(() => sim.controls.stats().subscribedClients === 1);
      // t0 before resume (the schedule starts inside it); a tick releases the trades due by its end
      const t0 = Date.now();
      sim.controls.resume();
      await new Promise((r) => setTimeout(r, 1500));
      const produced = sim.controls.stats().tradesProduced;
      const elapsed = (Date.now() - t0) / 1000;
      // the schedule is exact; what was released by now is within a tick (and timer slack) of it
      expect(produced).toBeGreaterThan(rate * (elapsed - 0.3));
      expect(produced).toBeLessThanOrEqual(rate * (elapsed + 0.005) + 1);
      await until(() => c.frames.length >= 1000, 5000, '1000 frames');
      const received = Date.now();
      const frames = c.frames.map((f) => JSON.parse(f) as { T: number; a: number; E: number });
      expect(frames.every((f, i) => i === 0 || f.a === frames[i - 1]!.a + 1)).toBe(true);
      expect(frames[0]!.T).toBeGreaterThanOrEqual(t0 - 5);
      expect(frames.at(-1)!.T).toBeLessThanOrEqual(received);
      expect(frames.every((f) => f.E >= f.T)).toBe(true);
      // E is the send time of a batch: at 4,000/s and a 5 ms tick a batch holds ~20 trades
      expect(new Set(frames.slice(0, 1000).map((f) => f.E)).size).toBeLessThanOrEqual(100);
      c.close();
    } finally {
      await sim.stop();
    }
  });
});
