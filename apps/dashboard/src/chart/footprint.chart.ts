import type { EChartsType } from 'echarts/core';
import type { WireCell } from '@orderflow/contracts';
import type { FootprintStore, StoreCandle } from '../store/footprint.store.js';
import type { WireVwapPoint } from '@orderflow/contracts';
import { DevelopingPoc, cvdSeries, nakedPocLines, rangeProfile, sessionRange, stackedZones } from './analysis.js';
import { graphic } from 'echarts/core';
import {
  type ChartModel,
  type ChartOption,
  ClosedLayer,
  type CoordSys,
  type ProfileMode,
  GRIDS,
  buildChartOption,
  drawnRange,
  fitPriceRange,
  placeCandle,
} from './chart.options.js';
import { type CellMode, type ShadeBy, type ShadeScale, exactQty } from './cell.format.js';
import { BitmapCache, type PaintSettings } from './footprint.painter.js';
import { formatFixedTrimmed } from '@orderflow/footprint';

export interface ChartSettings {
  mode: CellMode;
  shadeBy: ShadeBy;
  /** Imbalance ratio as a decimal ("3" = 300 %); "" turns imbalances off. */
  ratio: string;
  /** Big-cell threshold in quantity units (0: off). */
  bigUnits: number;
  profileMode: ProfileMode;
  /** Open times bounding the fixed-range profile. */
  fixedRange: [number, number] | null;
}

export interface HoverInfo {
  x: number;
  y: number;
  candle: StoreCandle;
  cell: WireCell | null;
  /** Exact decimals of the hovered cell (or candle). */
  lines: [string, string][];
}

export interface RenderStats {
  /** Milliseconds of the last render spent deriving the model (analytics). */
  modelMs: number;
  /** Live renders that left the closed candles' series untouched. */
  closedKept: number;
  renders: number;
  /** Milliseconds of the last render (model + setOption, synchronous). */
  lastMs: number;
  times: number[];
}

/** How often a live flow updates the series that follow the open candle (profile, delta, CVD ...). */
export const LIVE_SERIES_MS = 500;

/**
 * Round a scale up to a power of 2^(1/4): the shading (and so the bitmaps) change only when a maximum grows notably.
 */
export function quantize(x: number): number {
  if (x <= 0) return 0;
  return 2 ** (Math.ceil(Math.log2(x) * 4) / 4);
}

/**
 * Owns the ECharts instance's content: the visible window (follows the newest candle unless the
 * trader scrolled back), the derived analytics, and one setOption per render. Renders are driven
 * by the caller (a snapshot, a frame's batch of updates, a zoom, a change of settings).
 */
export class FootprintChart {
  readonly cache = new BitmapCache();
  private readonly layer = new ClosedLayer();
  private readonly developing = new DevelopingPoc();
  window: { from: number; to: number } | null = null;
  /** Candles shown when the window is (re)set. */
  visibleCount = 80;
  /** Price zoom (1 = fit the candles in view) and pan (price units), from shift + wheel / drag. */
  yZoom = 1;
  yShift = 0;
  private follow = true;
  private lastCount = 0;
  private vwapPoints: WireVwapPoint[] = [];
  private drawnKey = '';
  private liveSeriesAt = 0;
  private liveEl: InstanceType<typeof graphic.Image> | null = null;
  model: ChartModel | null = null;
  readonly stats: RenderStats = { renders: 0, lastMs: 0, times: [], modelMs: 0, closedKept: 0 };

  constructor(
    readonly chart: EChartsType,
    private readonly store: FootprintStore,
    public settings: ChartSettings,
  ) {
    chart.on('datazoom', (p: unknown) => this.onZoom(p as ZoomEvent));
  }

  setVwap(points: WireVwapPoint[]): void {
    this.vwapPoints = points;
  }

  resetWindow(): void {
    this.window = null;
  }

