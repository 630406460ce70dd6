/**
 * @orderflow/nats: the NATS connection, the JetStream streams, the collectors' publishers and the pull consumers (one
 * message or one batch at a time).
 */
export * from './event.publisher.js';
export * from './logger.js';
export * from './nats.connection.js';
export * from './pull.consumer.js';
export * from './retry.js';
export * from './stored-trades.js';
export * from './streams.js';
export * from './trade.publisher.js';
