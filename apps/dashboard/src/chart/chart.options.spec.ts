import { describe, expect, it } from 'vitest';
import type { StoreCandle } from '../store/footprint.store.js';
import {
  type ChartModel,
  ClosedLayer,
  buildChartOption,
  drawnRange,
  fitPriceRange,
  timeLabel,
} from './chart.options.js';
import { BitmapCache } from './footprint.painter.js';
import { quantize, zoomRange } from './footprint.chart.js';

const candle = (i: number, low: number, high: number, delta: number): StoreCandle => ({
  openTime: 1_723_161_240_000 + i * 60_000,
  open: low,
  high,
  low,
  close: high,
  buyVolume: Math.max(0, delta),
  sellVolume: Math.max(0, -delta),
  buyTrades: 1,
  sellTrades: 1,
  delta,
  maxDelta: 0,
  minDelta: 0,
  poc: low,
  vah: high,
  val: low,
  cells: [[low, 1, 1, 1, 1]],
  version: i + 1,
  complete: null,
});

function model(n: number, from: number, to: number): ChartModel {
  const candles = Array.from({ length: n }, (_, i) => candle(i, 100 + i, 110 + i, i % 2 ? 5 : -5));
  return {
    candles,
    view: {
      exchange: 'binance',
      symbol: 'BTCUSDT',
      timeframe: '1m',
      ticks: 1,
      mode: 'nearest',
      step: 1,
      scales: { priceScale: 2, quantityScale: 5, tick: 1 },
    },
    window: { from, to },
    yRange: fitPriceRange(candles, from, to, 1),
    paint: {
      mode: 'bidAsk',
      shadeBy: 'delta',
      ratio: '3',
      bigUnits: 0,
      quantityScale: 5,
      step: 1,
      grouping: 'nearest',
      scale: { maxAbsDelta: 1, maxVolume: 1 },
      dpr: 1,
    },
    paintKey: 'k',
    drawnKey: 'd',
    profile: null,
    profileMode: 'visible',
    developing: candles.map((c, i) => ({ index: i, poc: c.poc })),
    naked: [],
    zones: [],
    cvd: candles.map((c) => ({ delta: c.delta, cvd: 0 })),
    vwap: [],
  };
}

describe('chart options', () => {
  it('hands ECharts only the candles in view (and two either side), the open candle apart', () => {
    const m = model(300, 200, 279);
    expect(drawnRange(m)).toEqual([198, 281]);
    const o = buildChartOption(m, new BitmapCache(), new ClosedLayer());
    const series = o.series as { id: string; data: unknown[] }[];
    const byId = new Map(series.map((s) => [s.id, s]));
    expect(byId.get('footprint')!.data).toEqual([[198]]);
    expect(byId.get('delta')!.data).toHaveLength(84);
    expect(byId.get('dpoc')!.data).toHaveLength(84);
    expect((o.yAxis as { min?: number; max?: number }[])[0]).toMatchObject({ min: m.yRange.min, max: m.yRange.max });
    expect((o.dataZoom as { startValue: number; endValue: number }[])[0]).toMatchObject({
      startValue: 199.5,
      endValue: 279.5,
    });
  });

  it('fits prices to the candles in view with half a level and a margin, zooms around the middle', () => {
    const cs = [candle(0, 100, 110, 0), candle(1, 90, 105, 0), candle(2, 500, 600, 0)];
    const r = fitPriceRange(cs, 0, 1, 2);
    expect(r.min).toBeLessThan(90 - 1);
    expect(r.max).toBeGreaterThan(110 + 1);
    expect(r.max).toBeLessThan(200);
    expect(zoomRange({ min: 0, max: 100 }, 2, 10)).toEqual({ min: 35, max: 85 });
    expect(quantize(100)).toBeGreaterThanOrEqual(100);
    expect(quantize(100)).toBe(quantize(101));
    expect(timeLabel(model(3, 0, 2), 1)).toBe('23:55');
  });
});
