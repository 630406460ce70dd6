import type { BarSeriesOption, CustomSeriesOption, LineSeriesOption } from 'echarts/charts';
import type { DataZoomComponentOption, GridComponentOption, TooltipComponentOption } from 'echarts/components';
import type { CustomSeriesRenderItem, CustomSeriesRenderItemReturn } from 'echarts';
import type { ComposeOption } from 'echarts/core';
import type { StoreCandle, StoreView } from '../store/footprint.store.js';
import type { CvdPoint, DevelopingPoint, NakedPocLine, ProfileResult, ZoneLine } from './analysis.js';
import { type BitmapCache, type PaintGeometry, type PaintSettings, paintCandleAt } from './footprint.painter.js';

export type ChartOption = ComposeOption<
  | CustomSeriesOption
  | LineSeriesOption
  | BarSeriesOption
  | GridComponentOption
  | DataZoomComponentOption
  | TooltipComponentOption
>;

export type ProfileMode = 'visible' | 'session' | 'fixed';

/** Everything the chart shows, computed beforehand (pure data: the option builder only lays it out). */
export interface ChartModel {
  candles: readonly StoreCandle[];
  view: StoreView;
  /** Candle indices in view (inclusive). */
  window: { from: number; to: number };
  /** Price range of the footprint grid (price units). */
  yRange: { min: number; max: number };
  paint: PaintSettings;
  /** Changes whenever painting would differ for the same candle and geometry. */
  paintKey: string;
  /** Changes whenever the closed candles' layer would differ (range, scale, paint settings, closed candles). */
  drawnKey: string;
  profile: ProfileResult | null;
  profileMode: ProfileMode;
  developing: DevelopingPoint[];
  naked: NakedPocLine[];
  zones: ZoneLine[];
  cvd: CvdPoint[];
  /** VWAP and sigma in price units (floats: drawing only), by candle index. */
  vwap: { index: number; vwap: number; sd: number }[];
}

/** Layout of the three stacked grids, in percent of the chart's height. */
export const GRIDS = {
  footprint: { top: 8, height: 62 },
  delta: { top: 73, height: 10 },
  cvd: { top: 85, height: 9 },
} as const;
const LEFT = 8;
const RIGHT = 78;

const EXTRA = 2;

/** Candle indices drawn: the window and a couple more on each side (nothing else is drawn). */
export function drawnRange(m: ChartModel): [number, number] {
  return [
    Math.max(0, Math.floor(m.window.from) - EXTRA),
    Math.min(m.candles.length - 1, Math.ceil(m.window.to) + EXTRA),
  ];
}

export function pow10(n: number): number {
  return 10 ** n;
}

/** UTC time label of a candle index. */
export function timeLabel(m: ChartModel, v: number): string {
  const c = m.candles[Math.round(v)];
  if (!c) return '';
  const d = new Date(c.openTime);
  const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  return m.view.timeframe === '1d' ? d.toISOString().slice(0, 10) : hm;
}

export type CoordSys = { x: number; y: number; width: number; height: number };

export const renderCounts = { footprint: 0, composites: 0 };

/**
 * Where candle i goes (clipped to the grid vertically); null when it is out of view. `xc`: the candle's centre, `colW`:
 * one candle's width (pixels).
 */
export function candleBox(
  m: ChartModel,
  cs: CoordSys,
  i: number,
  xc: number,
  colW: number,
): { geometry: PaintGeometry; left: number; top: number; w: number; h: number } | null {
  const c = m.candles[i];
  if (!c) return null;
  const step = m.view.step;
  const pxPerUnit = cs.height / (m.yRange.max - m.yRange.min);
  const yOf = (price: number) => cs.y + (m.yRange.max - price) * pxPerUnit;
  const top = Math.floor(Math.max(cs.y, yOf(c.high + step / 2)));
  const bottom = Math.ceil(Math.min(cs.y + cs.height, yOf(c.low - step / 2)));
  if (bottom <= top) return null;
  const w = Math.max(2, Math.floor(colW * 0.9));
  const left = Math.round(xc - w / 2);
  if (left + w < cs.x || left > cs.x + cs.width) return null;
  const topPrice = m.yRange.max - (top - cs.y) / pxPerUnit;
  return { geometry: { width: w, height: bottom - top, pxPerUnit, topPrice }, left, top, w, h: bottom - top };
}

