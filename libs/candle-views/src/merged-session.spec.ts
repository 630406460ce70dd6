import type { SessionSummary } from '@orderflow/contracts';
import {
  type CandleData,
  FootprintCandle,
  type GroupingMode,
  type Side,
  buildProfile,
  groupPrice,
  nakedPocs,
  profileMetrics,
} from '@orderflow/footprint';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergedView } from './instrument-view.js';
import { summaryOf } from './testing/summary.js';
import { GroupedView } from './grouped-view.js';
import {
  DAY_MS,
  type MemberSession,
  MergedSessionState,
  mergeSessions,
  nakedPocsOf,
  sessionDay,
} from './merged-session.js';

const DAY0 = Date.UTC(2024, 7, 6);

/**
 * Members with different scales: factors 1/1, 10/10 and 1/100 into the view's units (scales 2 and 4, tick lcm(1, 10, 2)
 * = 10).
 */
const STORED = [
  { exchange: 'a', symbol: 'X', priceScale: 2, quantityScale: 4, tick: 1 },
  { exchange: 'b', symbol: 'X', priceScale: 1, quantityScale: 3, tick: 1 },
  { exchange: 'c', symbol: 'X', priceScale: 2, quantityScale: 2, tick: 2 },
];
const VIEW = mergedView('merged', 'X-Y', STORED);

interface T {
  member: number;
  day: number;
  /** member price units: a base around 10_000 view units, in the member's ticks */
  at: number;
  qty: number;
  side: Side;
}

const tradeArb = fc.record({
  member: fc.integer({ min: 0, max: 2 }),
  day: fc.integer({ min: 0, max: 3 }),
  at: fc.integer({ min: 0, max: 60 }),
  qty: fc.integer({ min: 1, max: 5_000 }),
  side: fc.constantFrom<Side>('buy', 'sell'),
});

/** A trade's price in member units: spread so that members overlap in view units, on the member's tick. */
function memberPrice(t: T): number {
  const m = VIEW.members[t.member]!;
  const viewUnits = 10_000 + t.day * 150 + t.at * 10; // multiples of 10: on every member's grid
  return (viewUnits / m.priceFactor / m.scales.tick) * m.scales.tick;
}

/** Independent of the engine: exact half-to-even decimal of a / b (b > 0) to `decimals` places. */
function refDecimal(a: bigint, b: bigint, decimals: number): string {
  const scaled = a * 10n ** BigInt(decimals);
  let q = scaled / b;
  const r = scaled % b;
  if (2n * r > b || (2n * r === b && q % 2n === 1n)) q += 1n;
  const s = q.toString().padStart(decimals + 1, '0');
  return decimals === 0 ? s : `${s.slice(0, -decimals)}.${s.slice(-decimals)}`;
}

/** A member's session of one day as its aggregator would publish it (sums of its own trades, member units). */
function memberSession(ts: readonly T[], member: number, day: number): SessionSummary | null {
  const mine = ts.filter((t) => t.member === member && t.day <= day);
  if (mine.length === 0) return null;
  const newest = Math.max(...mine.map((t) => t.day));
  const today = mine.filter((t) => t.day === newest);
  let notional = 0n;
  let volume = 0;
  let cvd = 0;
  for (const t of today) {
    notional += BigInt(memberPrice(t)) * BigInt(t.qty);
    volume += t.qty;
    cvd += t.side === 'buy' ? t.qty : -t.qty;
  }
  return {
    startMs: DAY0 + newest * DAY_MS,
    poc: null,
    vah: null,
    val: null,
    vwap: null,
    notional: notional.toString(),
    cvd,
    volume,
    trades: today.length,
    nakedPocs: [],
  };
}

/** The merged 1d view fed with each member's day candles (what the live streams seed it with). */
function dayView(ts: readonly T[], step: number, mode: GroupingMode): GroupedView {
  const view = new GroupedView('k', VIEW.members, '1d', step, mode, Date.now, 365 * DAY_MS);
  VIEW.members.forEach((m, i) => {
    const byDay = new Map<number, FootprintCandle>();
    ts.forEach((t, n) => {
      if (t.member !== i) return;
      const open = DAY0 + t.day * DAY_MS;
      let c = byDay.get(open);
      if (!c) byDay.set(open, (c = new FootprintCandle('1d', open)));
      c.add(memberPrice(t), t.qty, t.side, (open + 1000 + n) * 1000);
    });
    for (const [open, c] of byDay) view.seed(i, open, view.part(m, summaryOf(c), c.levels.values()));
  });
  return view;
}

/**
 * The merged day's levels at the grouping, summed by the test from the trades (view units), as CandleData for the
 * engine.
 */
