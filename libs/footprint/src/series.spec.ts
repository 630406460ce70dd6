import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FootprintCandle, regroup, rollUp } from './candle.js';
import { AddResult, FootprintSeries } from './series.js';
import { TIMEFRAMES, TIMEFRAME_MS, type Timeframe } from './timeframe.js';
import { type RefTrade, refCandles } from './testing/reference.js';

const DAY_US = 86_400_000_000;
const T0 = 1_735_689_600_000_000; // 2025-01-01T00:00:00Z in µs

/** Random trade streams in time order: clustered prices, buys and sells, spanning up to ~2 days. */
const tradeStream = fc
  .array(
    fc.record({
      dt: fc.oneof(fc.integer({ min: 0, max: 2_000_000 }), fc.integer({ min: 0, max: 3 * 3_600_000_000 })),
      dp: fc.integer({ min: -40, max: 40 }),
      quantity: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 2 ** 40 })),
      side: fc.constantFrom('buy' as const, 'sell' as const),
    }),
    { minLength: 1, maxLength: 300 },
  )
  .chain((steps) =>
    fc.integer({ min: 1000, max: 10_000_000 }).map((startPrice) => {
      let t = T0 + (steps.length % 7) * 37_000_123;
      let p = startPrice;
      return steps.map((s): RefTrade => {
        t += s.dt;
        p = Math.max(1, p + s.dp);
        return { price: p, quantity: s.quantity, side: s.side, timeUs: t };
      });
    }),
  );

function direct(trades: RefTrade[], tf: Timeframe, step: number, mode: 'nearest' | 'down'): FootprintCandle[] {
  const out: FootprintCandle[] = [];
  const s = new FootprintSeries({ timeframes: [tf], step, mode, onClose: (c) => out.push(c) });
  for (const t of trades) expect(s.add(t.price, t.quantity, t.side, t.timeUs)).toBe(AddResult.Added);
  s.flush();
  return out;
}

/** What must agree between two candles: everything but the bookkeeping of grouping history. */
function comparable(c: FootprintCandle) {
  const d = c.toData();
  return {
    timeframe: d.timeframe,
    openTime: d.openTime,
    step: d.step,
    open: d.open,
    high: d.high,
    low: d.low,
    close: d.close,
    buyVolume: d.buyVolume,
    sellVolume: d.sellVolume,
    buyTrades: d.buyTrades,
    sellTrades: d.sellTrades,
    maxDelta: d.maxDelta,
    minDelta: d.minDelta,
    levels: d.levels,
  };
}

