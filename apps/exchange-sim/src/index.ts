/**
 * @orderflow/exchange-sim: protocol-true local simulators of the public trade feeds of Binance
 * (spot, USDT-M), Bybit v5 and OKX v5, fed by recorded trades or a synthetic market.
 */
export type { AggressorSide, SimTrade } from './trade.js';
export * from './instruments.js';
export { ArrayTradeSource, type TradeSource } from './sources/source.js';
export { ConstantRateMarket, type ConstantRateMarketOptions } from './sources/constant.js';
export { SyntheticMarket, type SyntheticMarketOptions } from './sources/synthetic.js';
export {
  detectFormat,
  loadTradeFile,
  parseTradeText,
  symbolFromFileName,
  TradeFileError,
  type LoadedTrades,
  type TradeFileFormat,
} from './sources/files.js';
export { Random, hashString } from './sources/random.js';
export { TradeHistory } from './core/history.js';
export type { FeedMode, FeedOptions, FeedState, ReplayReport } from './core/feed.js';
export type { RateLimitOptions } from './core/http.js';
export type { MarketSourceOptions, ReplaySpec, SyntheticPacing } from './core/setup.js';
export type {
  CommonSimOptions,
  MarketStats,
  SimControls,
  SimHandle,
  SimStats,
  TimingOptions,
} from './core/simulator.types.js';
export {
  startBinanceFuturesSim,
  startBinanceSpotSim,
  type BinanceMarketType,
  type BinanceSimOptions,
} from './protocols/binance.js';
export { bybitExecId, startBybitSim, type BybitCategory, type BybitSimOptions } from './protocols/bybit.js';
export { startOkxSim, type OkxSimOptions } from './protocols/okx.js';
export {
  DEFAULT_PORTS,
  isSimProtocol,
  SIM_PROTOCOLS,
  startSimulator,
  type AnySimOptions,
  type SimProtocol,
} from './start.js';
export { CliError, parseCli, runCli, type CliCommand } from './cli.js';
