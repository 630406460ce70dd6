import type { GroupingMode, Timeframe } from '@orderflow/footprint';
import type { Scales, WireFootprintCandle } from './protocol.js';

/**
 * The gateway's HTTP API: the JSON body of each route, written once for the gateway (its
 * controllers declare these as their return types), the dashboard and the system tests. The query
 * parameters are in the gateway's OpenAPI document (/api/openapi.json). Prices and quantities are
 * integer units of the response's `scales` (price = units / 10^priceScale) unless a field says it
 * is an exact decimal string; times are ms since the epoch (UTC). `from` and `to` are the range
 * the gateway read, `to` exclusive.
 */

/** An instrument a view is made of, by exchange and symbol. */
export interface InstrumentRef {
  exchange: string;
  symbol: string;
}

/**
 * The instrument or merged view a response is about; `members` only for a merged view (its
 * instruments, in the order ties are broken).
 */
export interface ViewHead {
  exchange: string;
  symbol: string;
  scales: Scales;
  members?: InstrumentRef[];
}

/** An exchange's instrument of GET /api/instruments. */
export interface InstrumentInfo {
  exchange: string;
  symbol: string;
  priceScale: number;
  quantityScale: number;
  /** Tick in price units. */
  tick: number;
  /** The tick as a decimal (trailing zeros trimmed). */
  tickSize: string;
}

/** A member of a merged view: member units x factor = the view's units. */
export interface MergedMemberInfo extends InstrumentRef {
  priceFactor: number;
  quantityFactor: number;
}

/**
 * A merged cross-exchange view of GET /api/instruments (exchange `merged`, `merged-perp` ..., symbol BASE-QUOTE);
 * prices in its common scales.
 */
export interface MergedViewInfo extends InstrumentInfo {
  members: MergedMemberInfo[];
}

/** GET /api/instruments: the instruments table, then the merged views with at least two members. */
export interface InstrumentsResponse {
  instruments: InstrumentInfo[];
  merged: MergedViewInfo[];
}

/** GET /api/footprint (format=json, streamed): candles with cells at the grouping, ascending by openTime. */
export interface FootprintResponse extends ViewHead {
  timeframe: Timeframe;
  ticks: number;
  mode: GroupingMode;
  /** Price units per level (ticks x scales.tick). */
  step: number;
  from: number;
  to: number;
  candles: WireFootprintCandle[];
}

/** A row of GET /api/candles: a candle's summary without cells. */
export interface WireCandleRow {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  buyVolume: number;
  sellVolume: number;
  buyTrades: number;
  sellTrades: number;
  /** Extremes of the running delta within the candle; null where they are unknown (a merged candle). */
  maxDelta: number | null;
  minDelta: number | null;
  /** False for a candle with a recorded, unfilled gap; null when the schema does not say. */
  complete: boolean | null;
  trades: number;
  delta: number;
  volume: number;
  /** Exact decimal (priceScale + 4 places); null without volume or where the schema has no notional. */
  vwap: string | null;
}

/** GET /api/candles (format=json, streamed), ascending by openTime. */
export interface CandlesResponse extends ViewHead {
  timeframe: Timeframe;
  from: number;
  to: number;
  candles: WireCandleRow[];
}

/** A volume profile of [from, to) at a grouping (libs/footprint buildProfile and profileMetrics). */
export interface WireProfile {
  from: number;
  to: number;
  step: number;
  poc: number | null;
  pocVolume: number;
  vah: number | null;
  val: number | null;
  valueAreaVolume: number;
  volume: number;
  buyVolume: number;
  sellVolume: number;
  hvnThreshold: number;
  lvnThreshold: number;
  hvn: number[];
  lvn: number[];
  hvnZones: { low: number; high: number }[];
  lvnZones: { low: number; high: number }[];
  /** Traded levels at the grouping, ascending: [price, buyVolume, sellVolume, trades]. */
  levels: [number, number, number, number][];
}

/** GET /api/profile: the options it was computed with, then the profile. */
export interface ProfileResponse extends ViewHead, WireProfile {
  kind: 'session' | 'range' | 'composite';
  ticks: number;
  mode: GroupingMode;
  valueAreaPercent: number;
  valueAreaMethod: 'single' | 'cme';
  hvnPercentile: number;
  lvnPercentile: number;
}

