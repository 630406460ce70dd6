import type { Scales } from '@orderflow/contracts';
import { pow10 } from '@orderflow/footprint';

/**
 * What the gateway serves: an instrument of one exchange, or a merged pseudo-instrument that sums
 * the same base/quote pair across exchanges. Both are a list of members with the integer factors
 * that bring each member's units to the view's common scales (10^k, exact), so the views treat a
 * single instrument as a view with one member of factor 1.
 */
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

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** A single instrument as a view of itself. */
export function singleView(i: StoredInstrument): InstrumentView {
  const scales = { priceScale: i.priceScale, quantityScale: i.quantityScale, tick: i.tick };
  return {
    exchange: i.exchange,
    symbol: i.symbol,
    merged: false,
    scales,
    members: [{ exchange: i.exchange, symbol: i.symbol, scales, priceFactor: 1, quantityFactor: 1 }],
  };
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
    if (!Number.isSafeInteger(t))
      throw new Error(`${m.exchange} ${m.symbol}: tick ${m.tick} at scale ${priceScale} is too large`);
    tick = (tick / gcd(tick, t)) * t;
    if (!Number.isSafeInteger(tick)) throw new Error(`merged view ${exchange} ${symbol}: the common tick is too large`);
    return {
      exchange: m.exchange,
      symbol: m.symbol,
      scales: { priceScale: m.priceScale, quantityScale: m.quantityScale, tick: m.tick },
      priceFactor,
      quantityFactor,
    };
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
