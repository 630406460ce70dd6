import type { DeadLetter, GapEvent } from '@orderflow/contracts';
import type { Instrument, Trade } from '@orderflow/footprint';
import type { CatchUpStatus } from './resume.js';

/** Where normalised trades go (the JetStream publisher in production, an array in unit tests). */
export interface TradeSink {
  add(instrument: Instrument, trade: Trade): void;
  /** True when the sink's bounded buffer is full: the feed pauses its sockets until onceDrained(). */
  readonly saturated: boolean;
  onceDrained(): Promise<void>;
}

/** Where malformed frames and gap records go (the COLLECTOR_EVENTS stream). */
export interface EventSink {
  deadLetter(d: DeadLetter): void;
  gap(g: GapEvent): void;
}

export interface FeedLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Counters a feed keeps; exported as Prometheus metrics by the app. */
export interface FeedCounters {
  frames: number;
  trades: number;
  malformed: Record<string, number>;
  duplicates: number;
  backfilledTrades: number;
  gapsDetected: number;
  gapsFilled: number;
  gapsUnfilled: number;
  reconnects: number;
  restRequests: number;
}

export interface FeedStatus {
  exchange: string;
  connected: boolean;
  connections: number;
  symbols: {
    symbol: string;
    nextId: string | null;
    filling: boolean;
    queued: number;
    lastTradeAtMs: number | null;
    /** Where collection started: after the last stored trade, at the backfill window, or live. */
    start?: StartStatus;
    /** The catch-up under way, else the last one finished (null: none since start). */
    catchUp?: CatchUpStatus | null;
  }[];
  counters: FeedCounters;
}

export interface StartStatus {
  /**
   * 'stored': resumed after the last trade in JetStream; 'backfill': the COLLECTOR_BACKFILL_MINUTES window; 'live': the
   * first live trade.
   */
  from: 'stored' | 'backfill' | 'live';
  /** The last stored trade resumed after ('stored'). */
  lastStoredId?: string;
  lastStoredTimeUs?: number;
  /** Why stored trades were not resumed after (they are not this exchange's history). */
  note?: string;
  /** Trades recovered from REST at start (Bybit: its recent-trade window). */
  recovered?: number;
  /** Ids or time recorded as an unfilled gap at start, and why. */
  unfilled?: { fromId: string; toId: string; fromTimeUs: number; toTimeUs: number; reason: string };
}

export interface Feed {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): FeedStatus;
}

export function newCounters(): FeedCounters {
  return {
    frames: 0,
    trades: 0,
    malformed: {},
    duplicates: 0,
    backfilledTrades: 0,
    gapsDetected: 0,
    gapsFilled: 0,
    gapsUnfilled: 0,
    reconnects: 0,
    restRequests: 0,
  };
}
