import { formatPriceTicks, formatQtySteps, stepUnits, tickUnits, type InstrumentSpec } from '../instruments.js';
import type { AggressorSide, SimTrade } from '../trade.js';
import { hashString, Random } from './random.js';
import type { TradeSource } from './source.js';

export interface ConstantRateMarketOptions {
  readonly instrument: InstrumentSpec;
  /** Trades per second, exactly (default 50); may be fractional (0.5 = one trade every 2 s). */
  readonly rate?: number;
  /** Seed of the price walk, sides and sizes (default 1). */
  readonly seed?: number;
  /** Time of the first trade, ms (default Date.now()). */
  readonly startTime?: number;
  /** First trade id (default derived from the symbol, as SyntheticMarket does). */
  readonly startId?: number;
  /** Stop after this many trades (default endless). */
  readonly count?: number;
  /** Annualised volatility of the price walk (default 0.6). */
  readonly volatility?: number;
}

const SECONDS_PER_YEAR = 365 * 24 * 3600;
/** Distinct quantities drawn once at start (heavy-tailed, like SyntheticMarket's). */
const QTY_TABLE = 1024;
/** Cached price strings before the cache is cleared (the walk stays near its start). */
const PRICE_CACHE = 4096;

/**
 * A load generator's trade tape: exactly `rate` trades per second, evenly spaced. Trade k after
 * the base time B (the start, or the last rebase) has time B + floor(k * 1000 / rate), so every
 * second of exchange time holds floor or ceil of `rate` trades (exactly `rate` for an integer rate)
 * and no two consecutive gaps differ by more than 1 ms. The live feed releases each trade when its
 * time is due on the wall clock, so the timestamps are live.
 *
 * It is built to be cheap at 100k trades/s: prices come from a cache of printed ticks, quantities
 * from a table drawn once (Pareto notionals, rounded to the step), and the only per-trade work is
 * a few random numbers and one object. The price is a diffusion of a continuous mid (annualised
 * `volatility`, pulled back to the start price) independent of the rate, plus micro-structure:
 * buys print at the ask, sells at the bid, and one trade in four walks 1-3 ticks into the book.
 * Ids are contiguous.
 */
export class ConstantRateMarket implements TradeSource {
  readonly instrument: InstrumentSpec;
  readonly rate: number;
  private readonly rng: Random;
  private readonly msPerTrade: number;
  private readonly sigmaPerTrade: number;
  private readonly startTicks: number;
  private readonly count: number;
  private readonly quantities: string[];
  private readonly prices = new Map<number, string>();

  private base: number;
  /** Trades since `base`. */
  private k = 0;
  private nextId: number;
  private produced = 0;
  private mid: number;
  private pending: SimTrade | undefined;

  constructor(options: ConstantRateMarketOptions) {
    const spec = options.instrument;
    this.instrument = spec;
    const rate = options.rate ?? 50;
    if (!(rate > 0) || !Number.isFinite(rate))
      throw new RangeError(`constant rate must be a positive number, got ${rate}`);
    this.rate = rate;
    this.msPerTrade = 1000 / rate;
    this.rng = new Random(hashString(`${options.seed ?? 1}:${spec.venue}:${spec.symbol}:constant`));
    this.base = options.startTime ?? Date.now();
    this.nextId = options.startId ?? 1_000_000_000 + (hashString(spec.symbol) % 900_000_000);
    this.count = options.count ?? Number.POSITIVE_INFINITY;
    const tick = tickUnits(spec);
    const step = stepUnits(spec);
    const tickValue = tick.units / 10 ** tick.scale;
    const stepValue = step.units / 10 ** step.scale;
    const unitValue = Number(spec.contractValue) || 1;
    this.startTicks = Math.max(10, Math.round(Number(spec.startPrice) / tickValue));
    this.mid = this.startTicks;
    const vol = options.volatility ?? 0.6;
    // the walk's standard deviation per trade in ticks (relative to the start price)
    this.sigmaPerTrade = this.startTicks * (vol / Math.sqrt(SECONDS_PER_YEAR * 1000)) * Math.sqrt(this.msPerTrade);
    const price = this.startTicks * tickValue;
    this.quantities = [];
    for (let i = 0; i < QTY_TABLE; i++) {
      const notional = Math.min(this.rng.pareto(25, 1.05), 3_000_000);
      const steps = Math.max(1, Math.round(notional / (price * unitValue * stepValue)));
      this.quantities.push(formatQtySteps(spec, Math.min(steps, 1_000_000_000)));
    }
  }

  get total(): number | undefined {
    return Number.isFinite(this.count) ? this.count : undefined;
  }

  peek(): SimTrade | undefined {
    if (this.pending === undefined && this.produced < this.count) this.pending = this.generate();
    return this.pending;
  }

  next(): SimTrade | undefined {
    const t = this.peek();
    this.pending = undefined;
    return t;
  }

  /**
   * Live mode after a pause (or at the start): the schedule restarts at `nowMs` without a backlog;
   * a trade already generated but not taken keeps its id and moves to `nowMs`.
   */
  rebase(nowMs: number): void {
    const due = this.pending?.time ?? this.base + this.k * this.msPerTrade;
    if (nowMs <= due) return;
    this.base = nowMs;
    this.k = 0;
    if (this.pending) {
      this.pending = { ...this.pending, time: Math.floor(nowMs) };
      this.k = 1;
    }
  }

  private generate(): SimTrade {
    const rng = this.rng;
    const time = Math.floor(this.base + this.k * this.msPerTrade);
    this.k++;
    // a continuous mid: diffusion at the configured volatility, gently pulled back to the start
    this.mid += rng.normal() * this.sigmaPerTrade - 1e-7 * (this.mid - this.startTicks);
    if (this.mid < 2) this.mid = 2;
    const bid = Math.round(this.mid);
    const side: AggressorSide = rng.next() < 0.5 ? 'buy' : 'sell';
    const r = rng.next();
    // one trade in four walks 1-3 ticks into the book
    const walk = r < 0.25 ? 1 + Math.floor(r * 12) : 0;
    const ticks = side === 'buy' ? bid + 1 + walk : Math.max(1, bid - walk);
    const id = this.nextId++;
    this.produced++;
    return {
      id,
      price: this.price(ticks),
      quantity: this.quantities[(rng.next() * QTY_TABLE) | 0]!,
      time,
      side,
      firstId: id,
      lastId: id,
    };
  }

  private price(ticks: number): string {
    let s = this.prices.get(ticks);
    if (s === undefined) {
      if (this.prices.size >= PRICE_CACHE) this.prices.clear();
      s = formatPriceTicks(this.instrument, ticks);
      this.prices.set(ticks, s);
    }
    return s;
  }
}
