/**
 * @orderflow/aggregation: the aggregator's domain logic, pure (no I/O, no framework): the state of
 * one symbol's actor (dedupe, minutes, roll-ups, what to write, live changes, session metrics).
 */
export * from './symbol-state.js';
