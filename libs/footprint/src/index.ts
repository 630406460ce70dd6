/**
 * @orderflow/footprint: the pure footprint engine. Exact fixed-point arithmetic, footprint
 * candles for every timeframe, volume profile metrics, order-flow metrics and TPO.
 * No I/O and no framework imports (enforced by the `type:domain` lint constraint).
 */
export * from './errors.js';
export * from './decimal.js';
export * from './instrument.js';
export * from './trade.js';
export * from './timeframe.js';
export * from './grouping.js';
export * from './candle.js';
export * from './series.js';
export * from './profile.js';
export * from './orderflow.js';
export * from './tpo.js';
