import { groupPrice } from '@orderflow/footprint';
import { describe, expect, it } from 'vitest';
import type { SnapshotMessage, UpdateMessage, WireCandle, WireCell } from '@orderflow/contracts';
import { FootprintStore, canRegroupExactly, candleMetrics, mergeCells, suggestTicks } from './footprint.store.js';

const SCALES = { priceScale: 2, quantityScale: 5, tick: 1 };

function summary(openTime: number, cells: WireCell[]): WireCandle {
  const prices = cells.map((c) => c[0]);
  const buy = cells.reduce((a, c) => a + c[1], 0);
  const sell = cells.reduce((a, c) => a + c[2], 0);
  const m = candleMetrics(
    [...cells].sort((a, b) => a[0] - b[0]),
    1,
    'nearest',
  );
  return {
    openTime,
    open: prices[0] ?? 0,
    high: Math.max(...prices),
    low: Math.min(...prices),
    close: prices[prices.length - 1] ?? 0,
    buyVolume: buy,
    sellVolume: sell,
    buyTrades: cells.reduce((a, c) => a + c[3], 0),
    sellTrades: cells.reduce((a, c) => a + c[4], 0),
    delta: buy - sell,
    maxDelta: null,
    minDelta: null,
    ...m,
  };
}

function snapshot(candles: [number, WireCell[]][], o: Partial<SnapshotMessage> = {}): SnapshotMessage {
  return {
    subscriptionId: 's1',
    seq: 0,
    epoch: 'e1',
    exchange: 'binance',
    symbol: 'BTCUSDT',
    timeframe: '1m',
    ticks: 1,
    mode: 'nearest',
    step: 1,
    scales: SCALES,
    members: [{ exchange: 'binance', symbol: 'BTCUSDT' }],
    live: true,
    history: true,
    candles: candles.map(([t, cells]) => ({ ...summary(t, cells), cells })),
    session: null,
    sentAtMs: 0,
    ...o,
  };
}

function update(
  seq: number,
  openTime: number,
  cells: WireCell[],
  all: WireCell[],
  o: Partial<UpdateMessage> = {},
): UpdateMessage {
  return {
    subscriptionId: 's1',
    seq,
    epoch: 'e1',
    candle: summary(openTime, all),
    cells,
    replace: false,
    session: null,
    lastTradeUs: null,
    sourceSentAtMs: null,
    sentAtMs: 0,
    ...o,
  };
}

const lines = (s: FootprintStore) => s.candles.flatMap((c) => c.cells.map((x) => `${c.openTime} ${x.join(' ')}`));

