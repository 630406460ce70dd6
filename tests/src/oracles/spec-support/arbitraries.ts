/**
 * Trades for the oracle properties: few price levels with gaps between them, volumes that tie
 * often (flat profiles, equal neighbours), a single level, no trade at all, and large prices and
 * volumes (up to what the engine's safe-integer sums hold), spread over minutes of one or two UTC
 * days. Deterministic: fast-check's seed alone decides them (no Math.random).
 */
import fc from 'fast-check';
import type { RefTrade } from '../candles.js';

/** The fixed seed of every property here; fast-check prints it with the failing path on failure. */
export const SEED = 20_241_119;

/** 2024-08-08T00:00:00Z, in ms. */
export const DAY0 = Date.UTC(2024, 7, 8);

export interface TradeShape {
  /** Lowest price units. */
  base: number;
  /** Distance between the generated prices, in units (1 = every tick; larger leaves gaps at step 1). */
  spacing: number;
  /** How many distinct prices (1 = a single level). */
  width: number;
  /** Quantities drawn from 1..maxQuantity (small: many ties). */
  maxQuantity: number;
  /** How many distinct minutes the trades fall in, `minuteMs` apart from DAY0. */
  minutes: number;
  /** 1 minute; 7 minutes (several 30-minute TPO periods); 4 h 7 min (several UTC days). */
  minuteMs: number;
  maxTrades: number;
}

const MINUTE_MS = fc.constantFrom(60_000, 420_000, 14_820_000);

const SHAPES: fc.Arbitrary<TradeShape>[] = [
  // ties everywhere: quantities 1-2, a handful of levels
  fc.record({
    base: fc.integer({ min: 0, max: 10_000 }),
    spacing: fc.constant(1),
    width: fc.integer({ min: 1, max: 6 }),
    maxQuantity: fc.integer({ min: 1, max: 2 }),
    minutes: fc.integer({ min: 1, max: 5 }),
    minuteMs: MINUTE_MS,
    maxTrades: fc.constant(25),
  }),
  // gaps: prices several ticks apart
  fc.record({
    base: fc.integer({ min: 0, max: 1_000_000 }),
    spacing: fc.integer({ min: 2, max: 7 }),
    width: fc.integer({ min: 1, max: 12 }),
    maxQuantity: fc.integer({ min: 1, max: 50 }),
    minutes: fc.integer({ min: 1, max: 8 }),
    minuteMs: MINUTE_MS,
    maxTrades: fc.constant(40),
  }),
  // general
  fc.record({
    base: fc.integer({ min: 0, max: 10_000_000 }),
    spacing: fc.integer({ min: 1, max: 3 }),
    width: fc.integer({ min: 1, max: 30 }),
    maxQuantity: fc.integer({ min: 1, max: 1_000 }),
    minutes: fc.integer({ min: 1, max: 20 }),
    minuteMs: MINUTE_MS,
    maxTrades: fc.constant(60),
  }),
  // large prices (2^40 units) and volumes (up to 2^40 each, a few dozen trades: sums stay below 2^53)
  fc.record({
    base: fc.integer({ min: 2 ** 39, max: 2 ** 40 }),
    spacing: fc.integer({ min: 1, max: 2 }),
    width: fc.integer({ min: 1, max: 8 }),
    maxQuantity: fc.constant(2 ** 40),
    minutes: fc.integer({ min: 1, max: 4 }),
    minuteMs: MINUTE_MS,
    maxTrades: fc.constant(20),
  }),
];

export function tradesOf(shape: TradeShape): fc.Arbitrary<RefTrade[]> {
  const trade = fc.record({
    level: fc.integer({ min: 0, max: shape.width - 1 }),
    quantity: fc.integer({ min: 1, max: shape.maxQuantity }),
    buy: fc.boolean(),
    minute: fc.integer({ min: 0, max: shape.minutes - 1 }),
    second: fc.integer({ min: 0, max: 59 }),
  });
  return fc.array(trade, { minLength: 0, maxLength: shape.maxTrades }).map((ts) =>
    ts
      // trade order is time order
      .sort((a, b) => a.minute - b.minute || a.second - b.second)
      .map((t, i) => ({
        price: BigInt(shape.base + t.level * shape.spacing),
        quantity: BigInt(t.quantity),
        side: t.buy ? ('buy' as const) : ('sell' as const),
        timeUs: BigInt(DAY0 + t.minute * shape.minuteMs + t.second * 1000) * 1000n + BigInt(i % 1000),
      })),
  );
}

/** Trades of any of the shapes above. */
export const trades: fc.Arbitrary<RefTrade[]> = fc.oneof(...SHAPES).chain(tradesOf);

/**
 * A flat profile: every level from base to base + width - 1 traded with the same volume (one or
 * more trades each, in one minute).
 */
export const flatTrades: fc.Arbitrary<RefTrade[]> = fc
  .record({
    base: fc.integer({ min: 0, max: 100_000 }),
    width: fc.integer({ min: 1, max: 15 }),
    quantity: fc.integer({ min: 1, max: 1_000 }),
    split: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ base, width, quantity, split }) => {
    const out: RefTrade[] = [];
    for (let l = 0; l < width; l++) {
      for (let s = 0; s < split; s++) {
        out.push({
          price: BigInt(base + l),
          quantity: BigInt(quantity),
          side: (l + s) % 2 === 0 ? 'buy' : 'sell',
          timeUs: BigInt(DAY0 + out.length) * 1000n,
        });
      }
    }
    return out;
  });

/** A grouping step and mode. */
export const grouping = fc.record({
  step: fc.constantFrom(1, 1, 2, 3, 5, 10),
  mode: fc.constantFrom('nearest' as const, 'down' as const),
});

/** A percentage in (0, 100] with up to 2 decimals, as the engine's number and the oracle's decimal text. */
export const percent = fc.integer({ min: 1, max: 10_000 }).map((h) => ({
  number: h / 100,
  text: `${Math.floor(h / 100)}.${String(h % 100).padStart(2, '0')}`,
}));
