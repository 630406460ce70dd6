import type { LiveUpdate } from '@orderflow/contracts';
import { FootprintCandle, type GroupingMode, type Side, groupPrice } from '@orderflow/footprint';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { summaryOf } from './testing/summary.js';
import { mergedView, singleView } from './instrument-view.js';
import { GroupedView } from './grouped-view.js';
import { NativeCandles, type NativeEvent } from './native-candles.js';
import { Outbox, changedPrices } from './outbox.js';

interface T {
  member: number;
  price: number;
  qty: number;
  side: Side;
  dtMs: number;
}

const BASE = Date.UTC(2024, 7, 8, 23, 58);

/**
 * An "aggregator" per member: native 1m candles, and after each batch one LiveUpdate per touched
 * candle carrying the changed levels' full values (as the contract says).
 */
class FakeActor {
  readonly candles = new Map<number, FootprintCandle>();
  private changed = new Map<number, Set<number>>();
  seq = 0;
  time = BASE * 1000;
  add(t: T): void {
    this.time += t.dtMs * 1000;
    const m = this.time - (this.time % 60_000_000);
    const open = m / 1000;
    let c = this.candles.get(open);
    if (!c) this.candles.set(open, (c = new FootprintCandle('1m', open)));
    c.add(t.price, t.qty, t.side, this.time);
    let s = this.changed.get(open);
    if (!s) this.changed.set(open, (s = new Set()));
    s.add(t.price);
  }
  updates(): LiveUpdate[] {
    const out: LiveUpdate[] = [];
    for (const [open, prices] of [...this.changed].sort((a, b) => a[0] - b[0])) {
      const c = this.candles.get(open)!;
      out.push({
        v: 1,
        exchange: 'x',
        symbol: 'y',
        timeframe: '1m',
        epoch: 'e',
        seq: ++this.seq,
        scales: { priceScale: 0, quantityScale: 0, tick: 1 },
        candle: summaryOf(c),
        cells: [...prices].map((p) => ({ ...c.levels.get(p)! })),
        session: null as never,
        sentAtMs: 0,
      });
    }
    this.changed = new Map();
    return out;
  }
}

const trades = fc.array(
  fc.record({
    member: fc.integer({ min: 0, max: 1 }),
    price: fc.integer({ min: 1000, max: 1040 }),
    qty: fc.integer({ min: 1, max: 50 }),
    side: fc.constantFrom<Side>('buy', 'sell'),
    dtMs: fc.integer({ min: 0, max: 20_000 }),
  }),
  { minLength: 1, maxLength: 300 },
);

