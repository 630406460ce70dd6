import { exchangeInfo } from '@orderflow/contracts';

export type { Scales } from '@orderflow/contracts';
export {
  type InstrumentView,
  type StoredInstrument,
  type ViewMember,
  mergedView,
  scaleUnits,
  singleView,
} from '@orderflow/candle-views';

/**
 * The merged markets the gateway serves and how an exchange symbol names its pair. A view's
 * members and their scale factors (InstrumentView, mergedView, singleView) are @orderflow/candle-views'.
 */
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
  {
    id: 'merged-perp',
    label: 'USDT perpetuals, summed across Binance USDT-M, Bybit linear and OKX SWAP',
    members: perp(''),
  },
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
    if (symbol.length > q.length && symbol.endsWith(q) && /^[A-Z0-9]+$/.test(symbol))
      return { base: symbol.slice(0, -q.length), quote: q };
  }
  return null;
}