  /** Builds the model and sets the chart's option. `zoom` keeps ECharts' own dataZoom state. */
  render(reason: 'snapshot' | 'live' | 'settings' | 'zoom' | 'resize'): void {
    const t0 = performance.now();
    const s = this.store;
    const view = s.view;
    const candles = s.candles;
    const n = candles.length;
    if (!view || n === 0) {
      this.model = null;
      this.chart.clear();
      this.liveEl?.hide();
      return;
    }
    let setZoom = reason !== 'zoom';
    if (reason === 'snapshot' || this.window === null) {
      this.window = { from: Math.max(0, n - this.visibleCount), to: n - 1 };
      this.follow = true;
    } else if (n !== this.lastCount) {
      if (this.follow) {
        const width = this.window.to - this.window.from;
        this.window = { from: Math.max(0, n - 1 - width), to: n - 1 };
      } else if (n < this.lastCount) {
        this.window = { from: Math.min(this.window.from, n - 1), to: Math.min(this.window.to, n - 1) };
      }
    } else if (reason === 'live') {
      setZoom = false;
    }
    this.lastCount = n;
    const w = this.window;
    const step = view.step;
    const from = Math.max(0, Math.floor(w.from));
    const to = Math.min(n - 1, Math.ceil(w.to));

    // shading and the automatic big-cell threshold follow the closed candles in view, so that the
    // open candle trading does not restyle (and repaint) every closed candle; its own cells clamp
    const closedTo = to === n - 1 && to > from ? to - 1 : to;
    const closedKey = `${from}|${closedTo}|${s.revisionOfClosed}|${n}`;
    if (this.closedStats?.key !== closedKey) {
      this.closedStats = {
        key: closedKey,
        scale: this.shadeScale(candles, from, closedTo),
        big: autoBigUnits(candles, from, closedTo),
      };
    }
    const scale = this.closedStats.scale;
    const bigUnits = this.settings.bigUnits < 0 ? this.closedStats.big : this.settings.bigUnits;
    const paint: PaintSettings = {
      mode: this.settings.mode,
      shadeBy: this.settings.shadeBy,
      ratio: this.settings.ratio,
      bigUnits,
      quantityScale: view.scales.quantityScale,
      step,
      grouping: view.mode,
      scale,
      dpr: this.chart.getDevicePixelRatio?.() ?? globalThis.devicePixelRatio ?? 1,
    };
    const paintKey = `${paint.mode}|${paint.shadeBy}|${paint.ratio}|${paint.bigUnits}|${scale.maxAbsDelta}|${scale.maxVolume}|${step}|${paint.dpr}`;
    const yRange = this.priceRange(reason, candles, from, to, step);
    const drawnKey = `${yRange.min}|${yRange.max}|${paintKey}|${from}|${to}|${n}|${s.revisionOfClosed}`;
    const base = { candles, view, window: w, yRange, paint, paintKey, drawnKey };

    if (reason === 'live' && drawnKey === this.drawnKey && this.model) {
      // Only the open candle changed and it still fits: its bitmap is repainted and its image
      // element updated in place, without going through ECharts' update (axes, grids and the
      // closed candles' layer stay as they are). The series that follow it (profile, developing
      // POC, delta, CVD, zones) are handed to ECharts at most every LIVE_SERIES_MS.
      this.stats.closedKept++;
      this.model = { ...this.model, ...base };
      this.drawLive(this.model);
      const now = performance.now();
      if (now - this.liveSeriesAt >= LIVE_SERIES_MS) {
        this.liveSeriesAt = now;
        const model = this.analyse(base, from, to);
        this.model = model;
        const live = new Set(['profile', 'dpoc', 'delta', 'cvd', 'zones', 'naked']);
        const option = buildChartOption(model, this.cache, this.layer);
        this.chart.setOption(
          { series: (option.series as { id?: string }[]).filter((x) => live.has(x.id ?? '')) as ChartOption['series'] },
          { lazyUpdate: false, silent: true },
        );
      }
      this.done(t0);
      return;
    }

    const model = this.analyse(base, from, to);
    this.model = model;
    this.stats.modelMs = performance.now() - t0;
    const option = buildChartOption(model, this.cache, this.layer);
    if (!setZoom) delete (option as { dataZoom?: unknown }).dataZoom;
    this.drawnKey = drawnKey;
    this.liveSeriesAt = performance.now();
    this.chart.setOption(option, { lazyUpdate: false, silent: true });
    this.drawLive(model);
    this.done(t0);
  }

  private done(t0: number): void {
    const ms = performance.now() - t0;
    this.stats.renders++;
    this.stats.lastMs = ms;
    this.stats.times.push(ms);
    if (this.stats.times.length > 5000) this.stats.times.splice(0, 2500);
  }

