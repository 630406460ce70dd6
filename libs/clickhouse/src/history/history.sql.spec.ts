import { describe, expect, it } from 'vitest';
import {
  candlesSql,
  footprintCellsSql,
  groupSql,
  latestMinuteSql,
  rangeLevelsSql,
  tilingTimeframe,
  timeSlices,
} from './history.sql.js';

const m = { exchange: 'binance', symbol: 'BTCUSDT', priceFactor: 1, quantityFactor: 1 };

describe('history SQL', () => {
  it('groups as groupPrice does: identity at step 1, floor in down mode, half-to-even otherwise', () => {
    expect(groupSql('price', 1, 'nearest')).toBe('price');
    expect(groupSql('price', 10, 'down')).toBe('(price - price % toInt64(10))');
    expect(groupSql('p', 4, 'nearest')).toBe(
      'multiIf(2 * (p % toInt64(4)) < toInt64(4), (p - p % toInt64(4)), 2 * (p % toInt64(4)) > toInt64(4), (p - p % toInt64(4)) + toInt64(4), intDiv((p - p % toInt64(4)), toInt64(4)) % 2 = 0, (p - p % toInt64(4)), (p - p % toInt64(4)) + toInt64(4))',
    );
    expect(() => groupSql('p', 0, 'nearest')).toThrow(/step/);
    expect(() => groupSql('p', 1.5, 'nearest')).toThrow(/step/);
  });

  it('reads the view at one timeframe and bucket range, values quoted or checked', () => {
    const q = footprintCellsSql('orderflow', [m], '5m', Date.UTC(2024, 7, 8), Date.UTC(2024, 7, 9), 1, 'nearest');
    expect(q).toContain(
      "FROM orderflow.footprint\nWHERE exchange = 'binance' AND symbol = 'BTCUSDT' AND timeframe = '5m' AND bucket >= toDateTime(1723075200, 'UTC') AND bucket < toDateTime(1723161600, 'UTC')",
    );
    expect(q).toContain('ORDER BY bucket, price');
    // 1m: the 1m table's final rows (the view's 1m branch, faster on 18.16)
    const q1 = footprintCellsSql('orderflow', [m], '1m', Date.UTC(2024, 7, 8), Date.UTC(2024, 7, 9), 1, 'nearest');
    expect(q1).toContain(
      "FROM orderflow.footprint_1m FINAL\n        WHERE exchange = 'binance' AND symbol = 'BTCUSDT' AND minute >= toDateTime(1723075200, 'UTC') AND minute < toDateTime(1723161600, 'UTC')",
    );
    expect(q1).toMatch(/ORDER BY bucket, price$/);
    // 'natural': only the plain 1m read leaves the order to FINAL's merge (the reader checks it)
    const natural = footprintCellsSql(
      'orderflow',
      [m],
      '1m',
      Date.UTC(2024, 7, 8),
      Date.UTC(2024, 7, 9),
      1,
      'nearest',
      'natural',
    );
    expect(natural).toBe(q1.replace('\nORDER BY bucket, price', ''));
    expect(footprintCellsSql('orderflow', [m], '5m', 0, 300_000, 1, 'nearest', 'natural')).toContain(
      'ORDER BY bucket, price',
    );
    expect(footprintCellsSql('orderflow', [m], '1m', 0, 300_000, 10, 'nearest', 'natural')).toContain('ORDER BY b, p');
    expect(() => footprintCellsSql('orderflow', [m], '1m', 0, 300_000, 1, 'nearest', 'none' as never)).toThrow(
      /order must be sorted or natural/,
    );
    const merged = footprintCellsSql(
      'orderflow',
      [m, { exchange: 'bybit', symbol: 'BTCUSDT', priceFactor: 10, quantityFactor: 100 }],
      '5m',
      0,
      300_000,
      10,
      'down',
    );
    expect(merged).toContain('UNION ALL');
    expect(merged).toContain('price * toInt64(10)');
    expect(merged).toContain('buy_volume * toDecimal128(100, 0)');
    expect(merged).toContain('GROUP BY b, p\nORDER BY b, p');
  });

  it('refuses anything that could change the statement', () => {
    expect(() => footprintCellsSql('orderflow; DROP TABLE x', [m], '1m', 0, 60_000, 1, 'nearest')).toThrow(/database/);
    expect(() =>
      footprintCellsSql('orderflow', [{ ...m, symbol: "BTC' OR 1=1 --" }], '1m', 0, 60_000, 1, 'nearest'),
    ).toThrow(/symbol/);
    expect(() => footprintCellsSql('orderflow', [m], "1m' OR '1" as never, 0, 60_000, 1, 'nearest')).toThrow(
      /timeframe/,
    );
    expect(() => footprintCellsSql('orderflow', [m], '1m', 0.5, 60_000, 1, 'nearest')).toThrow(/from/);
    expect(() => footprintCellsSql('orderflow', [{ ...m, priceFactor: -1 }], '1m', 0, 60_000, 2, 'nearest')).toThrow(
      /price factor/,
    );
    expect(() =>
      candlesSql('db', { ...m, exchange: 'x y' }, '1m', 0, 60_000, { notional: true, complete: false }),
    ).toThrow(/exchange/);
    expect(latestMinuteSql('db', [m])).toBe(
      "SELECT toUInt32(max(minute)) FROM db.candles_1m WHERE (exchange = 'binance' AND symbol = 'BTCUSDT')",
    );
    expect(rangeLevelsSql('db', [m], '1d', 0, 86_400_000)).toContain("timeframe = '1d'");
  });

  it('range sums read the coarsest timeframe that tiles the range', () => {
    expect(tilingTimeframe(Date.UTC(2024, 7, 8), Date.UTC(2024, 7, 10))).toBe('1d');
    expect(tilingTimeframe(Date.UTC(2024, 7, 8, 4), Date.UTC(2024, 7, 8, 12))).toBe('4h');
    expect(tilingTimeframe(Date.UTC(2024, 7, 8, 23, 56), Date.UTC(2024, 7, 9, 0, 3))).toBe('1m');
    expect(() => tilingTimeframe(1, 60_000)).toThrow(/not aligned/);
  });

  it('timeSlices: consecutive slices of at most n candles, cut only on candle boundaries, covering the range exactly', () => {
    const H = 3_600_000;
    expect(timeSlices(0, 24 * H, 60_000, 360)).toEqual([
      [0, 6 * H],
      [6 * H, 12 * H],
      [12 * H, 18 * H],
      [18 * H, 24 * H],
    ]);
    expect(timeSlices(0, 60_000, 60_000, 360)).toEqual([[0, 60_000]]);
    expect(timeSlices(5, 5, 60_000, 360)).toEqual([[5, 5]]);
    // unbounded: one slice, left to the SQL builder to refuse; long: at most 8 slices
    expect(timeSlices(-Infinity, 60_000, 60_000, 360)).toEqual([[-Infinity, 60_000]]);
    expect(timeSlices(0, Date.UTC(2026, 0, 1), 60_000, 240)).toHaveLength(8);
    for (const [from, to, tf, n] of [
      [30_000, 24 * H + 7, 60_000, 360],
      [1, 10 * 86_400_000, 86_400_000, 3],
      [H / 2, 50 * H, 4 * H, 1],
      [0, 7 * 300_000 + 1, 300_000, 2],
    ] as const) {
      const s = timeSlices(from, to, tf, n);
      expect(s[0]![0]).toBe(from);
      expect(s.at(-1)![1]).toBe(to);
      for (let i = 0; i < s.length; i++) {
        const [a, b] = s[i]!;
        expect(b).toBeGreaterThan(a);
        expect(b - a).toBeLessThanOrEqual(Math.max(n * tf, Math.ceil((to - from) / 8 / tf) * tf));
        if (i > 0) expect(a).toBe(s[i - 1]![1]);
        if (i < s.length - 1) expect(b % tf).toBe(0);
      }
    }
  });
});
