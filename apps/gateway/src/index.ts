/** @orderflow/gateway: the Socket.IO live gateway and the history/analysis HTTP API. */
export * from './config/gateway.config.js';
export * from './app.js';
export * from './gateway.runtime.js';
export * from './gateway.module.js';
export * from './instruments/instrument.view.js';
export { RequestError } from './request.error.js';
