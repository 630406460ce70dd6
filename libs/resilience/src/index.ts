/**
 * @orderflow/resilience: how a client copes with sources it does not control, pure (time and
 * randomness passed in): the one retry and reconnect policy (`Backoff`, used by the exchange feeds,
 * the NATS publishers and consumers, and the gateway's live stream), request pacing under an
 * exchange's rate limit (`TokenBucket`), and a venue's trade ids kept in order with their gaps
 * named (`IdSequencer`).
 */
export * from './backoff.js';
export * from './id-sequencer.js';
export * from './token-bucket.js';