  /** The analytics of the model (profile, developing and naked POCs, zones, CVD, VWAP by index). */
  private analyse(
    base: Pick<ChartModel, 'candles' | 'view' | 'window' | 'yRange' | 'paint' | 'paintKey' | 'drawnKey'>,
    from: number,
    to: number,
  ): ChartModel {
    const { candles, view } = base;
    const step = view.step;
    let profileCandles: readonly StoreCandle[];
    const pm = this.settings.profileMode;
    if (pm === 'session') {
      const [a, b] = sessionRange(candles);
      profileCandles = candles.slice(a, b + 1);
    } else if (pm === 'fixed' && this.settings.fixedRange) {
      const [t1, t2] = this.settings.fixedRange;
      profileCandles = candles.filter((c) => c.openTime >= t1 && c.openTime <= t2);
    } else {
      profileCandles = candles.slice(from, to + 1);
    }
    const ps = view.scales.priceScale;
    const index = new Map<number, number>();
    candles.forEach((c, i) => index.set(c.openTime, i));
    const vwap: ChartModel['vwap'] = [];
    for (const p of this.vwapPoints) {
      const i = index.get(p.openTime);
      if (i !== undefined) vwap.push({ index: i, vwap: Number(p.vwap) * 10 ** ps, sd: Number(p.stdDev) * 10 ** ps });
    }
    return {
      ...base,
      profile: rangeProfile(profileCandles, step, view.mode),
      profileMode: pm,
      developing: this.developing.compute(candles, step),
      naked: nakedPocLines(candles, step, view.mode),
      zones: this.settings.ratio ? stackedZones(candles, step, view.mode, this.settings.ratio, from, to) : [],
      cvd: cvdSeries(candles),
      vwap,
    };
  }

  /** The open candle: an image element of its own, placed from the axes (drawn after the series). */
  private drawLive(m: ChartModel): void {
    const zr = this.chart.getZr();
    const cs = this.layer.coordSys;
    const i = m.candles.length - 1;
    const [a, b] = drawnRange(m);
    if (!this.liveEl) {
      this.liveEl = new graphic.Image({
        silent: true,
        zlevel: 2,
        style: { image: '', x: 0, y: 0, width: 0, height: 0 },
      });
      zr.add(this.liveEl);
    }
    const el = this.liveEl;
    const place = cs && i >= a && i <= b ? this.placeLive(m, cs, i) : null;
    if (!place) {
      el.hide();
      return;
    }
    el.setStyle({ image: place.canvas, x: place.left, y: place.top, width: place.w, height: place.h });
    el.show();
  }

  private placeLive(m: ChartModel, cs: CoordSys, i: number) {
    const p0 = this.chart.convertToPixel({ xAxisIndex: 0, yAxisIndex: 0 }, [i, m.yRange.min]) as number[];
    const p1 = this.chart.convertToPixel({ xAxisIndex: 0, yAxisIndex: 0 }, [i + 1, m.yRange.min]) as number[];
    const place = placeCandle(m, this.cache, cs, i, p0[0]!, p1[0]! - p0[0]!);
    if (!place) return null;
    // clipped to the grid horizontally (the open candle can sit half outside when zoomed)
    if (place.left < cs.x || place.left + place.w > cs.x + cs.width + 1) return null;
    return place;
  }

  /** Shading scale and automatic big-cell threshold of the closed candles in view, while they do not change. */
  private closedStats: { key: string; scale: ShadeScale; big: number } | null = null;
  private lastRange: { key: string; range: { min: number; max: number } } | null = null;

