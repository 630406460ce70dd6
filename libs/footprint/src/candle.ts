import { FootprintError, OverflowError, invalidArgument } from './errors.js';
import { type GroupingMode, assertMode, assertStep, groupPrice } from './grouping.js';
import { type Timeframe, TIMEFRAME_MS } from './timeframe.js';
import type { Side } from './trade.js';

/** Volume and trade counts at one price level of a candle. Volumes are quantity units. */
export interface PriceLevel {
  price: number;
  buyVolume: number;
  sellVolume: number;
  buyTrades: number;
  sellTrades: number;
}

/** The plain-data form of a candle (what goes over the wire and into tests' comparisons). */
export interface CandleData {
  timeframe: Timeframe;
  openTime: number;
  step: number;
  mode: GroupingMode;
  open: number;
  high: number;
  low: number;
  close: number;
  buyVolume: number;
  sellVolume: number;
  buyTrades: number;
  sellTrades: number;
  delta: number;
  maxDelta: number;
  minDelta: number;
  firstTimeUs: number;
  lastTimeUs: number;
  /** True when every level's price is the exact trade price (no trade was moved by grouping). */
  onGrid: boolean;
  /** Ascending by price; only levels that traded. */
  levels: PriceLevel[];
}

const MAX = Number.MAX_SAFE_INTEGER;
/** Levels indexed densely around a candle's first price (see add()). */
const WINDOW = 512;

/**
 * A footprint candle: OHLC plus, per price level (grouped to `step` price units), buy and sell
 * volume and trade counts; delta (buy - sell) and its intra-candle extremes.
 *
 * `maxDelta`/`minDelta` are the highest and lowest running delta after each trade of the candle,
 * in trade order. Defined this way they roll up exactly: for candles A then B,
 * max = max(A.max, A.delta + B.max).
 *
 * The class is both the builder (add) and the value. add() is the engine's hot path: no
 * allocation unless a new level appears, a one-entry cache for repeated prices.
 */
export class FootprintCandle {
  open = 0;
  high = 0;
  low = 0;
  close = 0;
  buyVolume = 0;
  sellVolume = 0;
  buyTrades = 0;
  sellTrades = 0;
  maxDelta = 0;
  minDelta = 0;
  firstTimeUs = 0;
  lastTimeUs = 0;
  onGrid = true;
  readonly levels = new Map<number, PriceLevel>();
  private cachedKey = -1;
  private cachedLevel: PriceLevel | null = null;
  private window: (PriceLevel | undefined)[] | null = null;
  private windowOrigin = 0;

  constructor(
    readonly timeframe: Timeframe,
    readonly openTime: number,
    readonly step = 1,
    readonly mode: GroupingMode = 'nearest',
  ) {
    assertStep(step);
    assertMode(mode);
    if (!Number.isSafeInteger(openTime) || openTime % TIMEFRAME_MS[timeframe] !== 0) {
      throw invalidArgument(`candle open time ${openTime} is not aligned to ${timeframe}`);
    }
  }

  get delta(): number {
    return this.buyVolume - this.sellVolume;
  }
  get volume(): number {
    return this.buyVolume + this.sellVolume;
  }
  get trades(): number {
    return this.buyTrades + this.sellTrades;
  }
  get isEmpty(): boolean {
    return this.buyTrades + this.sellTrades === 0;
  }

