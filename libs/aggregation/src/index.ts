/**
 * @orderflow/aggregation: the aggregator's domain logic, pure (no I/O, no framework): the state of
 * one symbol's actor (dedupe, minutes, roll-ups, what to write, live changes, session metrics).
 */
export { MINUTE_MS, bucketOf, minuteOfUs, notionalOf, summaryOf } from './candles.js';
export type { FlushBatch } from './flush.js';
export type { LiveChange } from './live-changes.js';
export { pocOf } from './session.js';
export { type ApplyResult, SymbolState, type SymbolStateOptions } from './symbol-state.js';
export { type IngestedTrade, compareIds, compareTrades, minuteFromTrades } from './trade-order.js';