describe('FootprintSeries against the bigint reference', () => {
  it('direct aggregation equals the reference at every timeframe and grouping', () => {
    fc.assert(
      fc.property(
        tradeStream,
        fc.constantFrom(...TIMEFRAMES),
        fc.integer({ min: 1, max: 25 }),
        fc.constantFrom('nearest' as const, 'down' as const),
        (trades, tf, step, mode) => {
          const got = direct(trades, tf, step, mode).map((c) => {
            const d = comparable(c);
            return { ...d, timeframe: undefined, step: undefined };
          });
          const want = refCandles(trades, TIMEFRAME_MS[tf], step, mode).map((r) => ({
            ...r,
            timeframe: undefined,
            step: undefined,
          }));
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('roll-up and regrouping are exact', () => {
  it('1m candles rolled up to any larger timeframe equal direct aggregation', () => {
    fc.assert(
      fc.property(tradeStream, fc.constantFrom(...TIMEFRAMES), fc.integer({ min: 1, max: 12 }), (trades, tf, step) => {
        const ones = direct(trades, '1m', step, 'nearest');
        expect(rollUp(ones, tf).map(comparable)).toEqual(direct(trades, tf, step, 'nearest').map(comparable));
      }),
      { numRuns: 300 },
    );
  });

  it('native candles regrouped to N ticks equal direct aggregation at N (nearest, ties to even)', () => {
    fc.assert(
      fc.property(tradeStream, fc.constantFrom(...TIMEFRAMES), fc.integer({ min: 1, max: 50 }), (trades, tf, n) => {
        const native = direct(trades, tf, 1, 'nearest');
        expect(native.every((c) => c.onGrid)).toBe(true);
        expect(native.map((c) => comparable(regroup(c, n)))).toEqual(direct(trades, tf, n, 'nearest').map(comparable));
      }),
      { numRuns: 300 },
    );
  });

  it('grouping down composes: regrouping from N to k*N equals direct aggregation at k*N', () => {
    fc.assert(
      fc.property(tradeStream, fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 10 }), (trades, n, k) => {
        const atN = direct(trades, '5m', n, 'down');
        expect(atN.map((c) => comparable(regroup(c, n * k, 'down')))).toEqual(
          direct(trades, '5m', n * k, 'down').map(comparable),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('refuses to regroup already-rounded candles (round-to-nearest does not compose)', () => {
    const c = new FootprintCandle('1m', 0, 3, 'nearest');
    c.add(4, 1, 'buy', 1_000); // 4 -> 3 at step 3; directly at step 6 it is 6, via 3 it would be 0
    expect(c.onGrid).toBe(false);
    expect(() => regroup(c, 6)).toThrow(/regroup from native-tick candles/);
  });
});

describe('multi-timeframe series', () => {
  it('emits for every kept timeframe exactly what single-timeframe series emit', () => {
    fc.assert(
      fc.property(tradeStream, fc.integer({ min: 1, max: 8 }), (trades, step) => {
        const closed = new Map<Timeframe, FootprintCandle[]>();
        const s = new FootprintSeries({
          timeframes: [...TIMEFRAMES].reverse(),
          step,
          onClose: (c) => {
            if (!closed.has(c.timeframe)) closed.set(c.timeframe, []);
            closed.get(c.timeframe)!.push(c);
          },
        });
        for (const t of trades) s.add(t.price, t.quantity, t.side, t.timeUs);
        s.flush();
        for (const tf of TIMEFRAMES) {
          expect((closed.get(tf) ?? []).map(comparable)).toEqual(direct(trades, tf, step, 'nearest').map(comparable));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('openCandle(tf) mid-stream equals direct aggregation of the trades so far', () => {
    fc.assert(
      fc.property(tradeStream, fc.nat(), fc.constantFrom(...TIMEFRAMES), (trades, cut, tf) => {
        const n = (cut % trades.length) + 1;
        const s = new FootprintSeries({ timeframes: TIMEFRAMES });
        for (const t of trades.slice(0, n)) s.add(t.price, t.quantity, t.side, t.timeUs);
        const open = s.openCandle(tf);
        const all = direct(trades.slice(0, n), tf, 1, 'nearest');
        expect(open && comparable(open)).toEqual(comparable(all[all.length - 1]!));
      }),
      { numRuns: 300 },
    );
  });

  it('reports late and invalid trades instead of applying them', () => {
    const closed: FootprintCandle[] = [];
    const s = new FootprintSeries({ timeframes: ['1m', '5m'], onClose: (c) => closed.push(c) });
    expect(s.add(100, 5, 'buy', T0 + 61_000_000)).toBe(AddResult.Added);
    expect(s.add(101, 5, 'buy', T0 + 1_000_000)).toBe(AddResult.Late);
    expect(s.add(0, 5, 'buy', T0 + 62_000_000)).toBe(AddResult.Rejected);
    expect(s.lastRejectReason).toMatch(/price must be a positive integer/);
    expect(s.add(100, 1.5, 'buy', T0 + 62_000_000)).toBe(AddResult.Rejected);
    expect(s.lastRejectReason).toMatch(/quantity/);
    expect(s.add(100, 1, 'BUY' as never, T0 + 62_000_000)).toBe(AddResult.Rejected);
    expect(s.lastRejectReason).toMatch(/side must be "buy" or "sell", got "BUY"/);
    expect(s.add(100, 1, 'sell', 1_700_000_000_000)).toBe(AddResult.Rejected); // ms instead of µs
    expect(s.lastRejectReason).toMatch(/exchange time/);
    expect(s.add(100, 1, 'sell', Number.NaN)).toBe(AddResult.Rejected);
    expect([s.late, s.rejected]).toEqual([1, 5]);
    s.flush();
    expect(closed.map((c) => [c.timeframe, c.buyVolume, c.trades])).toEqual([
      ['1m', 5, 1],
      ['5m', 5, 1],
    ]);
  });

  it('gives an empty result for no trades', () => {
    const closed: FootprintCandle[] = [];
    const s = new FootprintSeries({ timeframes: ['1m', '1d'], onClose: (c) => closed.push(c) });
    expect(s.openCandle('1d')).toBeNull();
    s.flush();
    expect(closed).toEqual([]);
    expect(rollUp([], '1h')).toEqual([]);
  });

  it('aligns day candles to UTC midnight', () => {
    const closed: FootprintCandle[] = [];
    const s = new FootprintSeries({ timeframes: ['4h', '1d'], onClose: (c) => closed.push(c) });
    s.add(10, 1, 'buy', T0 + DAY_US - 1); // 23:59:59.999999 on 2025-01-01
    s.add(11, 1, 'sell', T0 + DAY_US); // 00:00 on 2025-01-02
    s.flush();
    expect(closed.map((c) => [c.timeframe, new Date(c.openTime).toISOString()])).toEqual([
      ['4h', '2025-01-01T20:00:00.000Z'],
      ['1d', '2025-01-01T00:00:00.000Z'],
      ['4h', '2025-01-02T00:00:00.000Z'],
      ['1d', '2025-01-02T00:00:00.000Z'],
    ]);
  });
});