/**
 * A VWAP point of GET /api/vwap: exact decimals in the instrument's price scale, bands at 1, 2 and 3 standard
 * deviations.
 */
export interface WireVwapPoint {
  openTime: number;
  vwap: string;
  stdDev: string;
  upper: [string, string, string];
  lower: [string, string, string];
}

/** GET /api/vwap. `anchor`: where accumulation started (null: at `from`); `session`: restarted at each UTC day. */
export interface VwapResponse extends ViewHead {
  timeframe: Timeframe;
  from: number;
  to: number;
  session: boolean;
  anchor: number | null;
  points: WireVwapPoint[];
}

/** A point of GET /api/cvd (quantity units). */
export interface WireCvdPoint {
  openTime: number;
  delta: number;
  cvd: number;
  cvdOpen: number;
  /** Null for merged candles whose delta extremes are unknown. */
  cvdHigh: number | null;
  cvdLow: number | null;
}

/** GET /api/cvd; `session`: reset at each UTC day. */
export interface CvdResponse extends ViewHead {
  timeframe: Timeframe;
  from: number;
  to: number;
  session: boolean;
  points: WireCvdPoint[];
}

/** A UTC session's market profile (libs/footprint tpoProfiles). */
export interface WireTpoSession {
  sessionStart: number;
  step: number;
  /** Each period's letter (A-Z then a-z), start time and range. */
  periods: { letter: string; start: number; low: number; high: number }[];
  /** Ascending by price, every level from the session low to high, with the letters printed there. */
  levels: { price: number; letters: string }[];
  initialBalance: { low: number; high: number } | null;
  /** Runs of levels printed by exactly one period (tails included). */
  singlePrints: { low: number; high: number }[];
  /** The level with the most letters. */
  poc: number | null;
}

/** GET /api/tpo; `period`: minutes per letter (30 or 60). */
export interface TpoResponse extends ViewHead {
  from: number;
  to: number;
  ticks: number;
  mode: GroupingMode;
  period: number;
  sessions: WireTpoSession[];
}

/** A candle's diagonal imbalances and stacked imbalances (libs/footprint imbalances). */
export interface WireImbalances {
  openTime: number;
  /** `volume`: the dominant side's; `against`: the diagonal opposite it was compared with. */
  imbalances: { price: number; side: 'buy' | 'sell'; volume: number; against: number }[];
  stacked: { low: number; high: number; side: 'buy' | 'sell'; count: number }[];
}

/** GET /api/imbalances: the options, then one entry per candle. */
export interface ImbalancesResponse extends ViewHead {
  timeframe: Timeframe;
  from: number;
  to: number;
  ticks: number;
  mode: GroupingMode;
  ratio: number;
  minVolume: number;
  stackCount: number;
  candles: WireImbalances[];
}

/** A candle POC that no later candle of the range traded through. */
export interface WireNakedPoc {
  openTime: number;
  poc: number;
}

/** GET /api/naked-pocs. */
export interface NakedPocsResponse extends ViewHead {
  timeframe: Timeframe;
  from: number;
  to: number;
  ticks: number;
  mode: GroupingMode;
  pocs: WireNakedPoc[];
}

/** GET /health/live. */
export interface HealthLiveResponse {
  status: 'ok';
}

/** GET /health/ready: 200 when NATS and ClickHouse answer, else 503 with `{ status: 'not ready', reasons }`. */
export type HealthReadyResponse = { status: 'ready' } | { status: 'not ready'; reasons: string[] };

/** GET /dashboard-config.json: what the dashboard served by a gateway reads before it connects anywhere. */
export interface DashboardConfig {
  /**
   * Gateways (origins) other than the page's own that `?gateway=` may name: those of
   * GATEWAY_ALLOWED_ORIGINS, the deployment's other gateways. The CSP's connect-src lists the same.
   */
  allowedGateways: string[];
  /** GATEWAY_ALLOWED_ORIGINS=*: any gateway (unsafe). */
  anyGateway: boolean;
}

/**
 * The body of a refused or failed request (any status >= 400): `code` names the refusal where it
 * has a stable one (a fair-use refusal, `storage-unavailable`, `internal-error`); 500 and 503 carry
 * a `correlationId` that the gateway's log line has too; a 429 says when to retry.
 */
export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code?: string;
  /** A 503's classified cause (such as "timeout"). */
  reason?: string;
  correlationId?: string;
  retryAfterSeconds?: number;
}