  /**
   * Adds one validated trade (price and quantity in units, time in µs). The caller guarantees
   * validity and that the time falls in this candle (FootprintSeries does both).
   */
  add(price: number, quantity: number, side: Side, timeUs: number): void {
    if (this.buyTrades + this.sellTrades === 0) {
      this.open = this.high = this.low = price;
      this.firstTimeUs = timeUs;
    } else {
      if (price > this.high) this.high = price;
      else if (price < this.low) this.low = price;
    }
    this.close = price;
    this.lastTimeUs = timeUs;

    const key = this.step === 1 ? price : groupPrice(price, this.step, this.mode);
    let level: PriceLevel;
    if (key === this.cachedKey) {
      level = this.cachedLevel!;
    } else {
      // A dense window of levels around the first price: prices in a candle cluster, and an array
      // index is several times cheaper than a Map lookup. The Map stays the source of truth.
      if (this.window === null) {
        this.window = new Array<PriceLevel | undefined>(WINDOW).fill(undefined);
        this.windowOrigin = key - (WINDOW / 2) * this.step;
      }
      const slot = (key - this.windowOrigin) / this.step;
      const inWindow = slot >= 0 && slot < WINDOW;
      let found = inWindow ? this.window[slot] : undefined;
      if (found === undefined) {
        found = this.levels.get(key);
        if (found === undefined) {
          found = { price: key, buyVolume: 0, sellVolume: 0, buyTrades: 0, sellTrades: 0 };
          this.levels.set(key, found);
        }
        if (inWindow) this.window[slot] = found;
      }
      level = found;
      this.cachedKey = key;
      this.cachedLevel = level;
    }

    if (side === 'buy') {
      level.buyVolume += quantity;
      level.buyTrades++;
      if ((this.buyVolume += quantity) > MAX) throw new OverflowError('candle buy volume');
      const first = this.buyTrades++ + this.sellTrades === 0;
      const d = this.buyVolume - this.sellVolume;
      if (first) this.maxDelta = this.minDelta = d;
      else if (d > this.maxDelta) this.maxDelta = d;
    } else {
      level.sellVolume += quantity;
      level.sellTrades++;
      if ((this.sellVolume += quantity) > MAX) throw new OverflowError('candle sell volume');
      const first = this.sellTrades++ + this.buyTrades === 0;
      const d = this.buyVolume - this.sellVolume;
      if (first) this.maxDelta = this.minDelta = d;
      else if (d < this.minDelta) this.minDelta = d;
    }
    if (key !== price) this.onGrid = false;
  }

  /**
   * Appends a LATER candle of the same grouping (its trades all come after this one's) into this
   * one: the roll-up step. The other candle may be of a smaller timeframe.
   */
  append(later: FootprintCandle | CandleData): this {
    if (later.step !== this.step || later.mode !== this.mode) {
      throw new FootprintError(
        'INCOMPATIBLE_CANDLES',
        `cannot merge a candle grouped by ${later.step} (${later.mode}) into one grouped by ${this.step} (${this.mode})`,
      );
    }
    const laterTrades = later.buyTrades + later.sellTrades;
    if (laterTrades === 0) return this;
    const wasEmpty = this.isEmpty;
    if (!wasEmpty && later.firstTimeUs < this.lastTimeUs) {
      throw new FootprintError(
        'INCOMPATIBLE_CANDLES',
        'append() needs the later candle second (trades out of time order)',
      );
    }
    const before = this.delta;
    if (wasEmpty) {
      this.open = later.open;
      this.high = later.high;
      this.low = later.low;
      this.firstTimeUs = later.firstTimeUs;
      this.maxDelta = later.maxDelta;
      this.minDelta = later.minDelta;
    } else {
      if (later.high > this.high) this.high = later.high;
      if (later.low < this.low) this.low = later.low;
      if (before + later.maxDelta > this.maxDelta) this.maxDelta = before + later.maxDelta;
      if (before + later.minDelta < this.minDelta) this.minDelta = before + later.minDelta;
    }
    this.close = later.close;
    this.lastTimeUs = later.lastTimeUs;
    this.buyVolume += later.buyVolume;
    this.sellVolume += later.sellVolume;
    if (this.buyVolume > MAX || this.sellVolume > MAX) throw new OverflowError('candle volume');
    this.buyTrades += later.buyTrades;
    this.sellTrades += later.sellTrades;
    this.onGrid = this.onGrid && later.onGrid;
    for (const l of levelsOf(later)) this.addLevel(l.price, l);
    return this;
  }

  /** Adds a level's figures at `price` (already grouped for this candle). */
  private addLevel(price: number, l: PriceLevel): void {
    const mine = this.levels.get(price);
    if (mine === undefined) {
      this.levels.set(price, {
        price,
        buyVolume: l.buyVolume,
        sellVolume: l.sellVolume,
        buyTrades: l.buyTrades,
        sellTrades: l.sellTrades,
      });
    } else {
      mine.buyVolume += l.buyVolume;
      mine.sellVolume += l.sellVolume;
      mine.buyTrades += l.buyTrades;
      mine.sellTrades += l.sellTrades;
    }
    this.cachedKey = -1;
    this.cachedLevel = null;
    this.window = null; // the next add() starts a new window and finds existing levels in the Map
  }

  /** Levels ascending by price (copies). */
  sortedLevels(): PriceLevel[] {
    return [...this.levels.values()].sort((a, b) => a.price - b.price).map((l) => ({ ...l }));
  }