  /**
   * The price range: fitted to the candles in view, but kept while a live frame's candles still fit
   * in it (a new high or low refits), so that the bitmaps do not all repaint for nothing.
   */
  private priceRange(
    reason: string,
    candles: readonly StoreCandle[],
    from: number,
    to: number,
    step: number,
  ): { min: number; max: number } {
    const fitted = zoomRange(fitPriceRange(candles, from, to, step), this.yZoom, this.yShift);
    const key = `${from}|${to}|${step}|${this.yZoom}|${this.yShift}`;
    const last = this.lastRange;
    if (reason === 'live' && last && last.key === key) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = from; i <= to; i++) {
        if (candles[i]!.low < lo) lo = candles[i]!.low;
        if (candles[i]!.high > hi) hi = candles[i]!.high;
      }
      if (this.yZoom !== 1 || this.yShift !== 0 || (lo - step / 2 >= last.range.min && hi + step / 2 <= last.range.max))
        return last.range;
    }
    this.lastRange = { key, range: fitted };
    return fitted;
  }

  private shadeScale(candles: readonly StoreCandle[], from: number, to: number): ShadeScale {
    let maxAbsDelta = 0;
    let maxVolume = 0;
    for (let i = from; i <= to; i++) {
      for (const c of candles[i]!.cells) {
        const d = c[1] > c[2] ? c[1] - c[2] : c[2] - c[1];
        const v = c[1] + c[2];
        if (d > maxAbsDelta) maxAbsDelta = d;
        if (v > maxVolume) maxVolume = v;
      }
    }
    return { maxAbsDelta: quantize(maxAbsDelta), maxVolume: quantize(maxVolume) };
  }

  private onZoom(p: ZoomEvent): void {
    const n = this.store.candles.length;
    if (n === 0) return;
    const b = p.batch?.[0] ?? p;
    let from: number;
    let to: number;
    if (b.startValue !== undefined && b.endValue !== undefined) {
      from = b.startValue + 0.5;
      to = b.endValue - 0.5;
    } else {
      const min = -0.5;
      const max = n - 0.5;
      from = min + ((max - min) * (b.start ?? 0)) / 100 + 0.5;
      to = min + ((max - min) * (b.end ?? 100)) / 100 - 0.5;
    }
    this.window = { from: Math.max(0, from), to: Math.min(n - 1, Math.max(from, to)) };
    this.follow = this.window.to >= n - 1.5;
    this.render('zoom');
  }

  /** Shift + wheel: zoom prices around the middle (text appears once cells are tall enough). */
  zoomPrices(factor: number): void {
    this.yZoom = Math.min(50, Math.max(0.2, this.yZoom * factor));
    this.render('zoom');
  }

  /** Moves the price range by a number of pixels of the footprint grid. */
  panPrices(pixels: number): void {
    const m = this.model;
    if (!m) return;
    this.yShift += (pixels / this.footprintHeight) * (m.yRange.max - m.yRange.min);
    this.render('zoom');
  }

  resetPrices(): void {
    this.yZoom = 1;
    this.yShift = 0;
    this.render('zoom');
  }

  /** The candle and cell under a pixel of the footprint grid, with exact figures. */
  hover(x: number, y: number): HoverInfo | null {
    const m = this.model;
    if (!m || !this.chart.containPixel({ gridIndex: 0 }, [x, y])) return null;
    const [xi, price] = this.chart.convertFromPixel({ xAxisIndex: 0, yAxisIndex: 0 }, [x, y]) as [number, number];
    const i = Math.round(xi);
    const c = m.candles[i];
    if (!c) return null;
    const step = m.view.step;
    const cell = c.cells.find((k) => Math.abs(k[0] - price) <= step / 2) ?? null;
    const { priceScale: ps, quantityScale: qs } = m.view.scales;
    const q = (u: number) => exactQty(u, qs);
    const lines: [string, string][] = [
      ['time', new Date(c.openTime).toISOString().replace('T', ' ').slice(0, 16) + ' UTC'],
    ];
    if (cell) {
      lines.push(
        ['price', formatFixedTrimmed(cell[0], ps)],
        ['bid (sold)', q(cell[2])],
        ['ask (bought)', q(cell[1])],
        ['delta', q(cell[1] - cell[2])],
        ['volume', q(cell[1] + cell[2])],
        ['trades', `${cell[3] + cell[4]} (${cell[3]} buy / ${cell[4]} sell)`],
      );
    }
    lines.push(
      ['O H L C', [c.open, c.high, c.low, c.close].map((v) => formatFixedTrimmed(v, ps)).join(' ')],
      ['candle Δ / vol', `${q(c.delta)} / ${q(c.buyVolume + c.sellVolume)}`],
      ['POC', c.poc === null ? '-' : formatFixedTrimmed(c.poc, ps)],
    );
    if (c.complete === false) lines.push(['data', 'gap recorded (incomplete)']);
    return { x, y, candle: c, cell, lines };
  }

  /** Height of the footprint grid in pixels (for choosing how many candles fit). */
  get footprintHeight(): number {
    return (this.chart.getHeight() * GRIDS.footprint.height) / 100;
  }
}

interface ZoomRange {
  start?: number;
  end?: number;
  startValue?: number;
  endValue?: number;
}
type ZoomEvent = ZoomRange & { batch?: ZoomRange[] };

/** The automatic big-cell threshold: the 99th percentile of cell volumes in view, quantised (0 when too few cells). */
export function autoBigUnits(candles: readonly StoreCandle[], from: number, to: number): number {
  const v: number[] = [];
  for (let i = from; i <= to; i++) for (const c of candles[i]!.cells) v.push(c[1] + c[2]);
  if (v.length < 50) return 0;
  v.sort((a, b) => a - b);
  return quantize(v[Math.floor(v.length * 0.99)]!);
}

/** A price range zoomed by `zoom` around its middle moved by `shift`. */
export function zoomRange(r: { min: number; max: number }, zoom: number, shift: number): { min: number; max: number } {
  const mid = (r.min + r.max) / 2 + shift;
  const half = (r.max - r.min) / 2 / zoom;
  return { min: mid - half, max: mid + half };
}
