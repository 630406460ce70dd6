import { FootprintCandle } from './candle.js';
import { invalidArgument } from './errors.js';
import { type GroupingMode, assertMode, assertStep } from './grouping.js';
import { TIMEFRAME_MS, type Timeframe, bucketStartMs, parseTimeframe } from './timeframe.js';
import { type Side, priceQtySideTimeRejectReason } from './trade.js';

export interface FootprintSeriesOptions {
  /** Timeframes to keep; the smallest is built trade by trade, the others by exact roll-up. */
  timeframes: readonly Timeframe[];
  /** Grouping step in price units (1 = native units; the aggregator keeps native ticks). */
  step?: number;
  mode?: GroupingMode;
  /** Called with every candle that closes (a later trade opened the next bucket, or flush()). */
  onClose?: (candle: FootprintCandle) => void;
}

/** What add() did with a trade. */
export const AddResult = {
  Added: 0,
  /** The trade's time is before the open base candle: it belongs to a closed candle. */
  Late: 1,
  /** Invalid price, quantity, side or time; see lastRejectReason. */
  Rejected: 2,
} as const;
export type AddResult = (typeof AddResult)[keyof typeof AddResult];

/**
 * Footprints of one instrument for several timeframes at once.
 *
 * Only the smallest timeframe is updated per trade. When its candle closes it is appended to an
 * accumulator per larger timeframe (exact, see FootprintCandle.append), so per-trade cost does not
 * grow with the number of timeframes. openCandle(tf) returns the live larger candle as
 * accumulator + the open base candle.
 *
 * Trades must arrive in time order (the collectors publish each symbol in exchange id order).
 * A trade older than the open base candle is not applied and add() says Late: the caller decides
 * (the aggregator records it as a correction); nothing is silently dropped.
 */
export class FootprintSeries {
  readonly timeframes: readonly Timeframe[];
  readonly base: Timeframe;
  readonly step: number;
  readonly mode: GroupingMode;
  private readonly higher: Timeframe[];
  private readonly accumulators: (FootprintCandle | null)[];
  private current: FootprintCandle | null = null;
  private currentEndUs = 0;
  private readonly onClose: (candle: FootprintCandle) => void;
  lastRejectReason: string | null = null;
  rejected = 0;
  late = 0;

  constructor(options: FootprintSeriesOptions) {
    const tfs = [...new Set(options.timeframes.map(parseTimeframe))].sort((a, b) => TIMEFRAME_MS[a] - TIMEFRAME_MS[b]);
    if (tfs.length === 0) throw invalidArgument('at least one timeframe is needed');
    this.timeframes = tfs;
    this.base = tfs[0]!;
    this.higher = tfs.slice(1);
    for (const tf of this.higher) {
      if (TIMEFRAME_MS[tf] % TIMEFRAME_MS[this.base] !== 0)
        throw invalidArgument(`${tf} is not a multiple of ${this.base}`);
    }
    this.accumulators = this.higher.map(() => null);
    this.step = assertStep(options.step ?? 1);
    this.mode = assertMode(options.mode ?? 'nearest');
    this.onClose = options.onClose ?? (() => undefined);
  }

  /** Adds one trade (units and µs as in Trade). Validates it; never throws for bad input. */
  add(price: number, quantity: number, side: Side, timeUs: number): AddResult {
    const reason = priceQtySideTimeRejectReason(price, quantity, side, timeUs);
    if (reason !== null) {
      this.rejected++;
      this.lastRejectReason = reason;
      return AddResult.Rejected;
    }
    let c = this.current;
    if (c === null || timeUs >= this.currentEndUs) {
      c = this.roll(timeUs);
    } else if (timeUs < c.openTime * 1000) {
      this.late++;
      return AddResult.Late;
    }
    c.add(price, quantity, side, timeUs);
    return AddResult.Added;
  }

  /** The live candle of `tf` (a copy; null when nothing traded in its bucket yet). */
  openCandle(tf: Timeframe): FootprintCandle | null {
    const cur = this.current;
    if (tf === this.base) return cur === null || cur.isEmpty ? null : cur.clone();
    const i = this.higher.indexOf(tf);
    if (i < 0) throw invalidArgument(`timeframe ${tf} is not kept by this series`);
    const acc = this.accumulators[i] ?? null;
    if (cur === null) return acc === null ? null : acc.clone();
    const start = cur.openTime - (cur.openTime % TIMEFRAME_MS[tf]);
    const out =
      acc !== null && acc.openTime === start ? acc.clone() : new FootprintCandle(tf, start, this.step, this.mode);
    out.append(cur);
    return out.isEmpty ? null : out;
  }

  /** Closes every open candle (end of a replay, shutdown): each goes to onClose. */
  flush(): void {
    const cur = this.current;
    this.current = null;
    if (cur !== null) this.closeBase(cur);
    for (let i = 0; i < this.higher.length; i++) {
      const acc = this.accumulators[i];
      this.accumulators[i] = null;
      if (acc) this.onClose(acc);
    }
  }

  private roll(timeUs: number): FootprintCandle {
    const prev = this.current;
    const start = bucketStartMs(timeUs, this.base);
    if (prev !== null) this.closeBase(prev);
    // Larger buckets that the new base candle no longer belongs to are complete.
    for (let i = 0; i < this.higher.length; i++) {
      const acc = this.accumulators[i];
      if (acc && start - (start % TIMEFRAME_MS[this.higher[i]!]) !== acc.openTime) {
        this.accumulators[i] = null;
        this.onClose(acc);
      }
    }
    const next = new FootprintCandle(this.base, start, this.step, this.mode);
    this.current = next;
    this.currentEndUs = (start + TIMEFRAME_MS[this.base]) * 1000;
    return next;
  }

  private closeBase(candle: FootprintCandle): void {
    if (candle.isEmpty) return;
    for (let i = 0; i < this.higher.length; i++) {
      const tf = this.higher[i]!;
      const start = candle.openTime - (candle.openTime % TIMEFRAME_MS[tf]);
      let acc = this.accumulators[i];
      if (!acc || acc.openTime !== start) {
        if (acc) this.onClose(acc);
        acc = new FootprintCandle(tf, start, this.step, this.mode);
        this.accumulators[i] = acc;
      }
      acc.append(candle);
    }
    this.onClose(candle);
  }
}