/** Candle i's bitmap (cached) and where it goes; null when it is out of view. */
export function placeCandle(
  m: ChartModel,
  cache: BitmapCache,
  cs: CoordSys,
  i: number,
  xc: number,
  colW: number,
): { canvas: HTMLCanvasElement; left: number; top: number; w: number; h: number } | null {
  const b = candleBox(m, cs, i, xc, colW);
  if (!b) return null;
  return {
    canvas: cache.get(m.candles[i]!, b.geometry, m.paint, m.paintKey),
    left: b.left,
    top: b.top,
    w: b.w,
    h: b.h,
  };
}

/** Candles narrower than this (pixels) are painted straight into the closed layer, not cached one by one. */
export const DIRECT_PAINT_WIDTH = 16;

/**
 * The closed candles: each candle's cells are drawn as one bitmap (cached by the candle's version
 * and geometry), and the drawn candles' bitmaps are composed into one layer, a single item. A live
 * frame (only the open candle changed) hands ECharts the same layer again: no per-candle work.
 */
export class ClosedLayer {
  private key = '';
  /** The footprint grid's rectangle at the last render (for the open candle's element). */
  coordSys: CoordSys | null = null;
  private canvas: HTMLCanvasElement | null = null;

  renderer(m: ChartModel, cache: BitmapCache, from: number, to: number): CustomSeriesRenderItem {
    return (params, api) => {
      const cs = params.coordSys as unknown as CoordSys;
      this.coordSys = { x: cs.x, y: cs.y, width: cs.width, height: cs.height };
      const dpr = m.paint.dpr;
      const colW = (api.size!([1, 0]) as number[])[0]!;
      const key = `${cs.x},${cs.y},${cs.width},${cs.height}|${m.drawnKey}|${from}|${to}`;
      if (key !== this.key || !this.canvas) {
        renderCounts.composites++;
        // a new canvas each time: zrender repaints an image element when its image changes
        const canvas = document.createElement('canvas');
        canvas.width = Math.ceil(cs.width * dpr);
        canvas.height = Math.ceil(cs.height * dpr);
        const ctx = canvas.getContext('2d')!;
        const direct = colW * 0.9 < DIRECT_PAINT_WIDTH;
        for (let i = from; i <= to; i++) {
          renderCounts.footprint++;
          const xc = (api.coord([i, m.yRange.min]) as number[])[0]!;
          if (direct) {
            const b = candleBox(m, cs, i, xc, colW);
            if (!b) continue;
            ctx.setTransform(dpr, 0, 0, dpr, (b.left - cs.x) * dpr, (b.top - cs.y) * dpr);
            paintCandleAt(m.candles[i]!, b.geometry, m.paint, ctx);
            continue;
          }
          const p = placeCandle(m, cache, cs, i, xc, colW);
          if (p) {
            ctx.setTransform(1, 0, 0, 1, 0, 0);
            ctx.drawImage(p.canvas, Math.round((p.left - cs.x) * dpr), Math.round((p.top - cs.y) * dpr));
          }
        }
        this.canvas = canvas;
        this.key = key;
      }
      return {
        type: 'image',
        silent: true,
        style: { image: this.canvas, x: cs.x, y: cs.y, width: cs.width, height: cs.height },
      };
    };
  }
}

