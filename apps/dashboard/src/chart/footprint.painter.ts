import type { GroupingMode } from '@orderflow/footprint';
import type { StoreCandle } from '../store/footprint.store.js';
import { candleImbalances } from './analysis.js';
import {
  type CellMode,
  type ShadeBy,
  type ShadeScale,
  cellColor,
  cellText,
  fontSize,
  textFits,
} from './cell.format.js';

/**
 * Draws one candle's whole footprint (every visible cell, its text, the POC box, the body and wick,
 * imbalances, big-cell bubbles and the gap mark) into one bitmap, which the ECharts custom series
 * places as a single image element. Thousands of cells therefore cost one element per candle in
 * zrender, and a bitmap is redrawn only when its candle changes (new version) or its geometry does
 * (zoom, pan, resize); cells outside the plot area are not drawn at all.
 */
export interface PaintSettings {
  mode: CellMode;
  shadeBy: ShadeBy;
  /** Imbalance ratio as a decimal string ("3" = 300 %). */
  ratio: string;
  /** Big-cell threshold in quantity units (0: off). */
  bigUnits: number;
  quantityScale: number;
  step: number;
  grouping: GroupingMode;
  scale: ShadeScale;
  dpr: number;
}

export interface PaintGeometry {
  /** Bitmap size in CSS pixels. */
  width: number;
  height: number;
  /** Pixels per price unit (vertical). */
  pxPerUnit: number;
  /** The price at the bitmap's top edge (price units, may be fractional). */
  topPrice: number;
}

/** Left strip of the column that holds the wick and body. */
export const BODY_STRIP = 5;

export interface PaintStats {
  cells: number;
  texts: number;
}

export const paintStats: PaintStats = { cells: 0, texts: 0 };

export function createCanvas(w: number, h: number): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = Math.max(1, w);
  c.height = Math.max(1, h);
  return c;
}

export function paintCandle(c: StoreCandle, g: PaintGeometry, s: PaintSettings, canvas: HTMLCanvasElement): void {
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(s.dpr, 0, 0, s.dpr, 0, 0);
  ctx.clearRect(0, 0, g.width, g.height);
  paintCandleAt(c, g, s, ctx);
}

/**
 * Paints a candle into `ctx` whose transform puts the candle's bitmap origin at (0, 0), clipped to
 * its rectangle. Used for the cached per-candle bitmaps, and directly into the closed candles'
 * layer for candles too narrow to print text (nothing expensive to keep: a few rectangles).
 */
export function paintCandleAt(c: StoreCandle, g: PaintGeometry, s: PaintSettings, ctx: CanvasRenderingContext2D): void {
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, 0, g.width, g.height);
  ctx.clip();
  paintInto(c, g, s, ctx);
  ctx.restore();
}

