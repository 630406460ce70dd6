/**
 * @orderflow/candle-views: the gateway's views of the aggregators' candles, pure (no I/O, no
 * framework, no timers): instruments and merged views as members with exact scale factors, native
 * candles held per stream, regrouped and merged candles (grouped-view), merged sessions, the
 * per-connection outbox, snapshot/update stream sync and the wire candles' encoding. The wire
 * shapes themselves are @orderflow/contracts' (protocol.ts).
 */
export * from './instrument-view.js';
export * from './wire-candle.js';
export * from './native-candles.js';
export * from './grouped-view.js';
export * from './merged-session.js';
export * from './outbox.js';
export * from './stream-sync.js';