  toData(): CandleData {
    return {
      timeframe: this.timeframe,
      openTime: this.openTime,
      step: this.step,
      mode: this.mode,
      open: this.open,
      high: this.high,
      low: this.low,
      close: this.close,
      buyVolume: this.buyVolume,
      sellVolume: this.sellVolume,
      buyTrades: this.buyTrades,
      sellTrades: this.sellTrades,
      delta: this.delta,
      maxDelta: this.maxDelta,
      minDelta: this.minDelta,
      firstTimeUs: this.firstTimeUs,
      lastTimeUs: this.lastTimeUs,
      onGrid: this.onGrid,
      levels: this.sortedLevels(),
    };
  }

  clone(): FootprintCandle {
    return FootprintCandle.fromData(this.toData());
  }

  static fromData(d: CandleData): FootprintCandle {
    const c = new FootprintCandle(d.timeframe, d.openTime, d.step, d.mode);
    Object.assign(c, {
      open: d.open,
      high: d.high,
      low: d.low,
      close: d.close,
      buyVolume: d.buyVolume,
      sellVolume: d.sellVolume,
      buyTrades: d.buyTrades,
      sellTrades: d.sellTrades,
      maxDelta: d.maxDelta,
      minDelta: d.minDelta,
      firstTimeUs: d.firstTimeUs,
      lastTimeUs: d.lastTimeUs,
      onGrid: d.onGrid,
    });
    for (const l of d.levels) c.levels.set(l.price, { ...l });
    return c;
  }
}

function levelsOf(c: FootprintCandle | CandleData): Iterable<PriceLevel> {
  return c instanceof FootprintCandle ? c.levels.values() : c.levels;
}

/**
 * Rolls candles of one timeframe up into `timeframe` buckets (e.g. 1m into 1h). Input in time
 * order; output one candle per non-empty bucket. Exactly what direct aggregation gives.
 */
export function rollUp(candles: Iterable<FootprintCandle | CandleData>, timeframe: Timeframe): FootprintCandle[] {
  const len = TIMEFRAME_MS[timeframe];
  const out: FootprintCandle[] = [];
  let current: FootprintCandle | null = null;
  for (const c of candles) {
    if (TIMEFRAME_MS[c.timeframe] > len || len % TIMEFRAME_MS[c.timeframe] !== 0) {
      throw invalidArgument(`cannot roll ${c.timeframe} candles up to ${timeframe}`);
    }
    const start = c.openTime - (c.openTime % len);
    if (current === null || current.openTime !== start) {
      if (current !== null && start < current.openTime) throw invalidArgument('rollUp() needs candles in time order');
      current = new FootprintCandle(timeframe, start, c.step, c.mode);
      out.push(current);
    }
    current.append(c);
  }
  return out.filter((c) => !c.isEmpty);
}

/**
 * Re-groups a candle to a coarser step. Exact (equal to aggregating the trades directly at the new
 * step) when the source carries exact trade prices (`onGrid`, i.e. native ticks), or, in 'down'
 * mode, when the new step is a multiple of the old one. Round-to-nearest does not compose
 * (7 -> 6 at step 3, then 6 -> 0 at step 6, but 7 -> 6 directly), so other cases are refused.
 */
export function regroup(
  candle: FootprintCandle | CandleData,
  step: number,
  mode: GroupingMode = candle.mode,
): FootprintCandle {
  assertStep(step);
  assertMode(mode);
  const exact = candle.onGrid || (mode === 'down' && candle.mode === 'down' && step % candle.step === 0);
  if (!exact) {
    throw invalidArgument(
      `cannot regroup a candle grouped by ${candle.step} (${candle.mode}) to ${step} (${mode}) exactly: regroup from native-tick candles`,
    );
  }
  const out = new FootprintCandle(candle.timeframe, candle.openTime, step, mode);
  Object.assign(out, {
    open: candle.open,
    high: candle.high,
    low: candle.low,
    close: candle.close,
    buyVolume: candle.buyVolume,
    sellVolume: candle.sellVolume,
    buyTrades: candle.buyTrades,
    sellTrades: candle.sellTrades,
    maxDelta: candle.maxDelta,
    minDelta: candle.minDelta,
    firstTimeUs: candle.firstTimeUs,
    lastTimeUs: candle.lastTimeUs,
  });
  let onGrid = candle.onGrid;
  for (const l of levelsOf(candle)) {
    const p = groupPrice(l.price, step, mode);
    if (p !== l.price) onGrid = false;
    const mine = out.levels.get(p);
    if (mine === undefined) out.levels.set(p, { ...l, price: p });
    else {
      mine.buyVolume += l.buyVolume;
      mine.sellVolume += l.sellVolume;
      mine.buyTrades += l.buyTrades;
      mine.sellTrades += l.sellTrades;
    }
  }
  out.onGrid = onGrid;
  return out;
}
