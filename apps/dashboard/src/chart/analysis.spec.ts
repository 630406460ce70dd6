import { developingProfile, imbalances, nakedPocs } from '@orderflow/footprint';
import { describe, expect, it } from 'vitest';
import type { WireCell } from '@orderflow/contracts';
import { type StoreCandle, asCandleLike, candleMetrics } from '../store/footprint.store.js';
import {
  DevelopingPoc,
  bigCells,
  candleImbalances,
  cvdSeries,
  nakedPocLines,
  rangeProfile,
  stackedZones,
} from './analysis.js';

let v = 0;
function candle(openTime: number, cells: WireCell[]): StoreCandle {
  const prices = cells.map((c) => c[0]);
  const buy = cells.reduce((a, c) => a + c[1], 0);
  const sell = cells.reduce((a, c) => a + c[2], 0);
  return {
    openTime,
    open: prices[0]!,
    high: Math.max(...prices),
    low: Math.min(...prices),
    close: prices.at(-1)!,
    buyVolume: buy,
    sellVolume: sell,
    buyTrades: 1,
    sellTrades: 1,
    delta: buy - sell,
    maxDelta: 0,
    minDelta: 0,
    ...candleMetrics(cells, 1, 'nearest'),
    cells,
    version: ++v,
    complete: null,
  };
}

/** A pseudo-random market of `n` one-minute candles (deterministic). */
function market(n: number): StoreCandle[] {
  let s = 7;
  const r = () => ((s = (s * 1103515245 + 12345) % 2147483648), s / 2147483648);
  const out: StoreCandle[] = [];
  let mid = 1000;
  for (let i = 0; i < n; i++) {
    mid += Math.round((r() - 0.5) * 6);
    const cells: WireCell[] = [];
    for (let p = mid - 3 - Math.floor(r() * 3); p <= mid + 3; p++)
      cells.push([p, Math.floor(r() * 20), Math.floor(r() * 20), 1, 1]);
    out.push(
      candle(
        i * 60_000 + 1_700_000_000_000 - (1_700_000_000_000 % 86_400_000),
        cells.filter((c) => c[1] + c[2] > 0),
      ),
    );
  }
  return out;
}

const like = (cs: StoreCandle[]) => cs.map((c) => asCandleLike(c.cells, 1, 'nearest', c));

describe('analysis', () => {
  const cs = market(120);

  it('the incremental developing POC equals the engine over the whole range, after live changes too', () => {
    const d = new DevelopingPoc();
    const engine = () => developingProfile(like(cs)).map((p) => p.poc);
    expect(d.compute(cs, 1).map((p) => p.poc)).toEqual(engine());
    // the newest candle trades (a new object), then a new candle opens
    cs[cs.length - 1] = candle(cs.at(-1)!.openTime, [...cs.at(-1)!.cells, [cs.at(-1)!.high + 1, 500, 0, 1, 0]]);
    expect(d.compute(cs, 1).map((p) => p.poc)).toEqual(engine());
    cs.push(candle(cs.at(-1)!.openTime + 60_000, [[990, 1, 1, 1, 1]]));
    expect(d.compute(cs, 1).map((p) => p.poc)).toEqual(engine());
  });

  it("naked POCs and imbalances are the engine's", () => {
    expect(nakedPocLines(cs, 1, 'nearest').map((x) => [cs[x.index]!.openTime, x.poc])).toEqual(
      nakedPocs(like(cs))
        .filter((x) => x.openTime !== cs.at(-1)!.openTime)
        .map((x) => [x.openTime, x.poc]),
    );
    for (const c of cs.slice(0, 20)) {
      const e = imbalances(asCandleLike(c.cells, 1, 'nearest', c), { ratio: '2.5' });
      const mine = candleImbalances(c, 1, 'nearest', '2.5');
      expect([...mine.buy].sort()).toEqual(
        e.imbalances
          .filter((i) => i.side === 'buy')
          .map((i) => i.price)
          .sort(),
      );
      expect([...mine.sell].sort()).toEqual(
        e.imbalances
          .filter((i) => i.side === 'sell')
          .map((i) => i.price)
          .sort(),
      );
      expect(mine.stacked).toEqual(e.stacked);
    }
  });

  it('stacked zones end where a later candle trades through them', () => {
    const a = candle(0, [
      [10, 9, 0, 1, 0],
      [11, 9, 0, 1, 0],
      [12, 9, 0, 1, 0],
    ]);
    const b = candle(60_000, [[20, 1, 1, 1, 1]]);
    const c = candle(120_000, [
      [9, 1, 1, 1, 1],
      [13, 1, 1, 1, 1],
    ]);
    const zones = stackedZones([a, b, c], 1, 'nearest', '3', 0, 2);
    expect(zones).toEqual([{ index: 0, until: 2, zone: { side: 'buy', low: 10, high: 12, count: 3 } }]);
  });

  it('profile, CVD and big cells', () => {
    const r = rangeProfile(cs.slice(0, 10), 1, 'nearest')!;
    expect(r.profile.volume).toBe(cs.slice(0, 10).reduce((a, c) => a + c.buyVolume + c.sellVolume, 0));
    expect(r.metrics.poc).not.toBeNull();
    const cvd = cvdSeries(cs.slice(0, 3));
    expect(cvd.map((p) => p.cvd)).toEqual([
      cs[0]!.delta,
      cs[0]!.delta + cs[1]!.delta,
      cs[0]!.delta + cs[1]!.delta + cs[2]!.delta,
    ]);
    expect(
      bigCells(
        [
          [1, 5, 5, 1, 1],
          [2, 1, 1, 1, 1],
        ],
        10,
      ),
    ).toEqual([[1, 5, 5, 1, 1]]);
    expect(bigCells([[1, 5, 5, 1, 1]], 0)).toEqual([]);
  });
});
