import type { InstrumentView } from '@orderflow/candle-views';
import type { HistoryReader, SqlMember, StoredCandle } from '@orderflow/clickhouse';
import { describe, expect, it } from 'vitest';
import { inViewUnits, viewSummaries } from './view-summaries.js';

const candle = (openTime: number, o: Partial<StoredCandle> = {}): StoredCandle => ({
  openTime,
  open: 100,
  high: 105,
  low: 99,
  close: 104,
  buyVolume: 7,
  sellVolume: 3,
  buyTrades: 2,
  sellTrades: 1,
  maxDelta: 5,
  minDelta: -1,
  firstTimeUs: null,
  lastTimeUs: null,
  notional: 1234n,
  complete: true,
  ...o,
});

describe('inViewUnits', () => {
  it('is the candle itself at factors 1, and scales prices, volumes, deltas and notional exactly otherwise', () => {
    const c = candle(60_000);
    expect(inViewUnits(c, { exchange: 'x', symbol: 'y', priceFactor: 1, quantityFactor: 1 })).toBe(c);
    expect(inViewUnits(c, { exchange: 'x', symbol: 'y', priceFactor: 10, quantityFactor: 1000 })).toEqual({
      ...c,
      open: 1000,
      high: 1050,
      low: 990,
      close: 1040,
      buyVolume: 7000,
      sellVolume: 3000,
      maxDelta: 5000,
      minDelta: -1000,
      notional: 12_340_000n,
    });
    expect(() =>
      inViewUnits(candle(0, { buyVolume: Number.MAX_SAFE_INTEGER }), {
        exchange: 'x',
        symbol: 'y',
        priceFactor: 1,
        quantityFactor: 10,
      }),
    ).toThrow(/volume .* exceeds 2\^53 - 1 units/);
  });
});

describe('viewSummaries', () => {
  it('sums a merged view’s members in its units: open of the earliest first trade, close of the latest last, notional summed, complete only if every member is', async () => {
    const stored: Record<string, StoredCandle[]> = {
      a: [
        candle(60_000, { firstTimeUs: 60_000_500, lastTimeUs: 60_009_000, open: 100, close: 101 }),
        candle(120_000, { firstTimeUs: 120_000_000, lastTimeUs: 120_001_000 }),
      ],
      b: [
        candle(60_000, {
          firstTimeUs: 60_000_100,
          lastTimeUs: 60_020_000,
          open: 10,
          close: 11,
          high: 12,
          low: 9,
          notional: 5n,
          complete: false,
        }),
      ],
    };
    const asked: { m: SqlMember; withTimes: boolean }[] = [];
    const reader = {
      summaries: async (m: SqlMember, _tf: string, _from: number, _to: number, _cols: unknown, withTimes: boolean) => {
        asked.push({ m, withTimes });
        return new Map(stored[m.symbol]!.map((c) => [c.openTime, c]));
      },
    } as unknown as HistoryReader;
    const view = {
      members: [
        { exchange: 'e1', symbol: 'a', priceFactor: 1, quantityFactor: 1 },
        { exchange: 'e2', symbol: 'b', priceFactor: 10, quantityFactor: 1 },
      ],
    } as unknown as InstrumentView;
    const got = await viewSummaries(reader, view, '1m', 0, 180_000, undefined, { notional: true, complete: true });
    expect(asked.map((a) => a.withTimes)).toEqual([true, true]);
    expect([...got.keys()]).toEqual([60_000, 120_000]);
    expect(got.get(60_000)).toMatchObject({
      open: 100,
      close: 110,
      high: 120,
      low: 90,
      buyVolume: 14,
      sellVolume: 6,
      buyTrades: 4,
      sellTrades: 2,
      maxDelta: null,
      minDelta: null,
      notional: 1234n + 50n,
      complete: false,
    });
    expect(got.get(120_000)).toMatchObject({ open: 100, close: 104, notional: 1234n, complete: true, maxDelta: 5 });
  });
});