describe('FootprintStore', () => {
  it('applies a snapshot, then updates exactly (cells replaced by price, new candles appended, late ones inserted)', () => {
    const s = new FootprintStore();
    s.applySnapshot(
      snapshot([
        [
          60_000,
          [
            [101, 5, 0, 1, 0],
            [100, 0, 7, 0, 2],
          ],
        ],
      ]),
    );
    expect(lines(s)).toEqual(['60000 100 0 7 0 2', '60000 101 5 0 1 0']);
    // full values replace (never increments); a new price is added in order
    expect(
      s.applyUpdate(
        update(
          1,
          60_000,
          [
            [100, 3, 7, 1, 2],
            [99, 1, 0, 1, 0],
          ],
          [
            [99, 1, 0, 1, 0],
            [100, 3, 7, 1, 2],
            [101, 5, 0, 1, 0],
          ],
        ),
      ),
    ).toBe('applied');
    expect(lines(s)).toEqual(['60000 99 1 0 1 0', '60000 100 3 7 1 2', '60000 101 5 0 1 0']);
    expect(s.candles[0]!.buyVolume).toBe(9);
    // a new candle
    expect(s.applyUpdate(update(2, 180_000, [[102, 1, 1, 1, 1]], [[102, 1, 1, 1, 1]]))).toBe('applied');
    // a late correction of an older candle that the client did not hold: inserted in order
    expect(s.applyUpdate(update(3, 120_000, [[104, 2, 0, 1, 0]], [[104, 2, 0, 1, 0]], { replace: true }))).toBe(
      'applied',
    );
    expect(s.candles.map((c) => c.openTime)).toEqual([60_000, 120_000, 180_000]);
    // replace: the cells become exactly those sent
    s.applyUpdate(update(4, 60_000, [[100, 1, 1, 1, 1]], [[100, 1, 1, 1, 1]], { replace: true }));
    expect(lines(s).filter((l) => l.startsWith('60000'))).toEqual(['60000 100 1 1 1 1']);
    expect(s.seq).toBe(4);
    expect(s.updates).toBe(4);
  });

  it('gives every changed candle a new version and keeps unchanged candles as they were', () => {
    const s = new FootprintStore();
    s.applySnapshot(
      snapshot([
        [0, [[1, 1, 0, 1, 0]]],
        [60_000, [[1, 1, 0, 1, 0]]],
      ]),
    );
    const [a, b] = s.candles;
    s.applyUpdate(
      update(
        1,
        60_000,
        [[2, 1, 0, 1, 0]],
        [
          [1, 1, 0, 1, 0],
          [2, 1, 0, 1, 0],
        ],
      ),
    );
    expect(s.candles[0]).toBe(a);
    expect(s.candles[1]).not.toBe(b);
    expect(s.candles[1]!.version).toBeGreaterThan(b!.version);
  });

  it('asks for a re-snapshot on a seq jump or another epoch, and ignores repeats and other subscriptions', () => {
    const s = new FootprintStore();
    s.applySnapshot(snapshot([[0, [[1, 1, 0, 1, 0]]]]));
    expect(s.applyUpdate(update(1, 0, [], [[1, 1, 0, 1, 0]]))).toBe('applied');
    expect(s.applyUpdate(update(1, 0, [], [[1, 1, 0, 1, 0]]))).toBe('stale');
    expect(s.applyUpdate(update(2, 0, [], [[1, 1, 0, 1, 0]], { subscriptionId: 's9' }))).toBe('other');
    expect(s.applyUpdate(update(3, 0, [], [[1, 1, 0, 1, 0]]))).toBe('resync');
    expect(s.applyUpdate(update(2, 0, [], [[1, 1, 0, 1, 0]], { epoch: 'e2' }))).toBe('resync');
    expect(
      s.applyBatch([
        update(2, 0, [], [[1, 1, 0, 1, 0]]),
        update(4, 0, [], [[1, 1, 0, 1, 0]]),
        update(5, 0, [], [[1, 1, 0, 1, 0]]),
      ]),
    ).toEqual({ applied: 1, resync: true });
  });

  it('keeps at most maxCandles, dropping the oldest', () => {
    const s = new FootprintStore(2);
    s.applySnapshot(
      snapshot([
        [0, [[1, 1, 0, 1, 0]]],
        [60_000, [[1, 1, 0, 1, 0]]],
      ]),
    );
    s.applyUpdate(update(1, 120_000, [[1, 1, 0, 1, 0]], [[1, 1, 0, 1, 0]]));
    expect(s.candles.map((c) => c.openTime)).toEqual([60_000, 120_000]);
    expect(s.candle(0)).toBeUndefined();
  });

  it('re-groups native cells exactly (equal to grouping the same trades directly), and refuses what does not compose', () => {
    const cells: WireCell[] = [];
    for (let p = 1000; p < 1060; p++) cells.push([p, (p * 7) % 13, (p * 5) % 11, 1, 1]);
    const s = new FootprintStore();
    s.applySnapshot(snapshot([[0, cells]]));
    expect(s.regroup(10)).toBe(true);
    const direct = new Map<number, number[]>();
    for (const c of cells) {
      const g = groupPrice(c[0], 10, 'nearest');
      const d = direct.get(g) ?? [0, 0, 0, 0];
      for (let k = 0; k < 4; k++) d[k]! += c[k + 1]!;
      direct.set(g, d);
    }
    expect(s.candles[0]!.cells).toEqual([...direct].sort((a, b) => a[0] - b[0]).map(([p, d]) => [p, ...d]));
    expect(s.view!.step).toBe(10);
    expect(s.candles[0]!.poc).toBe(candleMetrics(s.candles[0]!.cells, 10, 'nearest').poc);
    // nearest-grouped cells cannot be grouped again exactly
    expect(s.regroup(20)).toBe(false);
    expect(canRegroupExactly(1, 7, 'nearest')).toBe(true);
    expect(canRegroupExactly(10, 20, 'nearest')).toBe(false);
    expect(canRegroupExactly(10, 20, 'down')).toBe(true);
    expect(canRegroupExactly(10, 25, 'down')).toBe(false);
  });

  it('merges cells by price and suggests a grouping from the candles', () => {
    expect(
      mergeCells(
        [
          [1, 1, 1, 1, 1],
          [3, 1, 1, 1, 1],
        ],
        [
          [2, 2, 2, 2, 2],
          [3, 9, 9, 9, 9],
        ],
      ),
    ).toEqual([
      [1, 1, 1, 1, 1],
      [2, 2, 2, 2, 2],
      [3, 9, 9, 9, 9],
    ]);
    // BTC at tick 0.01 moving ~$50 a minute: 5000 ticks / 24 levels -> 208.3 -> 500
    expect(suggestTicks([{ high: 6_005_000, low: 6_000_000 }], 1)).toBe(500);
    expect(suggestTicks([{ high: 110, low: 100 }], 1)).toBe(1);
    expect(suggestTicks([], 1)).toBe(1);
  });
});
