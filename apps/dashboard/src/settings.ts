import { type Timeframe, isTimeframe, parseRatio } from '@orderflow/footprint';
import { CELL_MODES, type CellMode, type ShadeBy } from './chart/cell.format.js';
import type { ProfileMode } from './chart/chart.options.js';

/** What the trader chose; kept in the page's URL so that a link reopens the same view. */
export interface DashboardSettings {
  /** "" until chosen: the page then opens a listed instrument (instruments/instrument.search.ts initialInstrument). */
  exchange: string;
  symbol: string;
  timeframe: Timeframe;
  /** Tick grouping; 0 = chosen from the data. */
  ticks: number;
  candles: number;
  mode: CellMode;
  shadeBy: ShadeBy;
  /** Imbalance ratio in percent (300 = buy at p >= 3 x sell at p - 1 level); 0 = off. */
  imbalancePercent: number;
  /** Big-cell threshold as a quantity decimal ("5" = 5 BTC); "" = automatic (the largest 1 % of cells in view). */
  bigTrade: string;
  profileMode: ProfileMode;
  showTpo: boolean;
  /** 'gateway' (default) or 'synthetic' (in-page generated data). */
  source: 'gateway' | 'synthetic';
}

export const DEFAULTS: DashboardSettings = {
  exchange: '',
  symbol: '',
  timeframe: '1m',
  ticks: 0,
  candles: 300,
  mode: 'bidAsk',
  shadeBy: 'delta',
  imbalancePercent: 300,
  bigTrade: '',
  profileMode: 'visible',
  showTpo: false,
  source: 'gateway',
};

function int(v: string | null, min: number, max: number, fallback: number): number {
  if (v === null || !/^\d{1,9}$/.test(v)) return fallback;
  const n = Number(v);
  return n >= min && n <= max ? n : fallback;
}

/** Settings from a query string (unknown or invalid values fall back to the defaults). */
export function settingsFromQuery(search: string): DashboardSettings {
  const q = new URLSearchParams(search);
  const tf = q.get('tf') ?? q.get('timeframe');
  const mode = q.get('mode');
  const shade = q.get('shade');
  const profile = q.get('profile');
  return {
    exchange: q.get('exchange') ?? DEFAULTS.exchange,
    symbol: q.get('symbol') ?? DEFAULTS.symbol,
    timeframe: isTimeframe(tf) ? tf : DEFAULTS.timeframe,
    ticks: int(q.get('ticks'), 0, 10_000, DEFAULTS.ticks),
    candles: int(q.get('candles'), 1, 2000, DEFAULTS.candles),
    mode: (CELL_MODES as readonly string[]).includes(mode ?? '') ? (mode as CellMode) : DEFAULTS.mode,
    shadeBy: shade === 'volume' ? 'volume' : 'delta',
    imbalancePercent: int(q.get('imbalance'), 0, 100_000, DEFAULTS.imbalancePercent),
    bigTrade: q.get('big') ?? DEFAULTS.bigTrade,
    profileMode: profile === 'session' || profile === 'fixed' ? profile : 'visible',
    showTpo: q.get('tpo') === '1',
    source: q.get('source') === 'synthetic' ? 'synthetic' : 'gateway',
  };
}

export function settingsToQuery(s: DashboardSettings): string {
  const q = new URLSearchParams();
  if (s.exchange) q.set('exchange', s.exchange);
  if (s.symbol) q.set('symbol', s.symbol);
  q.set('tf', s.timeframe);
  if (s.ticks) q.set('ticks', String(s.ticks));
  if (s.candles !== DEFAULTS.candles) q.set('candles', String(s.candles));
  if (s.mode !== DEFAULTS.mode) q.set('mode', s.mode);
  if (s.shadeBy !== DEFAULTS.shadeBy) q.set('shade', s.shadeBy);
  if (s.imbalancePercent !== DEFAULTS.imbalancePercent) q.set('imbalance', String(s.imbalancePercent));
  if (s.bigTrade) q.set('big', s.bigTrade);
  if (s.profileMode !== DEFAULTS.profileMode) q.set('profile', s.profileMode);
  if (s.showTpo) q.set('tpo', '1');
  if (s.source !== 'gateway') q.set('source', s.source);
  return q.toString();
}

const SETTING_KEYS = new Set([
  'exchange',
  'symbol',
  'tf',
  'timeframe',
  'ticks',
  'candles',
  'mode',
  'shade',
  'imbalance',
  'big',
  'profile',
  'tpo',
  'source',
]);

/**
 * The page's query for `s`, keeping the parameters of `original` that are not settings (gateway, ...) but never a
 * token.
 */
export function pageQuery(s: DashboardSettings, original: string): string {
  const q = new URLSearchParams(settingsToQuery(s));
  for (const [k, v] of new URLSearchParams(original)) if (!SETTING_KEYS.has(k) && k !== 'token') q.append(k, v);
  return q.toString();
}

/** The imbalance ratio as the engine's exact decimal ("3", "2.5"), or "" when off / invalid. */
export function ratioOf(percent: number): string {
  if (!(percent > 0)) return '';
  const r = (percent / 100).toString();
  try {
    parseRatio(r, 'imbalance ratio');
    return r;
  } catch {
    return '';
  }
}

/** A quantity decimal in units of `scale`, or null when it is not a plain positive decimal. */
export function quantityUnits(text: string, scale: number): number | null {
  const m = /^(\d{1,12})(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return null;
  const frac = (m[2] ?? '').slice(0, scale).padEnd(scale, '0');
  const n = Number(m[1]! + frac);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}
