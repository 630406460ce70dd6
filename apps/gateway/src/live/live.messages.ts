import type { SessionSummary } from '@orderflow/contracts';
import type { GroupingMode, Timeframe } from '@orderflow/footprint';
import type { WireCandle, WireCell, WireFootprintCandle } from '../footprint/wire.js';
import type { Scales } from '../instruments/instrument.view.js';

/**
 * The Socket.IO protocol (path /socket.io, namespace /). Client -> gateway events, each optionally
 * with an acknowledgement callback (it receives `{ ok: true, subscriptionId }` or `{ ok: false, error }`):
 *
 * - `subscribe` SubscribeRequest: the gateway answers with a `snapshot`, then `update`s;
 * - `unsubscribe` `{ subscriptionId }`.
 *
 * Gateway -> client: `snapshot`, `update`, `error` (a refused request: the connection stays usable).
 *
 * Applying updates: replace the candle's summary with `candle`; if `replace`, its cells become
 * exactly `cells`, else each cell of `cells` replaces the cell at its price (full values, never
 * increments, so applying the latest is exact). An update may name a candle newer than the last
 * one (append it) or, rarely, an older one (a late correction). `seq` grows by 1 per update of a
 * subscription: a client that sees a jump has a bug, not a network problem (Socket.IO is ordered).
 */
export interface SubscribeRequest {
  /** An exchange id (binance, bybit, okx, ...) or a merged one (merged, merged-perp). */
  exchange: string;
  /** The exchange's symbol, or BASE-QUOTE for a merged exchange. */
  symbol: string;
  timeframe: Timeframe;
  /** Grouping: an integer number of the instrument's ticks, 1..10000. */
  ticks: number;
  /** Past candles in the snapshot (the newest, open one included), 1..GATEWAY_MAX_CANDLES. */
  candles: number;
  /** 'nearest' (default: round to the nearest level, ties to even) or 'down' (a level covers [level, level + step)). */
  mode?: GroupingMode;
}

export const SUBSCRIBE_FIELDS = ['exchange', 'symbol', 'timeframe', 'ticks', 'candles', 'mode'] as const;

/**
 * Session (UTC day) figures in the view's units. One instrument: its aggregator's (POC and value
 * area at the native tick). A merged view: its members' sums, the exact VWAP of their summed
 * notionals, POC and value area of the merged day profile at the subscription's grouping, and the
 * naked POCs of earlier merged sessions (live/merged-session.ts).
 */
export type WireSession = SessionSummary;

export interface SnapshotMessage {
  subscriptionId: string;
  /** 0: updates start at 1. */
  seq: 0;
  /** Identifies this subscription's stream of messages. */
  epoch: string;
  exchange: string;
  symbol: string;
  timeframe: Timeframe;
  ticks: number;
  mode: GroupingMode;
  /** Price units per level (ticks x scales.tick). */
  step: number;
  scales: Scales;
  /** Members of a merged view (exchange and symbol), in the order ties are broken. */
  members: { exchange: string; symbol: string }[];
  /** False when the owning aggregator shard could not be reached: candles come from ClickHouse only, updates follow once it answers. */
  live: boolean;
  /** False when ClickHouse could not be read: only the shard's recent candles are included. */
  history: boolean;
  /** Ascending by openTime. */
  candles: WireFootprintCandle[];
  session: WireSession | null;
  sentAtMs: number;
}

export interface UpdateMessage {
  subscriptionId: string;
  seq: number;
  epoch: string;
  candle: WireCandle;
  cells: WireCell[];
  replace: boolean;
  session: WireSession | null;
  /** Exchange time (µs) of the newest trade behind this update, and when the aggregator published it (ms). */
  lastTradeUs: number | null;
  sourceSentAtMs: number | null;
  sentAtMs: number;
}

export interface ErrorMessage {
  code: string;
  reason: string;
  /** What the client sent (bounded copy), with the event name. */
  request: unknown;
}

export type Ack = { ok: true; subscriptionId: string } | { ok: false; error: { code: string; reason: string } };

export type { WireCandle, WireCell, WireFootprintCandle };