describe('GroupedView', () => {
  it('grouped cells re-derived from native updates equal direct aggregation, for any grouping, merged or not; a conflating client ends exact', () => {
    fc.assert(
      fc.property(
        trades,
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom<GroupingMode>('nearest', 'down'),
        fc.boolean(),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 299 }),
        (ts, ticks, mode, merged, batch, snapshotAt) => {
          const stored = [
            { exchange: 'a', symbol: 'S', priceScale: 2, quantityScale: 3, tick: 1 },
            { exchange: 'b', symbol: 'S', priceScale: 1, quantityScale: 4, tick: 1 },
          ];
          const view0 = merged ? mergedView('merged', 'S-S', stored) : singleView(stored[0]!);
          const members = view0.members;
          const step = ticks * view0.scales.tick;
          const actors = members.map(() => new FakeActor());
          const natives = members.map(() => new NativeCandles('1m', 365 * 86_400_000));
          const view = new GroupedView('k', members, '1m', step, mode, Date.now, 365 * 86_400_000);
          const outbox = new Outbox<string>();
          const client = new Map<number, Map<number, number[]>>();
          const flush = () => {
            for (const [, pending] of outbox.take()) {
              for (const p of pending) {
                const cells = p.replace
                  ? view.cells(p.openTime, null)
                  : view.cells(p.openTime, changedPrices(p.changes));
                let c = client.get(p.openTime);
                if (!c || p.replace) client.set(p.openTime, (c = new Map()));
                for (const x of cells) c.set(x[0], [...x]);
              }
            }
          };
          let started = false;
          const start = () => {
            // a gateway that starts late: the owners' snapshots, then their updates
            started = true;
            members.forEach((_, i) => {
              for (const ev of natives[i]!.reset([...actors[i]!.candles.values()].map((c) => c.toData())))
                view.apply(i, ev, natives[i]!.candles.get(ev.openTime), null);
              actors[i]!.updates();
            });
            for (const t of view.openTimes()) client.set(t, new Map(view.cells(t, null).map((x) => [x[0], [...x]])));
          };
          ts.forEach((t, n) => {
            const member = merged ? t.member : 0;
            actors[member]!.add(t);
            if (n === snapshotAt) start();
            if (started && (n % batch === 0 || n === ts.length - 1)) {
              members.forEach((_, i) => {
                for (const u of actors[i]!.updates()) {
                  const ev = natives[i]!.apply(u);
                  if ('refused' in ev) throw new Error(ev.refused);
                  const change = view.apply(i, ev, natives[i]!.candles.get(ev.openTime), null);
                  if (change) outbox.add('c', change);
                }
              });
              if (n % (batch * 3) === 0) flush();
            }
          });
          if (!started) start();
          flush();
          // direct: every trade of every member, converted, grouped once
          const direct = new Map<number, Map<number, number[]>>();
          members.forEach((m, i) => {
            for (const c of actors[i]!.candles.values()) {
              let d = direct.get(c.openTime);
              if (!d) direct.set(c.openTime, (d = new Map()));
              for (const l of c.levels.values()) {
                const g = groupPrice(l.price * m.priceFactor, step, mode);
                const x = d.get(g) ?? [g, 0, 0, 0, 0];
                x[1]! += l.buyVolume * m.quantityFactor;
                x[2]! += l.sellVolume * m.quantityFactor;
                x[3]! += l.buyTrades;
                x[4]! += l.sellTrades;
                d.set(g, x);
              }
            }
          });
          const lines = (m: Map<number, Map<number, number[]>>) =>
            [...m].flatMap(([t, cells]) => [...cells.values()].map((x) => `${t} ${x.join(' ')}`)).sort();
          const fromView = new Map(
            view.openTimes().map((t) => [t, new Map(view.cells(t, null).map((x) => [x[0], [...x]]))]),
          );
          expect(lines(fromView)).toEqual(lines(direct));
          expect(lines(client)).toEqual(lines(direct));
          // summaries: volumes add up; a merged candle with two exchanges has no delta extremes
          for (const t of view.openTimes()) {
            const w = view.wireCandle(t)!;
            const cells = view.cells(t, null);
            expect(w.buyVolume).toBe(cells.reduce((s, x) => s + x[1], 0));
            expect(w.sellTrades).toBe(cells.reduce((s, x) => s + x[4], 0));
            const traded = members.filter((_, i) => actors[i]!.candles.has(t)).length;
            if (traded > 1) expect(w.maxDelta).toBeNull();
            else expect(w.maxDelta).not.toBeNull();
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a partial update of a candle not held is refused (the stream re-snapshots)', () => {
    const actor = new FakeActor();
    actor.add({ member: 0, price: 10, qty: 1, side: 'buy', dtMs: 0 });
    actor.add({ member: 0, price: 11, qty: 1, side: 'buy', dtMs: 0 });
    actor.updates();
    actor.add({ member: 0, price: 11, qty: 1, side: 'sell', dtMs: 0 });
    const [u] = actor.updates();
    const n = new NativeCandles('1m');
    expect(n.apply(u!)).toEqual({ refused: expect.stringMatching(/partial update/) });
  });

  it('evicts candles past the retention, but not one changed moments ago (a resync correction still on its way to clients)', () => {
    const wallMs = 1_800_000_000_000;
    const view = new GroupedView(
      'k',
      singleView({ exchange: 'binance', symbol: 'BTCUSDT', priceScale: 2, quantityScale: 5, tick: 1 } as never).members,
      '1m',
      1,
      'nearest',
      () => wallMs,
      10 * 60_000,
    );
    const summary = (openTime: number) =>
      ({
        timeframe: '1m',
        openTime,
        step: 1,
        mode: 'nearest',
        open: 10,
        high: 10,
        low: 10,
        close: 10,
        buyVolume: 1,
        sellVolume: 0,
        buyTrades: 1,
        sellTrades: 0,
        delta: 1,
        maxDelta: 1,
        minDelta: 0,
        firstTimeUs: openTime * 1000,
        lastTimeUs: openTime * 1000,
        onGrid: true,
      }) as never;
    const replace = (openTime: number) =>
      ({
        kind: 'replace',
        openTime,
        summary: summary(openTime),
        levels: [{ price: 10, buyVolume: 1, sellVolume: 0, buyTrades: 1, sellTrades: 0 }],
      }) as NativeEvent;
    const t0 = BASE;
    for (const k of [0, 1, 30]) view.apply(0, replace(t0 + k * 60_000), undefined, null);
    // minutes 0 and 1 are 29-30 minutes older than the newest: past the retention, yet changed just now
    expect(view.evict(wallMs)).toEqual([]);
    expect(view.evict(wallMs + 10_000).sort()).toEqual([t0, t0 + 60_000]);
    // a correction of an evicted candle comes back and stays until its grace ends
    view.apply(0, replace(t0), undefined, null);
    expect(view.evict(wallMs + 1_000)).toEqual([]);
    expect(view.evict(wallMs + 6_000)).toEqual([t0]);
    expect(view.openTimes()).toEqual([t0 + 30 * 60_000]);
  });
});
