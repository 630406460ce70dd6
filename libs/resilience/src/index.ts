/**
 * @orderflow/resilience: the policies at the platform's edges, with sources and clients it does not
 * control, pure (time and randomness passed in): the one retry and reconnect policy (`Backoff`, used by the exchange
 * feeds,
 * the NATS publishers and consumers, and the gateway's live stream), request pacing under an
 * exchange's rate limit (`TokenBucket`), a venue's trade ids kept in order with their gaps named
 * (`IdSequencer`), and the limit a server puts on each client's requests (`RateLimiter`: the
 * gateway's live requests and HTTP fair use).
 */
export * from './backoff.js';
export * from './id-sequencer.js';
export * from './token-bucket.js';
export * from './rate-limiter.js';
