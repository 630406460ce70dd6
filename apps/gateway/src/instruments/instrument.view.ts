import { exchangeInfo } from '@orderflow/contracts';
import { pow10 } from '@orderflow/footprint';

/**
 * What the gateway serves: an instrument of one exchange, or a merged pseudo-instrument that sums
 * the same base/quote pair across exchanges. Both are a list of members with the integer factors
 * that bring each member's units to the view's common scales (10^k, exact), so the rest of the
 * gateway treats a single instrument as a view with one member of factor 1.
 */
export interface Scales {
  priceScale: number;
  quantityScale: number;
  /** The view's tick in its price units: for a merged view a multiple of every member's tick. */
  tick: number;
}

export interface StoredInstrument extends Scales {
  exchange: string;
  symbol: string;
}

export interface ViewMember {
  exchange: string;
  symbol: string;
  /** The member's own scales. */
  scales: Scales;
  /** Member price units x priceFactor = view price units (a power of ten). */
  priceFactor: number;
  /** Member quantity units x quantityFactor = view quantity units (a power of ten). */
  quantityFactor: number;
}

export interface InstrumentView {
  exchange: string;
  symbol: string;
  merged: boolean;
  scales: Scales;
  members: ViewMember[];
}

export interface MergedMarket {
  id: string;
  label: string;
  /** The member instruments of pair base/quote, in the order ties are broken (see mergeSummaries). */
  members(base: string, quote: string): { exchange: string; symbol: string }[];
}

const spot = (prefix: string) => (base: string, quote: string) => [
  { exchange: `${prefix}binance`, symbol: `${base}${quote}` },
  { exchange: `${prefix}bybit`, symbol: `${base}${quote}` },
  { exchange: `${prefix}okx`, symbol: `${base}-${quote}` },
];
const perp = (prefix: string) => (base: string, quote: string) => [
  { exchange: `${prefix}binance-futures`, symbol: `${base}${quote}` },
  { exchange: `${prefix}bybit-linear`, symbol: `${base}${quote}` },
  { exchange: `${prefix}okx`, symbol: `${base}-${quote}-SWAP` },
];

/** Merged pseudo-exchanges; symbols are `BASE-QUOTE` (e.g. merged / BTC-USDT). */
export const MERGED_MARKETS: readonly MergedMarket[] = [
  { id: 'merged', label: 'Spot, summed across Binance, Bybit and OKX', members: spot('') },
  { id: 'merged-perp', label: 'USDT perpetuals, summed across Binance USDT-M, Bybit linear and OKX SWAP', members: perp('') },
  { id: 'sim-merged', label: 'SIMULATED spot markets, summed', members: spot('sim-') },
  { id: 'sim-merged-perp', label: 'SIMULATED perpetuals, summed', members: perp('sim-') },
];

const MERGED_BY_ID = new Map(MERGED_MARKETS.map((m) => [m.id, m]));

export function mergedMarket(id: string): MergedMarket | undefined {
  return MERGED_BY_ID.get(id);
}

export function isKnownExchange(id: string): boolean {
  return exchangeInfo(id) !== undefined || MERGED_BY_ID.has(id);
}

export const MERGED_SYMBOL = /^([A-Z0-9]{1,20})-([A-Z0-9]{1,20})$/;

/** Quote assets recognised at the end of a Binance/Bybit symbol (longest first). */
const QUOTES = ['FDUSD', 'USDT', 'USDC', 'BUSD', 'TUSD', 'USD', 'DAI', 'BTC', 'ETH', 'BNB', 'EUR', 'TRY', 'BRL'];

/** The base/quote pair of an exchange symbol, when it can be told apart (BTCUSDT, BTC-USDT, BTC-USDT-SWAP). */
export function pairOf(symbol: string): { base: string; quote: string } | null {
  const okx = /^([A-Z0-9]{1,20})-([A-Z0-9]{1,20})(-SWAP)?$/.exec(symbol);
  if (okx) return { base: okx[1]!, quote: okx[2]! };
  for (const q of QUOTES) {
    if (symbol.length > q.length && symbol.endsWith(q) && /^[A-Z0-9]+$/.test(symbol)) return { base: symbol.slice(0, -q.length), quote: q };
  }
  return null;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** A single instrument as a view of itself. */
export function singleView(i: StoredInstrument): InstrumentView {
  const scales = { priceScale: i.priceScale, quantityScale: i.quantityScale, tick: i.tick };
  return { exchange: i.exchange, symbol: i.symbol, merged: false, scales, members: [{ exchange: i.exchange, symbol: i.symbol, scales, priceFactor: 1, quantityFactor: 1 }] };
}

/**
 * A merged view of the members that exist: common price scale = the largest member price scale,
 * likewise for quantities (so every member's units convert by an exact power of ten), and a tick
 * that is the least common multiple of the members' ticks in common units (so a grouping of N
 * view ticks is a whole number of every member's ticks). Throws when a factor or the tick would
 * leave the safe integers.
 */
export function mergedView(exchange: string, symbol: string, members: readonly StoredInstrument[]): InstrumentView {
  if (members.length === 0) throw new Error(`merged view ${exchange} ${symbol} needs at least one member`);
  const priceScale = Math.max(...members.map((m) => m.priceScale));
  const quantityScale = Math.max(...members.map((m) => m.quantityScale));
  pow10(priceScale);
  pow10(quantityScale);
  let tick = 1;
  const out: ViewMember[] = members.map((m) => {
    const priceFactor = pow10(priceScale - m.priceScale);
    const quantityFactor = pow10(quantityScale - m.quantityScale);
    const t = m.tick * priceFactor;
    if (!Number.isSafeInteger(t)) throw new Error(`${m.exchange} ${m.symbol}: tick ${m.tick} at scale ${priceScale} is too large`);
    tick = (tick / gcd(tick, t)) * t;
    if (!Number.isSafeInteger(tick)) throw new Error(`merged view ${exchange} ${symbol}: the common tick is too large`);
    return { exchange: m.exchange, symbol: m.symbol, scales: { priceScale: m.priceScale, quantityScale: m.quantityScale, tick: m.tick }, priceFactor, quantityFactor };
  });
  return { exchange, symbol, merged: true, scales: { priceScale, quantityScale, tick }, members: out };
}

/** `n * factor`, refusing a result beyond 2^53 - 1 (never a silently rounded figure). */
export function scaleUnits(n: number, factor: number, what: string): number {
  if (factor === 1) return n;
  const v = n * factor;
  if (!Number.isSafeInteger(v)) throw new Error(`${what} ${n} x ${factor} exceeds 2^53 - 1 units`);
  return v;
}
