import type { GroupingMode, Timeframe } from '@orderflow/footprint';
import type { InstrumentScales, SessionSummary } from './live.js';

/**
 * The gateway's client protocol: what goes over Socket.IO (path /socket.io, namespace /) and in the
 * HTTP API's JSON (the responses: http-api.ts), written once for the gateway, the dashboard and the system tests.
 * Prices and
 * quantities are integer units of the view's scales (`scales` in every snapshot and response:
 * price = units / 10^priceScale), so nothing is rounded; CSV exports print the exact decimals.
 *
 * Client -> gateway events (ClientToServerEvents), each optionally with an acknowledgement callback
 * (it receives an `Ack`):
 *
 * - `subscribe` SubscribeRequest: the gateway answers with a `snapshot`, then `update`s;
 * - `unsubscribe` UnsubscribeRequest.
 *
 * Gateway -> client (ServerToClientEvents): `snapshot`, `update`, `error` (a refused request: the
 * connection stays usable).
 *
 * Applying updates: replace the candle's summary with `candle`; if `replace`, its cells become
 * exactly `cells`, else each cell of `cells` replaces the cell at its price (full values, never
 * increments, so applying the latest is exact). An update may name a candle newer than the last
 * one (append it) or, rarely, an older one (a late correction). `seq` grows by 1 per update of a
 * subscription: a client that sees a jump has a bug, not a network problem (Socket.IO is ordered).
 */

/**
 * Scales of a view: price = units / 10^priceScale; `tick` is the view's tick in its price units (for a merged view a
 * multiple of every member's tick).
 */
export type Scales = InstrumentScales;

/** A footprint cell: [price, buyVolume, sellVolume, buyTrades, sellTrades] at the subscription's grouping. */
export type WireCell = [number, number, number, number, number];

/** A candle without its cells, plus its profile metrics at the grouping. */
export interface WireCandle {
  /** Bucket start, ms since the epoch (UTC-aligned). */
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  buyVolume: number;
  sellVolume: number;
  buyTrades: number;
  sellTrades: number;
  delta: number;
  /**
   * Extremes of the running delta within the candle. Null for a merged candle in which more than
   * one exchange traded: the exchanges' trades interleave in time in an order nobody recorded.
   */
  maxDelta: number | null;
  minDelta: number | null;
  /** Point of control and 70 % value area of the candle's cells (libs/footprint pocAndValueArea), at the grouping. */
  poc: number | null;
  vah: number | null;
  val: number | null;
}

export interface WireFootprintCandle extends WireCandle {
  /** Ascending by price; only levels that traded. */
  cells: WireCell[];
}

/**
 * Session (UTC day) figures in the view's units. One instrument: its aggregator's (POC and value
 * area at the native tick). A merged view: its members' sums, the exact VWAP of their summed
 * notionals, POC and value area of the merged day profile at the subscription's grouping, and the
 * naked POCs of earlier merged sessions (@orderflow/candle-views merged-session.ts).
 */
export type WireSession = SessionSummary;

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

/** The fields a SubscribeRequest may have (the gateway refuses any other). */
export const SUBSCRIBE_FIELDS = ['exchange', 'symbol', 'timeframe', 'ticks', 'candles', 'mode'] as const;

export interface UnsubscribeRequest {
  subscriptionId: string;
}

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
  /**
   * False when the owning aggregator shard could not be reached: candles come from ClickHouse only, updates follow once
   * it answers.
   */
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
  /** The candle's cells are exactly `cells` (else each listed cell replaces the one at its price). */
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
  /**
   * What the client sent, with the event name (a bounded copy); null for a problem that no request
   * caused (a client too slow to keep up).
   */
  request: { event: string; data: unknown } | null;
}

export type Ack = { ok: true; subscriptionId: string } | { ok: false; error: { code: string; reason: string } };

/**
 * Gateway -> client events, for socket.io's typed `Server<ClientToServerEvents, ServerToClientEvents>` and
 * socket.io-client's `Socket<ServerToClientEvents, ClientToServerEvents>`.
 */
export interface ServerToClientEvents {
  snapshot: (msg: SnapshotMessage) => void;
  update: (msg: UpdateMessage) => void;
  error: (msg: ErrorMessage) => void;
}

/**
 * Client -> gateway events; the acknowledgement callback is optional. (socket.io-client types
 * `timeout(ms).emitWithAck(...)` as `Promise<any>`: a caller states `Promise<Ack>`.)
 */
export interface ClientToServerEvents {
  subscribe: (req: SubscribeRequest, ack?: (ack: Ack) => void) => void;
  unsubscribe: (req: UnsubscribeRequest, ack?: (ack: Ack) => void) => void;
}

/**
 * A stored minute ready to serve, as the table footprint_1m_wire keeps it (libs/clickhouse migration
 * 0006): the minute's cells at native ticks as JSON, exactly JSON.stringify of its `WireCell[]`
 * ascending by price (`[[price,buy_volume,sell_volume,buy_trades,sell_trades],...]`, the
 * instrument's integer units), and its POC and value area at native ticks (libs/footprint
 * pocAndValueArea). The gateway splices `cellsJson` into a candle's JSON as it is.
 */
export interface MinuteWire {
  cellsJson: string;
  poc: number;
  vah: number;
  val: number;
}

/**
 * Columns of footprint_1m_wire, in the order the store writes them (TSV): a row is the minute's key and version, then
 * its MinuteWire.
 */
export const FOOTPRINT_1M_WIRE_COLUMNS = [
  'exchange',
  'symbol',
  'minute',
  'version',
  'poc',
  'vah',
  'val',
  'cells_json',
] as const;
