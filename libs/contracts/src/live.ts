import { type CandleData, type PriceLevel, type Timeframe, formatRatio } from '@orderflow/footprint';
import { assertToken } from './subjects.js';

/**
 * Live output of the aggregator (issue 5), consumed by the gateway (issue 6).
 *
 * Ownership: each (exchange, symbol) is owned by exactly one aggregator shard, `shardOf(...)`.
 * Every service that needs the owner (aggregator, gateway) computes it from the same shard count.
 *
 * Updates: core NATS (not JetStream: they are ephemeral, ClickHouse holds history) on
 * `live.<exchange>.<symbol>.<timeframe>`, JSON `LiveUpdate`. At most one per (symbol, timeframe)
 * every AGG_LIVE_INTERVAL_MS (default 50 ms), conflated: an update carries the changed levels'
 * full values (never increments), so applying the latest of each level is exact. `seq` grows by
 * exactly 1 per update of that (symbol, timeframe) stream within one actor `epoch`; a receiver that
 * sees a seq jump or a new epoch has missed something and must re-snapshot.
 *
 * Snapshot: request/reply (the @nestjs/microservices NATS transport, so the body is Nest's packet
 * `{ pattern, data, id }` and the reply `{ response, isDisposed, id }` or `{ err, ... }`) on
 * `orderflow.agg.<shard>.snapshot` with data `SnapshotRequest`; the response is `SymbolSnapshot`.
 */

/** Stable 32-bit FNV-1a of a string's UTF-16 code units (symbols and exchange ids are ASCII). */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The shard (0..shards-1) that owns an (exchange, symbol). Deterministic across processes and versions. */
export function shardOf(exchange: string, symbol: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1 || shards > 1024)
    throw new Error(`shard count must be an integer 1..1024, got ${shards}`);
  return fnv1a32(`${exchange}.${symbol}`) % shards;
}

export function liveSubject(exchange: string, symbol: string, timeframe: Timeframe): string {
  return `live.${assertToken(exchange, 'exchange')}.${assertToken(symbol, 'symbol')}.${timeframe}`;
}

/** Nest message pattern (= NATS subject) of a shard's snapshot handler. */
export function snapshotPattern(shard: number): string {
  if (!Number.isInteger(shard) || shard < 0 || shard > 1023)
    throw new Error(`shard index must be an integer 0..1023, got ${shard}`);
  return `orderflow.agg.${shard}.snapshot`;
}

/** Scales of an instrument: price = units / 10^priceScale; tick in price units. */
export interface InstrumentScales {
  priceScale: number;
  quantityScale: number;
  tick: number;
}

/**
 * Session (UTC day) metrics at the time of an update. The aggregator's (one instrument): from the
 * day's native-tick profile. A merged view's (the gateway): from its members' sessions and the
 * merged day profile at the view's grouping (apps/gateway README, "Merged views").
 */
export interface SessionSummary {
  /** UTC midnight (ms) of the session. */
  startMs: number;
  /** Price units; null before the first trade of the session. */
  poc: number | null;
  vah: number | null;
  val: number | null;
  /**
   * Session volume-weighted average price as an exact decimal string: `sessionVwap(notional,
   * volume, priceScale)`, i.e. notional / volume rounded half to even to priceScale + 4 decimals;
   * null before the first trade (or, for a merged view, while a member's notional is unknown).
   */
  vwap: string | null;
  /**
   * Sum of price units x quantity units over the session's trades, as a decimal integer string
   * (exact: it passes 2^53 within minutes on a busy market). What lets sessions be merged exactly:
   * VWAP = notional / (volume x 10^priceScale). Absent only from aggregators that predate it (and
   * then from a merged session that includes such a member).
   */
  notional?: string;
  /** Cumulative volume delta of the session (quantity units). */
  cvd: number;
  volume: number;
  trades: number;
  /** POCs of earlier sessions that no later trade has touched yet (price units), oldest first. */
  nakedPocs: { sessionStartMs: number; price: number }[];
}

/** Decimals of a session VWAP beyond the instrument's price scale. */
export const SESSION_VWAP_EXTRA_DECIMALS = 4;

/**
 * The session VWAP from exact sums, the one rounding every producer uses: notional (price units x
 * quantity units) / (volume x 10^priceScale), rounded half to even to priceScale + 4 decimals;
 * null when the volume is 0.
 */
export function sessionVwap(notional: bigint, volume: number | bigint, priceScale: number): string | null {
  const v = BigInt(volume);
  if (v <= 0n) return null;
  return formatRatio(notional, v * 10n ** BigInt(priceScale), priceScale + SESSION_VWAP_EXTRA_DECIMALS);
}

/** A candle's summary without its levels. */
export type CandleSummary = Omit<CandleData, 'levels'>;

export interface LiveUpdate {
  v: 1;
  exchange: string;
  symbol: string;
  timeframe: Timeframe;
  /** Random id of the actor incarnation; a new epoch means seq restarted (re-snapshot). */
  epoch: string;
  /** 1, 2, 3, ... per (exchange, symbol, timeframe) within an epoch. */
  seq: number;
  scales: InstrumentScales;
  /** The candle this update is about (usually the open one; a late trade can touch an older one). */
  candle: CandleSummary;
  /** Levels of that candle that changed since the previous update, with their full values. */
  cells: PriceLevel[];
  session: SessionSummary;
  /** Aggregator publish time (ms). */
  sentAtMs: number;
}

export interface SnapshotRequest {
  exchange: string;
  symbol: string;
  /** Timeframes wanted (default: all). */
  timeframes?: Timeframe[];
}

export interface SymbolSnapshot {
  v: 1;
  exchange: string;
  symbol: string;
  epoch: string;
  scales: InstrumentScales;
  /**
   * Per timeframe: the seq of the last update published, and the candles that hold a minute the
   * actor still has in memory (the open one, recent ones), ascending by openTime, each with its
   * full summary but ONLY the levels whose values ClickHouse may not have yet. To build a candle:
   * take this snapshot, THEN read the stored levels from ClickHouse, overlay this snapshot's
   * levels and summary, then apply every update with a higher seq. A level that is in neither
   * the snapshot nor a later update is exactly as stored. (A whole day at native ticks can hold
   * 10^5 levels: far more than a NATS message takes, so the snapshot never carries them all.)
   */
  timeframes: Partial<Record<Timeframe, { seq: number; candles: CandleData[] }>>;
  session: SessionSummary;
}

/** The error reply when the shard asked does not own the symbol or does not know it. */
export interface SnapshotError {
  error: 'not-owner' | 'unknown-symbol' | 'bad-request' | 'too-large';
  message: string;
}
