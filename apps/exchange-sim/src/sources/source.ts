import type { SimTrade } from '../trade.js';

/**
 * A stream of trades for one market, pulled by the feed driver. Finite for recordings, endless for
 * the synthetic market (unless given a count).
 */
export interface TradeSource {
  /** The next trade without consuming it; undefined once the source is exhausted. */
  peek(): SimTrade | undefined;
  /** Consumes and returns the next trade. */
  next(): SimTrade | undefined;
  /** Total number of trades when known (recordings). */
  readonly total?: number;
  /** Live sources: continue from wall-clock time `nowMs` (after a pause) without a backlog. */
  rebase?(nowMs: number): void;
}

/** Replays an array of trades in order. */
export class ArrayTradeSource implements TradeSource {
  private i = 0;
  constructor(private readonly trades: readonly SimTrade[]) {}
  get total(): number {
    return this.trades.length;
  }
  peek(): SimTrade | undefined {
    return this.trades[this.i];
  }
  next(): SimTrade | undefined {
    const t = this.trades[this.i];
    if (t) this.i++;
    return t;
  }
}
