import { decimalsOf, formatFixed, formatFixedTrimmed, parseFixed } from '@orderflow/footprint';

/**
 * Instrument specifications of the simulated markets: tick size, quantity step and how each venue
 * prints its numbers. Values follow the real venues closely enough for collectors and footprints
 * (BTCUSDT spot on Binance: tick 0.01, step 0.00001, printed with 8 decimals).
 */
export type Venue = 'binance-spot' | 'binance-usdm' | 'bybit-spot' | 'bybit-linear' | 'okx-spot' | 'okx-swap';

export interface InstrumentSpec {
  readonly venue: Venue;
  /** The venue's own symbol: "BTCUSDT", "BTC-USDT", "BTC-USDT-SWAP". */
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  /** Venue-formatted tick size and quantity step ("0.10", "0.00001"). */
  readonly tickSize: string;
  readonly stepSize: string;
  /** Decimals a trade price / quantity is printed with (Binance spot pads to 8). */
  readonly priceDecimals: number;
  readonly qtyDecimals: number;
  /** OKX prints trimmed numbers ("42219.9"). */
  readonly trim: boolean;
  /** Starting price of the synthetic market. */
  readonly startPrice: string;
  /** Value of one quantity unit in base currency (OKX SWAP contract value), "1" otherwise. */
  readonly contractValue: string;
}

interface BaseRow {
  price: string;
  binanceSpot: [string, string];
  binanceUsdm: [string, string];
  bybitSpot: [string, string];
  bybitLinear: [string, string];
  okxSpot: [string, string];
  /** tick, lot (contracts), contract value */
  okxSwap: [string, string, string];
}

const KNOWN: Record<string, BaseRow> = {
  BTC: {
    price: '60000',
    binanceSpot: ['0.01', '0.00001'],
    binanceUsdm: ['0.10', '0.001'],
    bybitSpot: ['0.01', '0.000001'],
    bybitLinear: ['0.10', '0.001'],
    okxSpot: ['0.1', '0.00000001'],
    okxSwap: ['0.1', '0.01', '0.01'],
  },
  ETH: {
    price: '3000',
    binanceSpot: ['0.01', '0.0001'],
    binanceUsdm: ['0.01', '0.001'],
    bybitSpot: ['0.01', '0.00001'],
    bybitLinear: ['0.01', '0.01'],
    okxSpot: ['0.01', '0.000001'],
    okxSwap: ['0.01', '0.01', '0.1'],
  },
  LTC: {
    price: '80',
    binanceSpot: ['0.01', '0.001'],
    binanceUsdm: ['0.01', '0.001'],
    bybitSpot: ['0.01', '0.00001'],
    bybitLinear: ['0.01', '0.1'],
    okxSpot: ['0.01', '0.000001'],
    okxSwap: ['0.01', '0.01', '1'],
  },
  SOL: {
    price: '150',
    binanceSpot: ['0.01', '0.001'],
    binanceUsdm: ['0.01', '1'],
    bybitSpot: ['0.01', '0.001'],
    bybitLinear: ['0.01', '0.1'],
    okxSpot: ['0.01', '0.000001'],
    okxSwap: ['0.01', '0.01', '1'],
  },
  BNB: {
    price: '600',
    binanceSpot: ['0.01', '0.001'],
    binanceUsdm: ['0.010', '0.01'],
    bybitSpot: ['0.1', '0.001'],
    bybitLinear: ['0.10', '0.01'],
    okxSpot: ['0.01', '0.000001'],
    okxSwap: ['0.01', '0.01', '0.01'],
  },
  XRP: {
    price: '0.5',
    binanceSpot: ['0.0001', '0.1'],
    binanceUsdm: ['0.0001', '0.1'],
    bybitSpot: ['0.0001', '0.01'],
    bybitLinear: ['0.0001', '1'],
    okxSpot: ['0.0001', '0.000001'],
    okxSwap: ['0.0001', '0.01', '100'],
  },
  DOGE: {
    price: '0.15',
    binanceSpot: ['0.00001', '1'],
    binanceUsdm: ['0.000010', '1'],
    bybitSpot: ['0.00001', '0.1'],
    bybitLinear: ['0.00001', '1'],
    okxSpot: ['0.00001', '0.000001'],
    okxSwap: ['0.00001', '0.01', '1000'],
  },
};

const DEFAULT_ROW: BaseRow = {
  price: '100',
  binanceSpot: ['0.01', '0.001'],
  binanceUsdm: ['0.01', '0.001'],
  bybitSpot: ['0.01', '0.001'],
  bybitLinear: ['0.01', '0.001'],
  okxSpot: ['0.01', '0.000001'],
  okxSwap: ['0.01', '0.01', '1'],
};

const QUOTES = ['USDT', 'USDC', 'FDUSD', 'BUSD', 'TUSD', 'USD', 'BTC', 'ETH', 'BNB', 'EUR', 'TRY'];

/** Splits "BTCUSDT" into ["BTC", "USDT"] and "BTC-USDT-SWAP" into ["BTC", "USDT"]. */
export function splitSymbol(symbol: string): [string, string] {
  const upper = symbol.toUpperCase();
  if (upper.includes('-')) {
    const [base, quote] = upper.split('-');
    return [base ?? upper, quote ?? 'USDT'];
  }
  for (const q of QUOTES) {
    if (upper.endsWith(q) && upper.length > q.length) return [upper.slice(0, -q.length), q];
  }
  return [upper, 'USDT'];
}

