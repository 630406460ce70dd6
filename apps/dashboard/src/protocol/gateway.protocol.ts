import type { Timeframe } from '@orderflow/footprint';
import type {
  ErrorMessage,
  InstrumentsResponse,
  SnapshotMessage,
  SubscribeRequest,
  UpdateMessage,
  WireCandleRow,
  WireVwapPoint,
} from '@orderflow/contracts';

/**
 * What the dashboard needs of the gateway. The protocol's shapes (candles, cells, snapshot, update,
 * subscribe, error, the Socket.IO event maps: protocol.ts; the HTTP API's responses: http-api.ts)
 * are @orderflow/contracts', the gateway's own; here: the adapter interface everything else in the
 * dashboard speaks through (`GatewayAdapter`).
 *
 * Prices and quantities are integer units of the view's `scales` (price = units / 10^priceScale).
 */

/**
 * What the dashboard reads of a GET /api/candles row: `complete` is false for a candle with a recorded, unfilled gap
 * (null: the schema does not say).
 */
export type CandleCompleteness = Pick<WireCandleRow, 'openTime' | 'complete'>;

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
  instruments(): Promise<InstrumentsResponse>;
  completeness(
    exchange: string,
    symbol: string,
    timeframe: Timeframe,
    from: number,
    to: number,
  ): Promise<CandleCompleteness[]>;
  vwap(exchange: string, symbol: string, timeframe: Timeframe, from: number, to: number): Promise<WireVwapPoint[]>;
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
