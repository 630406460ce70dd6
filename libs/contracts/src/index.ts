/** @orderflow/contracts: exchange ids, NATS subjects and payload formats shared by every service. */
export * from './exchanges.js';
export * from './subjects.js';
export * from './trade-batch.js';
export * from './live.js';
