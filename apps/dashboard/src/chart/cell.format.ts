import { formatFixedTrimmed } from '@orderflow/footprint';
import type { WireCell } from '@orderflow/contracts';

/**
 * What a footprint cell shows, and how it is shaded. Pure: the painter and the tests call these.
 * bid x ask: volume sold into the bid (aggressive sells) on the left, bought at the ask
 * (aggressive buys) on the right, as footprint charts print them.
 */
export const CELL_MODES = ['bidAsk', 'delta', 'volume', 'trades', 'deltaVolume'] as const;
export type CellMode = (typeof CELL_MODES)[number];
export const CELL_MODE_LABELS: Record<CellMode, string> = {
  bidAsk: 'Bid x Ask',
  delta: 'Delta',
  volume: 'Volume',
  trades: 'Trades',
  deltaVolume: 'Delta | Volume',
};

export type ShadeBy = 'delta' | 'volume';

/**
 * A quantity in units of 10^-scale as a short label: exact below 10,000 (at most `maxDecimals`
 * decimals, trailing zeros trimmed), then k / M with one decimal. The tooltip prints exact values.
 */
export function shortQty(units: number, scale: number, maxDecimals = 3): string {
  const v = units / 10 ** scale;
  const a = Math.abs(v);
  if (a >= 1e6) return `${trim((v / 1e6).toFixed(1))}M`;
  if (a >= 1e4) return `${trim((v / 1e3).toFixed(1))}k`;
  const d = a >= 100 ? 0 : a >= 10 ? Math.min(1, maxDecimals) : a >= 1 ? Math.min(2, maxDecimals) : maxDecimals;
  const s = trim(v.toFixed(d));
  return s === '-0' ? '0' : s;
}

function trim(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** Exact decimal of integer units (the tooltip and the data layer). */
export function exactQty(units: number, scale: number): string {
  return formatFixedTrimmed(units, scale);
}

const textCache = new Map<string, string>();

/**
 * The label(s) of a cell in a mode: one string, or two for the side-by-side modes. Strings are
 * cached by (mode, values): thousands of cells repeat a few hundred distinct numbers.
 */
export function cellText(cell: WireCell, mode: CellMode, quantityScale: number): [string] | [string, string] {
  const [, buy, sell, bt, st] = cell;
  switch (mode) {
    case 'bidAsk':
      return [cached(sell, quantityScale), cached(buy, quantityScale)];
    case 'delta':
      return [cached(buy - sell, quantityScale)];
    case 'volume':
      return [cached(buy + sell, quantityScale)];
    case 'trades':
      return [String(bt + st)];
    case 'deltaVolume':
      return [cached(buy - sell, quantityScale), cached(buy + sell, quantityScale)];
  }
}

function cached(units: number, scale: number): string {
  const k = `${scale}:${units}`;
  let s = textCache.get(k);
  if (s === undefined) {
    if (textCache.size > 50_000) textCache.clear();
    s = shortQty(units, scale);
    textCache.set(k, s);
  }
  return s;
}

/** The largest |delta| and volume among cells: the scale of the shading. */
export interface ShadeScale {
  maxAbsDelta: number;
  maxVolume: number;
}

export function shadeScale(cellLists: Iterable<readonly WireCell[]>): ShadeScale {
  let maxAbsDelta = 0;
  let maxVolume = 0;
  for (const cells of cellLists) {
    for (const c of cells) {
      const d = Math.abs(c[1] - c[2]);
      const v = c[1] + c[2];
      if (d > maxAbsDelta) maxAbsDelta = d;
      if (v > maxVolume) maxVolume = v;
    }
  }
  return { maxAbsDelta, maxVolume };
}

/**
 * The fill of a cell: by delta, green (buyers) or red (sellers) with an opacity that grows with
 * |delta|; by volume, one hue growing with volume. Square-root scaling keeps small cells visible
 * next to a huge one. Opacity is quantised to 1/32 so that equal-looking cells share a style.
 */
export function cellColor(cell: WireCell, by: ShadeBy, scale: ShadeScale): string {
  if (by === 'delta') {
    const d = cell[1] - cell[2];
    const a = alpha(Math.abs(d), scale.maxAbsDelta);
    return d >= 0 ? `rgba(38,166,154,${a})` : `rgba(239,83,80,${a})`;
  }
  return `rgba(66,133,244,${alpha(cell[1] + cell[2], scale.maxVolume)})`;
}

function alpha(x: number, max: number): number {
  if (max <= 0 || x <= 0) return 0.06;
  const r = Math.sqrt(Math.min(1, x / max));
  return Math.round((0.08 + 0.82 * r) * 32) / 32;
}

/** Average glyph width of the 11 px monospace-ish digits used in cells, in CSS pixels. */
export const CHAR_WIDTH = 6.2;
export const MIN_TEXT_HEIGHT = 9;

/** Whether the labels fit in a cell of w x h CSS pixels (text hides when cells are too small). */
export function textFits(labels: readonly string[], w: number, h: number): boolean {
  if (h < MIN_TEXT_HEIGHT) return false;
  let chars = 0;
  for (const l of labels) chars += l.length;
  // side-by-side labels need a gap between them
  const need = chars * CHAR_WIDTH + (labels.length > 1 ? 10 : 4);
  return need <= w;
}

/** Font size for a cell height: 11 px where it fits, smaller down to 8. */
export function fontSize(h: number): number {
  return Math.max(8, Math.min(11, Math.floor(h - 2)));
}