/** The OKX instrument id for a symbol: "BTCUSDT" -> "BTC-USDT" (or "BTC-USDT-SWAP"); ids with dashes pass through. */
export function toOkxInstId(symbol: string, instType: 'SPOT' | 'SWAP' = 'SPOT'): string {
  const upper = symbol.toUpperCase();
  if (upper.includes('-')) return upper;
  const [base, quote] = splitSymbol(upper);
  return instType === 'SWAP' ? `${base}-${quote}-SWAP` : `${base}-${quote}`;
}

export function okxInstType(instId: string): 'SPOT' | 'SWAP' {
  return instId.toUpperCase().endsWith('-SWAP') ? 'SWAP' : 'SPOT';
}

export interface InstrumentOverride {
  tickSize?: string;
  stepSize?: string;
  startPrice?: string;
  contractValue?: string;
}

/** The instrument spec of `symbol` on `venue`, from the built-in table (or generic defaults) plus overrides. */
export function instrumentFor(venue: Venue, symbol: string, override: InstrumentOverride = {}): InstrumentSpec {
  const [base, quote] = splitSymbol(symbol);
  const row = KNOWN[base] ?? DEFAULT_ROW;
  let tick: string;
  let step: string;
  let contractValue = '1';
  switch (venue) {
    case 'binance-spot':
      [tick, step] = row.binanceSpot;
      break;
    case 'binance-usdm':
      [tick, step] = row.binanceUsdm;
      break;
    case 'bybit-spot':
      [tick, step] = row.bybitSpot;
      break;
    case 'bybit-linear':
      [tick, step] = row.bybitLinear;
      break;
    case 'okx-spot':
      [tick, step] = row.okxSpot;
      break;
    case 'okx-swap':
      [tick, step, contractValue] = row.okxSwap;
      break;
  }
  tick = override.tickSize ?? tick;
  step = override.stepSize ?? step;
  contractValue = override.contractValue ?? contractValue;
  const padTo8 = venue === 'binance-spot';
  return {
    venue,
    symbol,
    base,
    quote,
    tickSize: tick,
    stepSize: step,
    priceDecimals: padTo8 ? Math.max(8, decimalsOf(tick)) : decimalsOf(tick),
    qtyDecimals: padTo8 ? Math.max(8, decimalsOf(step)) : decimalsOf(step),
    trim: venue === 'okx-spot' || venue === 'okx-swap',
    startPrice: override.startPrice ?? row.price,
    contractValue,
  };
}

/**
 * The spec of a replayed market: the built-in table when the base asset is known there, otherwise
 * tick and step inferred from the recording. Either way tick and step are refined to the finest
 * decimal the recording uses, so that every recorded price and quantity fits the advertised scale
 * (a collector parsing at the instrument's scale would reject finer values).
 */
export function instrumentForReplay(
  venue: Venue,
  symbol: string,
  samples: readonly { price: string; quantity: string }[],
  override: InstrumentOverride = {},
): InstrumentSpec {
  let pd = 0;
  let qd = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    pd = Math.max(pd, significantDecimals(s.price));
    qd = Math.max(qd, significantDecimals(s.quantity));
  }
  const [base] = splitSymbol(symbol);
  const table = instrumentFor(venue, symbol, {
    ...(KNOWN[base] ? {} : { startPrice: samples[0]?.price }),
    ...override,
  });
  const tickSize =
    override.tickSize ?? (significantDecimals(table.tickSize) >= pd && KNOWN[base] ? table.tickSize : unitString(pd));
  const stepSize =
    override.stepSize ?? (significantDecimals(table.stepSize) >= qd && KNOWN[base] ? table.stepSize : unitString(qd));
  return instrumentFor(venue, symbol, {
    ...override,
    tickSize,
    stepSize,
    startPrice: table.startPrice,
    contractValue: table.contractValue,
  });
}

function significantDecimals(text: string): number {
  const dot = text.indexOf('.');
  if (dot < 0) return 0;
  let end = text.length;
  while (end > dot + 1 && text.charCodeAt(end - 1) === 48) end--;
  return end - dot - 1;
}

function unitString(decimals: number): string {
  return decimals === 0 ? '1' : formatFixed(1, decimals);
}

/** Integer units of the tick at the tick's own scale (tick "0.10" -> 10 at scale 2). */
export function tickUnits(spec: InstrumentSpec): {
  units: number;
  scale: number;
} {
  const scale = decimalsOf(spec.tickSize);
  return { units: parseFixed(spec.tickSize, scale), scale };
}

export function stepUnits(spec: InstrumentSpec): {
  units: number;
  scale: number;
} {
  const scale = decimalsOf(spec.stepSize);
  return { units: parseFixed(spec.stepSize, scale), scale };
}

/** Prints `ticks` price ticks as the venue prints prices. */
export function formatPriceTicks(spec: InstrumentSpec, ticks: number): string {
  const { units, scale } = tickUnits(spec);
  return formatScaled(ticks * units, scale, spec.priceDecimals, spec.trim);
}

/** Prints `steps` quantity steps as the venue prints quantities. */
export function formatQtySteps(spec: InstrumentSpec, steps: number): string {
  const { units, scale } = stepUnits(spec);
  return formatScaled(steps * units, scale, spec.qtyDecimals, spec.trim);
}

function formatScaled(units: number, scale: number, decimals: number, trim: boolean): string {
  const widened = decimals > scale ? units * 10 ** (decimals - scale) : units;
  const d = Math.max(decimals, scale);
  return trim ? formatFixedTrimmed(widened, d) : formatFixed(widened, d);
}

/** A decimal string padded (or kept) to `decimals` fractional digits: pad("0.01", 8) = "0.01000000". */
export function padDecimal(text: string, decimals: number): string {
  const d = decimalsOf(text);
  if (d >= decimals) return text;
  return (d === 0 ? `${text}.` : text) + '0'.repeat(decimals - d);
}