/** The volume profile at the right edge of the footprint grid: buy/sell split, POC, VAH/VAL, HVN/LVN. */
export function profileRenderer(m: ChartModel): CustomSeriesRenderItem {
  return (params, api) => {
    const r = m.profile;
    if (!r) return null as unknown as CustomSeriesRenderItemReturn;
    const cs = params.coordSys as unknown as CoordSys;
    const step = r.profile.step;
    const pxPerUnit = cs.height / (m.yRange.max - m.yRange.min);
    const yOf = (price: number) => cs.y + (m.yRange.max - price) * pxPerUnit;
    const width = Math.min(170, cs.width * 0.22);
    const right = cs.x + cs.width;
    const h = Math.max(1, step * pxPerUnit - (step * pxPerUnit >= 4 ? 1 : 0));
    let max = 1;
    for (const l of r.profile.levels) if (l.volume > max) max = l.volume;
    const children: Exclude<CustomSeriesRenderItemReturn, undefined>[] = [];
    const inView = (p: number) => p + step / 2 >= m.yRange.min && p - step / 2 <= m.yRange.max;
    // the bars and zones as one bitmap (one element, however many levels)
    const dpr = m.paint.dpr;
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(width * dpr);
    canvas.height = Math.ceil(cs.height * dpr);
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, -cs.y * dpr);
    ctx.fillStyle = 'rgba(120,144,255,0.10)';
    for (const z of r.metrics.hvnZones)
      if (inView(z.low) || inView(z.high))
        ctx.fillRect(0, yOf(z.high + step / 2), width, (z.high - z.low + step) * pxPerUnit);
    ctx.fillStyle = 'rgba(255,255,255,0.04)';
    for (const z of r.metrics.lvnZones)
      if (inView(z.low) || inView(z.high))
        ctx.fillRect(0, yOf(z.high + step / 2), width, (z.high - z.low + step) * pxPerUnit);
    for (const l of r.profile.levels) {
      if (l.volume === 0 || !inView(l.price)) continue;
      const y = yOf(l.price + step / 2);
      const len = (l.volume / max) * width;
      const sellLen = (l.sellVolume / max) * width;
      const isPoc = l.price === r.metrics.poc;
      const inVa =
        r.metrics.valueAreaLow !== null && l.price >= r.metrics.valueAreaLow && l.price <= r.metrics.valueAreaHigh!;
      const a = inVa ? 0.75 : 0.4;
      ctx.fillStyle = isPoc ? '#ffd54f' : `rgba(239,83,80,${a})`;
      ctx.fillRect(width - len, y, sellLen, h);
      ctx.fillStyle = isPoc ? '#ffca28' : `rgba(38,166,154,${a})`;
      ctx.fillRect(width - len + sellLen, y, len - sellLen, h);
    }
    children.push({
      type: 'image',
      silent: true,
      style: { image: canvas, x: right - width, y: cs.y, width, height: cs.height },
    });
    const line = (price: number | null, color: string, dash: number[] | null, label: string) => {
      if (price === null || !inView(price)) return;
      const y = yOf(price);
      children.push({
        type: 'line',
        silent: true,
        shape: { x1: cs.x, y1: y, x2: right, y2: y },
        style: { stroke: color, lineWidth: 1, lineDash: dash ?? undefined },
      });
      children.push({
        type: 'text',
        silent: true,
        style: {
          x: right - 2,
          y: y - 2,
          text: label,
          fill: color,
          font: '10px sans-serif',
          align: 'right',
          verticalAlign: 'bottom',
        },
      });
    };
    const tag = m.profileMode === 'visible' ? 'VR' : m.profileMode === 'session' ? 'S' : 'FR';
    line(r.metrics.poc, '#ffd54f', null, `${tag} POC`);
    line(r.metrics.valueAreaHigh, '#9fa8da', [4, 4], `${tag} VAH`);
    line(r.metrics.valueAreaLow, '#9fa8da', [4, 4], `${tag} VAL`);
    void api;
    return { type: 'group', children } as CustomSeriesRenderItemReturn;
  };
}

/** Naked POCs: a dashed line from their candle to the right edge. */
export function nakedPocRenderer(m: ChartModel): CustomSeriesRenderItem {
  return (params, api) => {
    const cs = params.coordSys as unknown as CoordSys;
    const i = api.value(0) as number;
    const poc = api.value(1) as number;
    const [x, y] = api.coord([i, poc]) as [number, number];
    if (y < cs.y || y > cs.y + cs.height) return null as unknown as CustomSeriesRenderItemReturn;
    void m;
    return {
      type: 'line',
      silent: true,
      shape: { x1: Math.max(cs.x, x), y1: y, x2: cs.x + cs.width, y2: y },
      style: { stroke: 'rgba(255,213,79,0.7)', lineWidth: 1, lineDash: [2, 3] },
    };
  };
}

/** Stacked imbalance zones from their candle until a later candle trades through them. */
export function zoneRenderer(m: ChartModel): CustomSeriesRenderItem {
  return (params, api) => {
    const cs = params.coordSys as unknown as CoordSys;
    const step = m.view.step;
    const from = api.value(0) as number;
    const until = api.value(1) as number;
    const low = api.value(2) as number;
    const high = api.value(3) as number;
    const buy = api.value(4) === 1;
    const [x1, y1] = api.coord([from, high + step / 2]) as [number, number];
    const [x2, y2] = api.coord([until, low - step / 2]) as [number, number];
    const left = Math.max(cs.x, x1);
    const right = Math.min(cs.x + cs.width, x2);
    if (right <= left) return null as unknown as CustomSeriesRenderItemReturn;
    return {
      type: 'rect',
      silent: true,
      shape: { x: left, y: y1, width: right - left, height: y2 - y1 },
      style: {
        fill: buy ? 'rgba(0,230,160,0.10)' : 'rgba(255,77,94,0.10)',
        stroke: buy ? 'rgba(0,230,160,0.5)' : 'rgba(255,77,94,0.5)',
        lineWidth: 1,
      },
    };
  };
}

