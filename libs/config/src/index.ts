/** @orderflow/config: configuration read once from the environment, with errors that name the variable. */
export * from './env.reader.js';
export * from './nats.servers.js';