function summedDay(ts: readonly T[], day: number, step: number, mode: GroupingMode): CandleData | null {
  const levels = new Map<
    number,
    { price: number; buyVolume: number; sellVolume: number; buyTrades: number; sellTrades: number }
  >();
  let low = Infinity;
  let high = -Infinity;
  for (const t of ts) {
    if (t.day !== day) continue;
    const m = VIEW.members[t.member]!;
    const p = memberPrice(t) * m.priceFactor;
    const q = t.qty * m.quantityFactor;
    low = Math.min(low, p);
    high = Math.max(high, p);
    const g = groupPrice(p, step, mode);
    const l = levels.get(g) ?? { price: g, buyVolume: 0, sellVolume: 0, buyTrades: 0, sellTrades: 0 };
    if (t.side === 'buy') {
      l.buyVolume += q;
      l.buyTrades++;
    } else {
      l.sellVolume += q;
      l.sellTrades++;
    }
    levels.set(g, l);
  }
  if (levels.size === 0) return null;
  return {
    timeframe: '1d',
    openTime: DAY0 + day * DAY_MS,
    step,
    mode,
    open: low,
    high,
    low,
    close: high,
    buyVolume: 0,
    sellVolume: 0,
    buyTrades: 0,
    sellTrades: 0,
    delta: 0,
    maxDelta: 0,
    minDelta: 0,
    firstTimeUs: 0,
    lastTimeUs: 0,
    onGrid: step === 1,
    levels: [...levels.values()].sort((a, b) => a.price - b.price),
  };
}

const members = (ts: readonly T[], day: number): MemberSession[] =>
  VIEW.members.map((m, i) => ({
    session: memberSession(ts, i, day),
    priceFactor: m.priceFactor,
    quantityFactor: m.quantityFactor,
  }));

