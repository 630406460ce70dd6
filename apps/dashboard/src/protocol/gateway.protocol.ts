import type { GroupingMode, Timeframe } from '@orderflow/footprint';

/**
 * The gateway's protocol as the dashboard reads it: the one place that knows event names and
 * payload shapes (apps/gateway/src/live/live.messages.ts, footprint/wire.ts and the /api
 * controllers). The dashboard may not import the gateway (an app), so the shapes are restated
 * here; everything else in the dashboard speaks the types below through `GatewayAdapter`.
 *
 * Prices and quantities are integer units of `scales` (price = units / 10^priceScale).
 */

/** [price, buyVolume, sellVolume, buyTrades, sellTrades] at the subscription's grouping. */
export type WireCell = [number, number, number, number, number];

export interface Scales {
  priceScale: number;
  quantityScale: number;
  /** The instrument's (or merged view's) tick in price units. */
  tick: number;
}

export interface WireCandle {
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
  /** Null for a merged candle to which more than one exchange contributed. */
  maxDelta: number | null;
  minDelta: number | null;
  poc: number | null;
  vah: number | null;
  val: number | null;
}

export interface WireFootprintCandle extends WireCandle {
  /** Ascending by price; traded levels only. */
  cells: WireCell[];
}

/**
 * The UTC day's figures (libs/contracts SessionSummary). For a merged view: POC and value area at
 * the subscription's grouping, VWAP exact from the members' summed notionals.
 */
export interface SessionSummary {
  startMs: number;
  poc: number | null;
  vah: number | null;
  val: number | null;
  vwap: string | null;
  /** Sum of price units x quantity units, a decimal integer string (absent from older aggregators). */
  notional?: string;
  cvd: number;
  volume: number;
  trades: number;
  /** POCs of earlier sessions not traded through since, oldest first. */
  nakedPocs: { sessionStartMs: number; price: number }[];
}

export interface SubscribeRequest {
  exchange: string;
  symbol: string;
  timeframe: Timeframe;
  ticks: number;
  candles: number;
  mode?: GroupingMode;
}

export interface SnapshotMessage {
  subscriptionId: string;
  seq: 0;
  epoch: string;
  exchange: string;
  symbol: string;
  timeframe: Timeframe;
  ticks: number;
  mode: GroupingMode;
  step: number;
  scales: Scales;
  members: { exchange: string; symbol: string }[];
  live: boolean;
  history: boolean;
  candles: WireFootprintCandle[];
  session: SessionSummary | null;
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
  session: SessionSummary | null;
  lastTradeUs: number | null;
  sourceSentAtMs: number | null;
  sentAtMs: number;
}

export interface ErrorMessage {
  code: string;
  reason: string;
  request: unknown;
}

export type Ack = { ok: true; subscriptionId: string } | { ok: false; error: { code: string; reason: string } };

/** GET /api/instruments */
export interface InstrumentInfo {
  exchange: string;
  symbol: string;
  priceScale: number;
  quantityScale: number;
  tick: number;
  tickSize: string;
  members?: { exchange: string; symbol: string }[];
}

/** GET /api/candles row: `complete` is false for a candle with a recorded, unfilled gap (null: the schema does not say). */
export interface CandleCompleteness {
  openTime: number;
  complete: boolean | null;
}

/** GET /api/vwap point: exact decimals. */
export interface VwapPoint {
  openTime: number;
  vwap: string;
  stdDev: string;
  upper: [string, string, string];
  lower: [string, string, string];
}

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface LiveHandlers {
  snapshot(msg: SnapshotMessage): void;
  update(msg: UpdateMessage): void;
  /** A refused request or a server-side problem, in the gateway's words. */
  error(msg: ErrorMessage): void;
  connection(state: ConnectionState, detail?: string): void;
}

/**
 * What the dashboard needs of a gateway. `SocketGatewayAdapter` binds it to Socket.IO and HTTP;
 * `SyntheticGatewayAdapter` generates data in the page (demo and benchmark).
 */
export interface GatewayAdapter {
  /** Starts connecting (and reconnecting by itself); handlers stay for the adapter's life. */
  connect(handlers: LiveHandlers): void;
  /** Resolves with the subscription id, rejects with the gateway's reason. */
  subscribe(req: SubscribeRequest): Promise<string>;
  unsubscribe(subscriptionId: string): void;
  instruments(): Promise<{ instruments: InstrumentInfo[]; merged: InstrumentInfo[] }>;
  completeness(exchange: string, symbol: string, timeframe: Timeframe, from: number, to: number): Promise<CandleCompleteness[]>;
  vwap(exchange: string, symbol: string, timeframe: Timeframe, from: number, to: number): Promise<VwapPoint[]>;
  close(): void;
}

export class GatewayRequestError extends Error {
  override readonly name = 'GatewayRequestError';
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
