/**
 * @orderflow/observability: how a service reports itself to operators, the same way in every
 * service: the log (one line per event, LOG_FORMAT text or JSON, with fields), the readiness probes
 * of its dependencies (`DependencyProbe`), and error texts and URLs made safe to show (credentials
 * redacted, errors classified into stable codes). Free of frameworks and I/O: callers pass the
 * output streams and the checks.
 */
export * from './logging.js';
export * from './readiness.js';
export * from './redact.js';
