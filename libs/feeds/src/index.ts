/** @orderflow/feeds: pure feed logic shared by every exchange feed (reconnect policy, id order, pacing). */
export * from './backoff.js';
export * from './id-sequencer.js';
export * from './token-bucket.js';
