/**
 * @orderflow/config: a service's configuration, read once from the environment with errors that
 * name the variable and the allowed values (`EnvReader`), and the NATS servers and credentials
 * every service reads the same way. Free of frameworks and I/O: callers pass process.env.
 */
export * from './env.reader.js';
export * from './nats.servers.js';
