/**
 * @orderflow/contracts: exchange ids, NATS subjects, payload formats and the gateway's client protocol (Socket.IO and
 * HTTP API), shared by every service and the dashboard.
 */
export * from './exchanges.js';
export * from './subjects.js';
export * from './trade-batch.js';
export * from './live.js';
export * from './protocol.js';
export * from './http-api.js';
