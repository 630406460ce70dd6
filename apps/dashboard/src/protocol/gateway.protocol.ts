import type { Timeframe } from '@orderflow/footprint';
import type { ErrorMessage, SnapshotMessage, SubscribeRequest, UpdateMessage } from '@orderflow/contracts';

/**
 * What the dashboard needs of the gateway. The live protocol's shapes (candles, cells, snapshot,
 * update, subscribe, error, the Socket.IO event maps) are @orderflow/contracts' (protocol.ts), the
 * gateway's own; here: the HTTP API's responses the dashboard reads, and the adapter interface
 * everything else in the dashboard speaks through (`GatewayAdapter`).
 *
 * Prices and quantities are integer units of the view's `scales` (price = units / 10^priceScale).
 */

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