describe('merged session', () => {
  it('VWAP is the exact ratio of the summed notionals to the summed volume (view units), not a blend of rounded VWAPs', () => {
    // a (scales 2/4): 100.00 x 1 and 100.01 x 2 -> notional 30002, volume 3, VWAP 100.00666... -> '100.006667'
    // b (scales 1/3): 100.1 x 1 and 100.2 x 2 -> notional 3005, volume 3, VWAP 100.1666... -> '100.16667'
    const a: SessionSummary = {
      startMs: DAY0,
      poc: null,
      vah: null,
      val: null,
      vwap: '100.006667',
      notional: '30002',
      cvd: 3,
      volume: 3,
      trades: 2,
      nakedPocs: [],
    };
    const b: SessionSummary = {
      startMs: DAY0,
      poc: null,
      vah: null,
      val: null,
      vwap: '100.16667',
      notional: '3005',
      cvd: -3,
      volume: 3,
      trades: 2,
      nakedPocs: [],
    };
    const pa = { session: a, priceFactor: 1, quantityFactor: 1 };
    const pb = { session: b, priceFactor: 10, quantityFactor: 10 };
    const s = mergeSessions([pa, pb], 2, null, [], 10, 'nearest')!;
    // view units (2/4): b's notional x 10 x 10, its volume x 10: 330502 / (33 x 10^2)
    expect(s).toMatchObject({
      startMs: DAY0,
      notional: '330502',
      volume: 33,
      cvd: 3 - 30,
      trades: 4,
      vwap: '100.152121',
      poc: null,
      nakedPocs: [],
    });
    expect(s.vwap).toBe(refDecimal(330_502n, 3_300n, 6));
    // what blending the members' rounded VWAPs would say (wrong in the 6th decimal)
    expect(refDecimal(100_006_667n * 3n + 100_166_670n * 30n, 33n * 10n ** 6n, 6)).toBe('100.152124');
    // a member without a notional (an aggregator older than the field): no VWAP rather than a wrong one
    const s2 = mergeSessions([pa, { ...pb, session: { ...b, notional: undefined } }], 2, null, [], 10, 'nearest')!;
    expect(s2.vwap).toBeNull();
    expect(s2.notional).toBeUndefined();
    expect(s2.volume).toBe(33);
    // a member still on the previous session does not count in the new one
    expect(
      mergeSessions([pa, { ...pb, session: { ...b, startMs: DAY0 - DAY_MS } }], 2, null, [], 10, 'nearest'),
    ).toMatchObject({ startMs: DAY0, volume: 3, notional: '30002', vwap: '100.006667' });
    expect(
      mergeSessions([{ session: null, priceFactor: 1, quantityFactor: 1 }], 2, null, [], 10, 'nearest'),
    ).toBeNull();
  });

  it('equals an independent computation: sums and exact VWAP, POC/VA of the summed levels by the engine, naked POCs by the engine, for any grouping', () => {
    fc.assert(
      fc.property(
        fc.array(tradeArb, { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom<GroupingMode>('nearest', 'down'),
        (ts, ticks, mode) => {
          const step = ticks * VIEW.scales.tick;
          const view = dayView(ts, step, mode);
          const state = new MergedSessionState(VIEW.scales.priceScale, step, mode);
          const lastDay = Math.max(...ts.map((t) => t.day));
          const s = state.summary(members(ts, lastDay), view)!;
          // sums and VWAP from the trades of the newest day, in view units (BigInt)
          let notional = 0n;
          let volume = 0n;
          let cvd = 0n;
          let trades = 0;
          for (const t of ts) {
            if (t.day !== lastDay) continue;
            const m = VIEW.members[t.member]!;
            const q = BigInt(t.qty * m.quantityFactor);
            notional += BigInt(memberPrice(t) * m.priceFactor) * q;
            volume += q;
            cvd += t.side === 'buy' ? q : -q;
            trades++;
          }
          expect(s.startMs).toBe(DAY0 + lastDay * DAY_MS);
          expect([s.notional, BigInt(s.volume), BigInt(s.cvd), s.trades]).toEqual([
            notional.toString(),
            volume,
            cvd,
            trades,
          ]);
          expect(s.vwap).toBe(
            refDecimal(notional, volume * 10n ** BigInt(VIEW.scales.priceScale), VIEW.scales.priceScale + 4),
          );
          // POC and value area: the engine's profile of the levels the test summed itself
          const today = summedDay(ts, lastDay, step, mode)!;
          const m = profileMetrics(buildProfile([today]));
          expect([s.poc, s.vah, s.val]).toEqual([m.poc, m.valueAreaHigh, m.valueAreaLow]);
          // naked POCs: libs/footprint's rule over the merged day candles, the current one excluded
          const days = [0, 1, 2, 3]
            .filter((d) => d <= lastDay)
            .map((d) => summedDay(ts, d, step, mode))
            .filter((c): c is CandleData => c !== null);
          const expected = nakedPocs(days)
            .filter((n) => n.openTime < today.openTime)
            .map((n) => ({ sessionStartMs: n.openTime, price: n.poc }));
          expect(s.nakedPocs).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps earlier sessions after the live view evicts them, lets the live view win over history, and looks back NAKED_POC_DAYS days', () => {
    const step = 10;
    const day = (d: number, poc: number, low: number, high: number) => ({
      startMs: DAY0 + d * DAY_MS,
      poc,
      vah: poc,
      val: poc,
      low,
      high,
    });
    const state = new MergedSessionState(2, step, 'nearest', 3);
    // history: days -5 .. -1 (-5 is beyond the look-back of 3 days), -1 as read while it was incomplete
    state.setStored([
      day(-5, 9000, 8990, 9010),
      day(-3, 9500, 9490, 9510),
      day(-2, 9700, 9690, 9710),
      day(-1, 9800, 9790, 9810),
    ]);
    // the live view holds day -1 (complete: its POC moved to 9900) and today (range 9600..9650: touches nothing)
    const held = new Map([
      [DAY0 - DAY_MS, { openTime: DAY0 - DAY_MS, poc: 9900, vah: 9900, val: 9900, low: 9890, high: 9910 }],
      [DAY0, { openTime: DAY0, poc: 9620, vah: 9650, val: 9600, low: 9600, high: 9650 }],
    ]);
    const view = {
      openTimes: () => [...held.keys()].sort((a, b) => a - b),
      wireCandle: (t: number) =>
        held.has(t)
          ? ({
              ...held.get(t)!,
              open: 0,
              close: 0,
              buyVolume: 1,
              sellVolume: 0,
              buyTrades: 1,
              sellTrades: 0,
              delta: 1,
              maxDelta: 1,
              minDelta: 0,
            } as never)
          : null,
    };
    const sess: MemberSession[] = [
      {
        session: {
          startMs: DAY0,
          poc: null,
          vah: null,
          val: null,
          vwap: null,
          notional: '962000',
          cvd: 1,
          volume: 100,
          trades: 1,
          nakedPocs: [],
        },
        priceFactor: 1,
        quantityFactor: 1,
      },
    ];
    const s = state.summary(sess, view)!;
    expect([s.poc, s.vah, s.val]).toEqual([9620, 9650, 9600]);
    expect(s.nakedPocs).toEqual([
      { sessionStartMs: DAY0 - 3 * DAY_MS, price: 9500 },
      { sessionStartMs: DAY0 - 2 * DAY_MS, price: 9700 },
      { sessionStartMs: DAY0 - DAY_MS, price: 9900 },
    ]);
    expect(state.knownDays()).toEqual([-3, -2, -1].map((d) => DAY0 + d * DAY_MS));
    // the view evicts day -1; the next day opens and trades through 9700
    held.delete(DAY0 - DAY_MS);
    held.set(DAY0 + DAY_MS, { openTime: DAY0 + DAY_MS, poc: 9700, vah: 9710, val: 9690, low: 9690, high: 9710 });
    const next = state.summary(
      [{ session: { ...sess[0]!.session!, startMs: DAY0 + DAY_MS }, priceFactor: 1, quantityFactor: 1 }],
      view,
    )!;
    expect(next.nakedPocs).toEqual([
      { sessionStartMs: DAY0 - DAY_MS, price: 9900 },
      { sessionStartMs: DAY0, price: 9620 },
    ]);
    expect(nakedPocsOf([], null, step, 'nearest')).toEqual([]);
    expect(sessionDay({ openTime: 5, poc: 1, vah: 2, val: 3, low: 4, high: 6 } as never)).toEqual({
      startMs: 5,
      poc: 1,
      vah: 2,
      val: 3,
      low: 4,
      high: 6,
    });
  });
});
