import { formatFixedTrimmed } from '@orderflow/footprint';
import { cellText } from './chart/cell.format.js';
import type { FootprintChart } from './chart/footprint.chart.js';
import { paintStats } from './chart/footprint.painter.js';
import { renderCounts } from './chart/chart.options.js';
import type { LiveController } from './store/live.controller.js';

/**
 * The numbers behind what is drawn, for tests and assistive tools: `window.__orderflow`. The
 * footprint is a canvas, so the figures of the rendered cells are exposed here (integer units and
 * exact decimals), together with the view, the connection and the render statistics.
 */
export interface RenderedCell {
  openTime: number;
  price: number;
  buyVolume: number;
  sellVolume: number;
  buyTrades: number;
  sellTrades: number;
  /** Exact decimals. */
  priceText: string;
  buyText: string;
  sellText: string;
  /** What the cell prints in the current mode. */
  label: string[];
}

export interface OrderflowDataLayer {
  state(): {
    connection: string;
    connectionDetail: string | null;
    error: { code: string; reason: string } | null;
    loading: boolean;
    exchange: string | null;
    symbol: string | null;
    timeframe: string | null;
    ticks: number | null;
    step: number | null;
    scales: { priceScale: number; quantityScale: number; tick: number } | null;
    subscriptionId: string | null;
    seq: number;
    updates: number;
    resyncs: number;
    candles: number;
    window: { from: number; to: number } | null;
    live: boolean;
    history: boolean;
  };
  /** Open times of the candles in view. */
  visible(): number[];
  /** Every cell of a candle in view (default: the newest), as rendered. */
  cells(openTime?: number): RenderedCell[];
  candle(openTime: number): Record<string, unknown> | null;
  /** For the benchmark: renders `times` times in a row as a live frame or a full one, milliseconds each. */
  measureRenders(times: number, kind: 'live' | 'settings'): number[];
  /** Page pixel (relative to the chart) of a cell's centre, to point at it. */
  pixelOf(openTime: number, price: number): [number, number] | null;
  render: {
    renders: number;
    lastMs: number;
    times: number[];
    painted: number;
    reused: number;
    frames: number;
    batchedUpdates: number;
    flushMs: number[];
    cells: number;
    texts: number;
    modelMs: number;
    paintMs: number;
    candleItems: number;
    closedKept: number;
  };
}

declare global {
  interface Window {
    __orderflow?: OrderflowDataLayer;
  }
}

export function installDataLayer(
  live: LiveController,
  chart: () => FootprintChart | null,
  mode: () => string,
): OrderflowDataLayer {
  const layer: OrderflowDataLayer = {
    state() {
      const s = live.store;
      const v = s.view;
      return {
        connection: live.connection,
        connectionDetail: live.connectionDetail,
        error: live.error,
        loading: live.loading,
        exchange: v?.exchange ?? null,
        symbol: v?.symbol ?? null,
        timeframe: v?.timeframe ?? null,
        ticks: v?.ticks ?? null,
        step: v?.step ?? null,
        scales: v?.scales ?? null,
        subscriptionId: s.subscriptionId,
        seq: s.seq,
        updates: s.updates,
        resyncs: live.resyncs,
        candles: s.candles.length,
        window: chart()?.window ?? null,
        live: s.live,
        history: s.history,
      };
    },
    visible() {
      const w = chart()?.window;
      const c = live.store.candles;
      if (!w) return [];
      const out: number[] = [];
      for (let i = Math.max(0, Math.floor(w.from)); i <= Math.min(c.length - 1, Math.ceil(w.to)); i++)
        out.push(c[i]!.openTime);
      return out;
    },
    cells(openTime) {
      const s = live.store;
      const v = s.view;
      const c = openTime === undefined ? s.candles[s.candles.length - 1] : s.candle(openTime);
      if (!v || !c) return [];
      const { priceScale: ps, quantityScale: qs } = v.scales;
      return c.cells.map((x) => ({
        openTime: c.openTime,
        price: x[0],
        buyVolume: x[1],
        sellVolume: x[2],
        buyTrades: x[3],
        sellTrades: x[4],
        priceText: formatFixedTrimmed(x[0], ps),
        buyText: formatFixedTrimmed(x[1], qs),
        sellText: formatFixedTrimmed(x[2], qs),
        label: cellText(x, mode() as never, qs),
      }));
    },
    candle(openTime) {
      const c = live.store.candle(openTime);
      if (!c) return null;
      const { cells: _c, ...rest } = c;
      return { ...rest, cellCount: c.cells.length };
    },
    measureRenders(times, kind) {
      const ch = chart();
      const out: number[] = [];
      for (let i = 0; ch && i < times; i++) {
        const t0 = performance.now();
        ch.render(kind);
        out.push(performance.now() - t0);
      }
      return out;
    },
    pixelOf(openTime, price) {
      const ch = chart();
      const i = live.store.candles.findIndex((c) => c.openTime === openTime);
      if (!ch || i < 0) return null;
      return ch.chart.convertToPixel({ xAxisIndex: 0, yAxisIndex: 0 }, [i, price]) as [number, number];
    },
    get render() {
      const ch = chart();
      return {
        renders: ch?.stats.renders ?? 0,
        lastMs: ch?.stats.lastMs ?? 0,
        times: ch?.stats.times ?? [],
        painted: ch?.cache.painted ?? 0,
        reused: ch?.cache.reused ?? 0,
        frames: live.batcher.frames,
        batchedUpdates: live.batcher.items,
        flushMs: live.batcher.flushMs,
        candleItems: renderCounts.footprint,
        closedKept: ch?.stats.closedKept ?? 0,
        modelMs: ch?.stats.modelMs ?? 0,
        paintMs: ch?.cache.paintMs ?? 0,
        cells: paintStats.cells,
        texts: paintStats.texts,
      };
    },
  };
  window.__orderflow = layer;
  return layer;
}