function paintInto(c: StoreCandle, g: PaintGeometry, s: PaintSettings, ctx: CanvasRenderingContext2D): void {
  const step = s.step;
  const cellH = step * g.pxPerUnit;
  const yOf = (price: number) => (g.topPrice - price) * g.pxPerUnit;
  const x0 = BODY_STRIP;
  const w = g.width - BODY_STRIP;
  const half = step / 2;
  const imb = s.ratio ? candleImbalances(c, step, s.grouping, s.ratio) : null;
  const gap = cellH >= 3 ? 1 : 0;

  // cells: fill, then text; only rows inside the bitmap
  const bottomPrice = g.topPrice - g.height / g.pxPerUnit;
  // text where it fits: a cell whose figures are wider than the cell prints none
  const showText = w >= 14 && cellH >= 9;
  const labels: (([string] | [string, string]) | null)[] = [];
  const rows: number[] = [];
  // cells of one colour go into one path: one fill per colour instead of one per cell
  const byColor = new Map<string, number[]>();
  for (let i = 0; i < c.cells.length; i++) {
    const cell = c.cells[i]!;
    const p = cell[0];
    if (p + half < bottomPrice || p - half > g.topPrice) continue;
    const color = cellColor(cell, s.shadeBy, s.scale);
    let ys = byColor.get(color);
    if (ys === undefined) byColor.set(color, (ys = []));
    ys.push(yOf(p + half));
    paintStats.cells++;
    rows.push(i);
    if (showText) {
      const l = cellText(cell, s.mode, s.quantityScale);
      labels.push(textFits(l, w, cellH) ? l : null);
    }
  }
  for (const [color, ys] of byColor) {
    ctx.fillStyle = color;
    ctx.beginPath();
    for (const y of ys) ctx.rect(x0, y, w, cellH - gap);
    ctx.fill();
  }

  if (showText) {
    const size = fontSize(cellH);
    ctx.font = `${size}px ui-monospace, Menlo, Consolas, monospace`;
    ctx.textBaseline = 'middle';
    for (let k = 0; k < rows.length; k++) {
      const cell = c.cells[rows[k]!]!;
      const l = labels[k];
      if (!l) continue;
      const yMid = yOf(cell[0]) - gap / 2;
      if (l.length === 2) {
        ctx.textAlign = 'left';
        ctx.fillStyle = imb?.sell.has(cell[0]) ? '#ff6b6b' : '#d8dde6';
        ctx.fillText(l[0], x0 + 3, yMid);
        ctx.textAlign = 'right';
        ctx.fillStyle = imb?.buy.has(cell[0]) ? '#4dd0a1' : '#d8dde6';
        ctx.fillText(l[1], x0 + w - 3, yMid);
      } else {
        ctx.textAlign = 'center';
        ctx.fillStyle = imb?.buy.has(cell[0]) ? '#4dd0a1' : imb?.sell.has(cell[0]) ? '#ff6b6b' : '#d8dde6';
        ctx.fillText(l[0], x0 + w / 2, yMid);
      }
      paintStats.texts++;
    }
  }

  // diagonal imbalances: a bar on the dominant side's edge of the cell
  if (imb && (imb.buy.size > 0 || imb.sell.size > 0)) {
    const bw = Math.max(1, Math.min(3, w / 12));
    for (const p of imb.buy) {
      ctx.fillStyle = '#00e6a0';
      ctx.fillRect(x0 + w - bw, yOf(p + half), bw, cellH - gap);
    }
    for (const p of imb.sell) {
      ctx.fillStyle = '#ff4d5e';
      ctx.fillRect(x0, yOf(p + half), bw, cellH - gap);
    }
  }

  // stacked imbalances: a zone over the cells
  if (imb) {
    for (const z of imb.stacked) {
      ctx.fillStyle = z.side === 'buy' ? 'rgba(0,230,160,0.16)' : 'rgba(255,77,94,0.16)';
      ctx.fillRect(x0, yOf(z.high + half), w, (z.high - z.low + step) * g.pxPerUnit);
    }
  }

  // the candle's POC boxed
  if (c.poc !== null) {
    ctx.strokeStyle = '#ffd54f';
    ctx.lineWidth = cellH >= 6 ? 1.5 : 1;
    ctx.strokeRect(x0 + 0.75, yOf(c.poc + half) + 0.75, w - 1.5, Math.max(1, cellH - gap - 1.5));
  }

  // wick and body in the left strip, and the body's outline over the cells
  const up = c.close >= c.open;
  const color = up ? '#26a69a' : '#ef5350';
  ctx.fillStyle = color;
  ctx.fillRect(2, yOf(c.high + half), 1, (c.high - c.low + step) * g.pxPerUnit);
  const bodyTop = yOf(Math.max(c.open, c.close) + half);
  const bodyH = (Math.abs(c.close - c.open) + step) * g.pxPerUnit;
  ctx.fillRect(0, bodyTop, BODY_STRIP - 1, bodyH);
  if (w >= 8) {
    ctx.strokeStyle = color;
    ctx.lineWidth = 1;
    ctx.strokeRect(x0 + 0.5, bodyTop + 0.5, w - 1, Math.max(1, bodyH - 1));
  }

  // big cells as bubbles (derived from cell volume: the protocol has no per-trade sizes)
  if (s.bigUnits > 0) {
    for (const i of rows) {
      const cell = c.cells[i]!;
      const v = cell[1] + cell[2];
      if (v < s.bigUnits) continue;
      const r = Math.min(
        Math.max(3, Math.sqrt(v / s.bigUnits) * Math.min(w, cellH * 2) * 0.25),
        Math.max(w, cellH) * 0.9,
      );
      ctx.beginPath();
      ctx.arc(x0 + w / 2, yOf(cell[0]), r, 0, Math.PI * 2);
      ctx.fillStyle = cell[1] >= cell[2] ? 'rgba(0,230,160,0.35)' : 'rgba(255,77,94,0.35)';
      ctx.fill();
      ctx.strokeStyle = cell[1] >= cell[2] ? '#00e6a0' : '#ff4d5e';
      ctx.stroke();
    }
  }

  // a candle with a recorded, unfilled gap: dashed orange outline
  if (c.complete === false) {
    ctx.setLineDash([4, 3]);
    ctx.strokeStyle = '#ff9800';
    ctx.lineWidth = 2;
    ctx.strokeRect(1, 1, g.width - 2, g.height - 2);
    ctx.setLineDash([]);
  }
}

/** One cached bitmap per candle: reused while the candle's version and the geometry are the same. */
export class BitmapCache {
  private readonly entries = new WeakMap<StoreCandle, { key: string; canvas: HTMLCanvasElement }>();
  painted = 0;
  reused = 0;
  /** Milliseconds spent painting bitmaps (cumulative). */
  paintMs = 0;

  get(c: StoreCandle, g: PaintGeometry, s: PaintSettings, settingsKey: string): HTMLCanvasElement {
    const key = `${g.width}|${g.height}|${g.pxPerUnit}|${g.topPrice}|${settingsKey}`;
    const hit = this.entries.get(c);
    if (hit && hit.key === key) {
      this.reused++;
      return hit.canvas;
    }
    // a new canvas: zrender must see a new image to repaint it
    const t0 = performance.now();
    const canvas = createCanvas(Math.ceil(g.width * s.dpr), Math.ceil(g.height * s.dpr));
    paintCandle(c, g, s, canvas);
    this.paintMs += performance.now() - t0;
    this.entries.set(c, { key, canvas });
    this.painted++;
    return canvas;
  }
}
