import { formatPriceTicks, formatQtySteps, stepUnits, tickUnits, type InstrumentSpec } from '../instruments.js';
import type { AggressorSide, SimTrade } from '../trade.js';
import { hashString, Random } from './random.js';
import type { TradeSource } from './source.js';

export interface SyntheticMarketOptions {
  readonly instrument: InstrumentSpec;
  /** Average trades per second outside bursts (default 50). */
  readonly rate?: number;
  /** Seed of the random walk; the same seed, symbol and start give the same trades (default 1). */
  readonly seed?: number;
  /** Time of the first trade, ms (default Date.now()). */
  readonly startTime?: number;
  /** First trade id (default derived from the symbol, a realistic 10-digit number). */
  readonly startId?: number;
  /** Stop after this many trades (default endless). */
  readonly count?: number;
  /** Annualised volatility of the random walk (default 0.6). */
  readonly volatility?: number;
}

const SECONDS_PER_YEAR = 365 * 24 * 3600;
/** Average rate multiplier of the burst regime (see generate): measured, keeps `rate` the mean. */
const BURST_FACTOR = 2.5;

/**
 * A synthetic trade tape: a mean-reverting random walk of the bid in ticks with a one-tick spread
 * (buys print at the ask, sells at the bid), Poisson arrivals, and bursts of activity in which one
 * side sweeps several levels within the same millisecond. Trade sizes are Pareto-distributed in
 * notional (heavy tail), rounded to the quantity step. Ids are contiguous.
 */
export class SyntheticMarket implements TradeSource {
  readonly instrument: InstrumentSpec;
  private readonly rng: Random;
  private readonly rate: number;
  private readonly sigmaPerSqrtMs: number;
  private readonly startTicks: number;
  private readonly tickValue: number;
  private readonly stepValue: number;
  private readonly unitValue: number;
  private readonly count: number;

  private clock: number;
  private nextId: number;
  private produced = 0;
  private bid: number;
  private burstUntil = -1;
  private burstSide: AggressorSide = 'buy';
  private burstIntensity = 1;
  private burstTarget = 0;
  private pending: SimTrade | undefined;

  constructor(options: SyntheticMarketOptions) {
    const spec = options.instrument;
    this.instrument = spec;
    // bursts roughly multiply the average rate by BURST_FACTOR; divide it out so that `rate` holds
    this.rate = Math.max(0.001, options.rate ?? 50) / BURST_FACTOR;
    this.rng = new Random(hashString(`${options.seed ?? 1}:${spec.venue}:${spec.symbol}`));
    this.clock = options.startTime ?? Date.now();
    this.nextId = options.startId ?? 1_000_000_000 + (hashString(spec.symbol) % 900_000_000);
    this.count = options.count ?? Number.POSITIVE_INFINITY;
    const tick = tickUnits(spec);
    const step = stepUnits(spec);
    this.tickValue = tick.units / 10 ** tick.scale;
    this.stepValue = step.units / 10 ** step.scale;
    this.unitValue = Number(spec.contractValue) || 1;
    this.startTicks = Math.max(10, Math.round(Number(spec.startPrice) / this.tickValue));
    this.bid = this.startTicks;
    const vol = options.volatility ?? 0.6;
    this.sigmaPerSqrtMs = vol / Math.sqrt(SECONDS_PER_YEAR * 1000);
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

  /** Live mode after a pause: jump the clock to now, keeping the pending trade's id. */
  rebase(nowMs: number): void {
    if (nowMs <= this.clock) return;
    this.clock = nowMs;
    if (this.pending) this.pending = { ...this.pending, time: Math.floor(nowMs) };
  }

  private generate(): SimTrade {
    const rng = this.rng;
    const inBurst = this.clock < this.burstUntil;
    // inter-arrival time: Poisson, faster in bursts, and sweeps that share the millisecond
    let dt: number;
    if (inBurst && rng.chance(0.55)) dt = 0;
    else dt = rng.exponential(1000 / (this.rate * (inBurst ? this.burstIntensity : 1)));
    // a burst starts on average every 15 s of market time
    if (!inBurst && rng.chance(1 - Math.exp(-dt / 15_000))) {
      this.burstUntil = this.clock + dt + rng.between(200, 3000);
      this.burstSide = rng.chance(0.5) ? 'buy' : 'sell';
      this.burstIntensity = rng.between(3, 12);
      // the burst walks the book by 0.02% .. 0.15% of the price in its direction
      const move = Math.max(1, Math.round(this.bid * rng.between(0.0002, 0.0015)));
      this.burstTarget = this.bid + (this.burstSide === 'buy' ? move : -move);
    }
    this.clock += dt;
    const burst = this.clock < this.burstUntil;

    // price: diffusion of the bid, gentle pull back to the start, and sweeps during bursts
    const priceTicks = this.bid;
    if (dt > 0) {
      const sigmaTicks = priceTicks * this.sigmaPerSqrtMs * Math.sqrt(dt);
      const pull = -2e-7 * (priceTicks - this.startTicks) * Math.min(dt, 60_000);
      this.bid += Math.round(rng.normal() * sigmaTicks + pull);
    }
    const side: AggressorSide = burst
      ? rng.chance(0.85)
        ? this.burstSide
        : opposite(this.burstSide)
      : rng.chance(0.5)
        ? 'buy'
        : 'sell';
    if (burst && side === this.burstSide && rng.chance(0.35)) {
      // sweep: take a random share of the remaining way to the burst's target
      const remaining = this.burstTarget - this.bid;
      const step = Math.round(remaining * rng.between(0, 0.15));
      if (step !== 0 && Math.sign(step) === (side === 'buy' ? 1 : -1)) this.bid += step;
    }
    if (this.bid < 2) this.bid = 2;
    const ticks = side === 'buy' ? this.bid + 1 : this.bid;

    // size: heavy-tailed notional, larger in bursts, rounded to the step (at least one step)
    const price = ticks * this.tickValue;
    let notional = rng.pareto(25, 1.05);
    if (burst) notional *= rng.between(1, 4);
    notional = Math.min(notional, 3_000_000);
    let steps = Math.max(1, Math.round(notional / (price * this.unitValue * this.stepValue)));
    if (steps > 1 && rng.chance(0.08)) steps = roundLot(steps);

    const id = this.nextId++;
    this.produced++;
    return {
      id,
      price: formatPriceTicks(this.instrument, ticks),
      quantity: formatQtySteps(this.instrument, Math.min(steps, 1_000_000_000)),
      time: Math.floor(this.clock),
      side,
      firstId: id,
      lastId: id,
    };
  }
}

function opposite(side: AggressorSide): AggressorSide {
  return side === 'buy' ? 'sell' : 'buy';
}

/** Humans like round sizes: 1234 steps -> 1000. */
function roundLot(steps: number): number {
  const mag = 10 ** Math.floor(Math.log10(steps));
  return Math.max(1, Math.round(steps / mag) * mag);
}
