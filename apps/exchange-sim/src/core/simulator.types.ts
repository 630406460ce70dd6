/**
 * The types shared by the simulator core and the exchange protocols: a connected client, the
 * adapter a protocol plugs into the core, the options every simulator takes, and the handle,
 * controls and statistics a started simulator gives.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import type { SimTrade } from '../trade.js';
import type { FeedOptions, FeedState, ReplayReport } from './feed.js';
import type { Market } from './market.js';

/** A connected WebSocket client. */
export interface SimClient {
  /** Connection id (Bybit `conn_id`, OKX `connId`). */
  readonly id: string;
  readonly ws: WebSocket;
  readonly url: URL;
  readonly connectedAt: number;
  /** Topics this client receives. */
  readonly topics: Set<string>;
  lastInbound: number;
  lastOutbound: number;
  /** When an unanswered server ping was sent (0 = none outstanding). */
  awaitingPongSince: number;
  nextPingAt: number;
  inboundWindow: number;
  inboundCount: number;
  /** Binance: frames wrapped as {"stream":..,"data":..}. */
  combined: boolean;
  /** Free-form protocol state. */
  readonly state: Record<string, unknown>;
}

/** What each exchange protocol plugs into the shared simulator. */
export interface ProtocolAdapter {
  readonly protocol: string;
  /** Whether a WebSocket upgrade to this path exists (else HTTP 404). */
  acceptPath(url: URL): boolean;
  onOpen(client: SimClient): void;
  onMessage(client: SimClient, text: string): void;
  /** Every produced trade in order, including the ones skipIds withholds from the WebSocket. */
  observe?(market: Market, trades: readonly SimTrade[]): void;
  /** Sends trades to the market's subscribers. */
  publish(market: Market, trades: readonly SimTrade[]): void;
  /** REST request; false when the path is not part of the protocol (HTTP 404). */
  handleRest(req: IncomingMessage, url: URL, res: ServerResponse): boolean;
  /** Full WebSocket endpoint URLs for printing, given the ws:// origin. */
  endpoints(wsOrigin: string): Record<string, string>;
  /** How idle clients are dropped (default: terminate). */
  readonly idleClose?: { readonly code: number; readonly reason: string };
}

export interface TimingOptions {
  /** Server-initiated WebSocket pings (Binance): interval in ms; 0 = none. */
  readonly pingIntervalMs?: number;
  /** Drop a client whose pong is this late (ms). */
  readonly pongTimeoutMs?: number;
  /** Drop a client after this long without traffic (Bybit 10 min, OKX 30 s); 0 = never. */
  readonly idleTimeoutMs?: number;
  /** Close connections older than this (Binance: 24 h); 0 = never. */
  readonly maxConnectionAgeMs?: number;
  /**
   * Close clients sending more messages (incl. ping/pong frames) per second (Binance: 5 spot, 10 futures); 0 = no
   * limit.
   */
  readonly maxIncomingPerSecond?: number;
}

export interface CommonSimOptions extends TimingOptions, FeedOptions {
  /** TCP port (default 0 = a free port). */
  readonly port?: number;
  /** Interface to bind (default 127.0.0.1). */
  readonly host?: string;
  /** Trades kept per market for REST (default 200,000). */
  readonly historyLimit?: number;
  /** Log lines (default: none). */
  readonly log?: (message: string) => void;
}

export interface MarketStats {
  readonly key: string;
  readonly symbol: string;
  readonly category: string;
  readonly produced: number;
  readonly historySize: number;
  readonly firstId: number | undefined;
  readonly lastId: number | undefined;
}

export interface SimStats {
  readonly protocol: string;
  readonly mode: 'live' | 'replay';
  readonly state: FeedState;
  /** Trades produced by the flow (WebSocket + REST history). */
  readonly tradesProduced: number;
  /** Trades handed to the WebSocket layer (produced minus skipped). */
  readonly tradesSent: number;
  /** Trades withheld from the WebSocket by skipIds. */
  readonly tradesSkipped: number;
  readonly skipPending: number;
  /** WebSocket data frames written to clients (trade frames, replies, malformed frames). */
  readonly framesSent: number;
  readonly clients: number;
  /** Clients with at least one subscription. */
  readonly subscribedClients: number;
  /** Total (client, topic) subscriptions. */
  readonly subscriptions: number;
  readonly topics: Readonly<Record<string, number>>;
  readonly pingsStalledUntil: number | null;
  readonly droppedClients: number;
  readonly markets: readonly MarketStats[];
}

/** Fault injection and flow control, also reachable as POST /__sim/<action>. */
export interface SimControls {
  /** Closes every client socket abruptly (no close frame). Returns how many. */
  dropConnections(): number;
  /** The next `n` trades (of `symbol`, or of any market) are not sent on the WebSocket but are in REST history. */
  skipIds(n: number, symbol?: string): void;
  /** Sends `text` as a raw text frame to every client. Returns how many received it. */
  sendMalformed(text: string): number;
  /** Stops sending server pings and answering client pings (WebSocket and protocol-level) for `ms`. */
  stallPings(ms: number): void;
  pause(): void;
  resume(): void;
  stats(): SimStats;
  /** Resolves once `n` clients have at least one subscription. */
  waitForClients(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves when a replay (or a finite source) has sent its last trade and the sockets drained. */
  replayFinished(): Promise<ReplayReport>;
  /** The REST history of a market (symbol as the venue spells it; category for Bybit "linear"). */
  history(symbol: string, category?: string): readonly SimTrade[];
}

export interface SimHandle {
  readonly protocol: string;
  readonly port: number;
  readonly host: string;
  /** ws://host:port (append the venue's paths, or use `endpoints`). */
  readonly wsUrl: string;
  /** http://host:port */
  readonly restUrl: string;
  /** Full WebSocket endpoint URLs, e.g. { raw: "ws://127.0.0.1:9101/ws", combined: ".../stream" }. */
  readonly endpoints: Readonly<Record<string, string>>;
  readonly markets: readonly string[];
  readonly controls: SimControls;
  stop(): Promise<void>;
}
