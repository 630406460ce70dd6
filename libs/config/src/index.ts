/**
 * @orderflow/config: what every service reads and sets up the same way: configuration read once
 * from the environment (with errors that name the variable), the log (LOG_FORMAT) and the
 * readiness probes of its dependencies. Free of frameworks and I/O imports: callers pass
 * process.env, the output streams and the checks.
 */
export * from './env.reader.js';
export * from './nats.servers.js';
export * from './logging.js';
export * from './readiness.js';
export * from './redact.js';
