/**
 * The logger the NATS helpers write to. Any structured logger (pino, the Nest logger behind an
 * adapter) fits; `fields` carries the numbers worth indexing.
 */
export interface NatsLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const line = (message: string, fields?: Record<string, unknown>): string =>
  fields && Object.keys(fields).length > 0 ? `${message} ${JSON.stringify(fields)}` : message;

/** Writes to the console, each line prefixed with `[<scope>]`. The default of every class here. */
export function consoleLogger(scope = 'nats'): NatsLogger {
  return {
    info: (m, f) => console.info(`[${scope}] ${line(m, f)}`),
    warn: (m, f) => console.warn(`[${scope}] ${line(m, f)}`),
    error: (m, f) => console.error(`[${scope}] ${line(m, f)}`),
  };
}

/** Discards everything (tests, benchmarks). */
export const silentLogger: NatsLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