/**
 * The whole option. Only the drawn candles are given to the series (the rest of history costs
 * nothing per frame); the axes' ranges are set here, not derived by ECharts, so that nothing but
 * the footprint decides the price scale (VWAP bands may run off it).
 */
export function buildChartOption(m: ChartModel, cache: BitmapCache, layer: ClosedLayer): ChartOption {
  const [a, b] = drawnRange(m);
  const n = m.candles.length;
  const ps = m.view.scales.priceScale;
  const qs = m.view.scales.quantityScale;
  const q = pow10(qs);
  const idx: number[] = [];
  for (let i = a; i <= b; i++) idx.push(i);
  const xBase = {
    type: 'value' as const,
    zlevel: 1,
    min: -0.5,
    max: Math.max(0.5, n - 0.5),
    splitLine: { show: false },
    axisLine: { lineStyle: { color: '#3a4150' } },
    axisTick: { show: false },
  };
  const priceLabel = (v: number) => (v / pow10(ps)).toFixed(ps);
  const grid = (g: { top: number; height: number }) => ({
    left: `${LEFT}px`,
    right: `${RIGHT}px`,
    top: `${g.top}%`,
    height: `${g.height}%`,
  });
  const vwapLine = (name: string, k: number, opacity: number): LineSeriesOption => ({
    id: name,
    type: 'line',
    zlevel: 1,
    xAxisIndex: 0,
    yAxisIndex: 0,
    showSymbol: false,
    silent: true,
    animation: false,
    lineStyle: { width: k === 0 ? 1.5 : 1, color: '#ba68c8', opacity, type: k === 0 ? 'solid' : 'dashed' },
    data: m.vwap.filter((p) => p.index >= a && p.index <= b).map((p) => [p.index, p.vwap + k * p.sd]),
  });
  const band = [1, 2, 3].flatMap((k) => [
    vwapLine(`vwap+${k}`, k, 0.55 - k * 0.1),
    vwapLine(`vwap-${k}`, -k, 0.55 - k * 0.1),
  ]);
  return {
    animation: false,
    backgroundColor: '#131722',
    textStyle: { color: '#aab2c0' },
    grid: [grid(GRIDS.footprint), grid(GRIDS.delta), grid(GRIDS.cvd)],
    xAxis: [
      { ...xBase, gridIndex: 0, axisLabel: { show: false } },
      { ...xBase, gridIndex: 1, axisLabel: { show: false } },
      { ...xBase, gridIndex: 2, axisLabel: { color: '#8a93a6', formatter: (v: number) => timeLabel(m, v) } },
    ],
    yAxis: [
      {
        type: 'value',
        gridIndex: 0,
        zlevel: 1,
        position: 'right',
        axisLine: { onZero: false },
        min: m.yRange.min,
        max: m.yRange.max,
        splitLine: { lineStyle: { color: '#1f2533' } },
        axisLabel: { color: '#8a93a6', formatter: priceLabel },
        axisPointer: { label: { formatter: (p: { value: unknown }) => priceLabel(Number(p.value)) } },
      },
      {
        type: 'value',
        gridIndex: 1,
        zlevel: 1,
        position: 'right',
        axisLine: { onZero: false },
        scale: true,
        splitNumber: 2,
        splitLine: { show: false },
        axisLabel: { color: '#8a93a6', fontSize: 9 },
        name: 'Δ',
        nameTextStyle: { color: '#8a93a6' },
      },
      {
        type: 'value',
        gridIndex: 2,
        zlevel: 1,
        position: 'right',
        axisLine: { onZero: false },
        scale: true,
        splitNumber: 2,
        splitLine: { show: false },
        axisLabel: { color: '#8a93a6', fontSize: 9 },
        name: 'CVD',
        nameTextStyle: { color: '#8a93a6' },
      },
    ],
    axisPointer: { link: [{ xAxisIndex: 'all' }], lineStyle: { color: '#5d6577', type: 'dashed' } },
    tooltip: {
      trigger: 'axis',
      showContent: false,
      axisPointer: {
        type: 'cross',
        label: {
          backgroundColor: '#2a3142',
          formatter: (p: { value: unknown; axisDimension: string }) =>
            p.axisDimension === 'x' ? timeLabel(m, Number(p.value)) : String(p.value),
        },
      },
    },
    dataZoom: [
      {
        type: 'inside',
        id: 'zx',
        xAxisIndex: [0, 1, 2],
        filterMode: 'none',
        startValue: m.window.from - 0.5,
        endValue: m.window.to + 0.5,
        zoomOnMouseWheel: true,
        moveOnMouseMove: true,
      },
      {
        type: 'slider',
        id: 'sx',
        zlevel: 1,
        showDataShadow: false,
        xAxisIndex: [0, 1, 2],
        filterMode: 'none',
        bottom: 4,
        height: 16,
        borderColor: '#2a3142',
        textStyle: { color: '#8a93a6' },
        labelFormatter: (v: number) => timeLabel(m, v),
        startValue: m.window.from - 0.5,
        endValue: m.window.to + 0.5,
      },
    ],
    series: [
      {
        id: 'zones',
        type: 'custom',
        zlevel: 1,
        xAxisIndex: 0,
        yAxisIndex: 0,
        silent: true,
        clip: true,
        renderItem: zoneRenderer(m),
        data: m.zones
          .filter((z) => z.until >= a && z.index <= b)
          .map((z) => [z.index, z.until, z.zone.low, z.zone.high, z.zone.side === 'buy' ? 1 : 0]),
      },
      // closed candles: one composed bitmap, alone on zlevel 0 (its own canvas); the open candle is
      // an image element of FootprintChart's on zlevel 2; everything else on zlevel 1
      {
        id: 'footprint',
        type: 'custom',
        xAxisIndex: 0,
        yAxisIndex: 0,
        silent: true,
        clip: true,
        renderItem: layer.renderer(m, cache, a, Math.min(b, n - 2)),
        data: a <= Math.min(b, n - 2) ? [[a]] : [],
        encode: { x: 0 },
      },
      {
        id: 'naked',
        type: 'custom',
        zlevel: 1,
        xAxisIndex: 0,
        yAxisIndex: 0,
        silent: true,
        clip: true,
        renderItem: nakedPocRenderer(m),
        data: m.naked.map((x) => [x.index, x.poc]),
      },
      {
        id: 'profile',
        type: 'custom',
        zlevel: 1,
        xAxisIndex: 0,
        yAxisIndex: 0,
        silent: true,
        clip: true,
        renderItem: profileRenderer(m),
        data: m.profile ? [[0]] : [],
      },
      {
        id: 'dpoc',
        type: 'line',
        zlevel: 1,
        xAxisIndex: 0,
        yAxisIndex: 0,
        step: 'middle',
        showSymbol: false,
        silent: true,
        lineStyle: { color: '#ff9800', width: 1.5 },
        data: m.developing.filter((p) => p.index >= a && p.index <= b && p.poc !== null).map((p) => [p.index, p.poc!]),
      },
      vwapLine('vwap', 0, 0.9),
      ...band,
      {
        id: 'delta',
        type: 'bar',
        zlevel: 1,
        xAxisIndex: 1,
        yAxisIndex: 1,
        silent: true,
        barWidth: '70%',
        itemStyle: { color: (p: { value: unknown }) => ((p.value as number[])[1]! >= 0 ? '#26a69a' : '#ef5350') },
        data: idx.map((i) => [i, m.cvd[i]!.delta / q]),
      },
      {
        id: 'cvd',
        type: 'line',
        zlevel: 1,
        xAxisIndex: 2,
        yAxisIndex: 2,
        showSymbol: false,
        silent: true,
        lineStyle: { color: '#4fc3f7', width: 1.5 },
        data: idx.map((i) => [i, m.cvd[i]!.cvd / q]),
      },
    ],
  } satisfies ChartOption;
}

/** The price range of the footprint grid: the drawn candles' range plus half a level and a margin. */
export function fitPriceRange(
  candles: readonly StoreCandle[],
  from: number,
  to: number,
  step: number,
): { min: number; max: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = Math.max(0, Math.floor(from)); i <= Math.min(candles.length - 1, Math.ceil(to)); i++) {
    const c = candles[i]!;
    if (c.low < lo) lo = c.low;
    if (c.high > hi) hi = c.high;
  }
  if (!Number.isFinite(lo)) return { min: 0, max: 1 };
  const pad = Math.max(step, (hi - lo) * 0.04);
  return { min: lo - step / 2 - pad, max: hi + step / 2 + pad };
}
