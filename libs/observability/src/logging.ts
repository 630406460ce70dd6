import { ConfigError, type Env, EnvReader } from '@orderflow/config';

/**
 * The services' log: one line per event, as JSON (LOG_FORMAT=json, what the Helm chart sets:
 * collectors index it) or as readable text (LOG_FORMAT=text, the default for local runs).
 *
 * ServiceLogger has the shape of NestJS's LoggerService (log, error, warn, debug, verbose, fatal
 * with Nest's trailing context argument), so NestFactory takes it as the app's logger and every
 * `new Logger(context)` of the app writes through it; this file imports no framework and does no
 * I/O of its own: the caller hands it the streams (process.stdout and process.stderr).
 */

export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'verbose';

/**
 * What a line says besides its message. `shard`, `exchange` and `symbol` are named because every
 * service has them where they apply; anything else (counts, ids, durations) goes along as it is.
 */
export interface LogFields {
  shard?: number;
  exchange?: string;
  symbol?: string;
  [key: string]: unknown;
}

/** The logger the services' runtimes take: a message and, where they apply, its fields. */
export interface FieldLogger {
  log(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LogStreams {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

export interface ServiceLoggerOptions {
  /** "collector", "aggregator", "gateway": the `service` of every line. */
  service: string;
  format: LogFormat;
  /** Where lines go: error and fatal to stderr, the rest to stdout (as NestJS's own logger). */
  streams: LogStreams;
  /** Fields on every line of this logger (the aggregator's shard, a collector's exchange). */
  fields?: LogFields;
  now?: () => number;
}

/** LOG_FORMAT: json or text (default text). Throws ConfigError naming the variable otherwise. */
export function readLogFormat(env: Env): LogFormat {
  const r = new EnvReader(env);
  const format = r.oneOf('LOG_FORMAT', LOG_FORMATS, 'text');
  r.done();
  return format;
}

/**
 * The logger of a service from its environment. A bad LOG_FORMAT still gets a text logger (so that
 * the error can be printed) and `problem`, the ConfigError to report and exit with.
 */
export function serviceLoggerFromEnv(
  service: string,
  env: Env,
  streams: LogStreams,
  fields?: LogFields,
): { logger: ServiceLogger; problem: ConfigError | null } {
  try {
    return {
      logger: new ServiceLogger({ service, format: readLogFormat(env), streams, ...(fields ? { fields } : {}) }),
      problem: null,
    };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return {
      logger: new ServiceLogger({ service, format: 'text', streams, ...(fields ? { fields } : {}) }),
      problem: e,
    };
  }
}

/** `logger` with `bound` added to every line's fields (a line's own fields win). */
export function withFields(logger: FieldLogger, bound: LogFields): FieldLogger {
  return {
    log: (m, f) => logger.log(m, f ? { ...bound, ...f } : bound),
    warn: (m, f) => logger.warn(m, f ? { ...bound, ...f } : bound),
    error: (m, f) => logger.error(m, f ? { ...bound, ...f } : bound),
  };
}

const STACK = /\n\s+at /;
/** Fields that come first in a JSON line, in this order; `message` follows them, the rest after. */
const LEADING = ['shard', 'exchange', 'symbol', 'context'] as const;
const RESERVED = new Set(['time', 'level', 'service', 'message']);

interface Entry {
  level: LogLevel;
  message: string;
  fields: LogFields;
}

export class ServiceLogger implements FieldLogger {
  readonly format: LogFormat;
  private readonly now: () => number;

  constructor(private readonly o: ServiceLoggerOptions) {
    this.format = o.format;
    this.now = o.now ?? Date.now;
  }

  /** A logger whose lines also carry `fields` (e.g. `{ context: 'http' }`). */
  child(fields: LogFields): ServiceLogger {
    return new ServiceLogger({ ...this.o, fields: { ...this.o.fields, ...fields } });
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write(this.entry('info', message, params));
  }

  /** The NATS helpers' name for log (NatsLogger). */
  info(message: unknown, ...params: unknown[]): void {
    this.write(this.entry('info', message, params));
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write(this.entry('warn', message, params));
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write(this.entry('error', message, params));
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write(this.entry('fatal', message, params));
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write(this.entry('debug', message, params));
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write(this.entry('verbose', message, params));
  }

  /**
   * The parameters as NestJS passes them: `(message, ...params, context?)` with a trailing string
   * as the context, for error and fatal `(message, stack?, context?)`; a plain object among the
   * params is this service's fields; an Error gives its message and stack.
   */
  private entry(level: LogLevel, message: unknown, params: unknown[]): Entry {
    const fields: LogFields = { ...this.o.fields };
    const rest = params.filter((p) => p !== undefined);
    const last = rest[rest.length - 1];
    if (typeof last === 'string' && !(STACK.test(last) && (level === 'error' || level === 'fatal'))) {
      fields['context'] = last;
      rest.pop();
    }
    const extra: string[] = [];
    for (const p of rest) {
      if (p instanceof Error) Object.assign(fields, errorFields(p));
      else if (typeof p === 'string' && STACK.test(p)) fields['stack'] = p;
      else if (isPlainObject(p)) Object.assign(fields, p);
      else extra.push(text(p));
    }
    let m: string;
    if (message instanceof Error) {
      m = message.message;
      if (message.stack) fields['stack'] = message.stack;
    } else m = text(message);
    for (const k of RESERVED) if (k in fields && k !== 'message') delete fields[k];
    if ('message' in fields) {
      fields['detail'] = fields['message'];
      delete fields['message'];
    }
    return { level, message: extra.length > 0 ? `${m} ${extra.join(' ')}` : m, fields };
  }

  private write(e: Entry): void {
    const line = this.format === 'json' ? this.json(e) : this.text(e);
    (e.level === 'error' || e.level === 'fatal' ? this.o.streams.stderr : this.o.streams.stdout).write(`${line}\n`);
  }

  private json(e: Entry): string {
    const out: Record<string, unknown> = {
      time: new Date(this.now()).toISOString(),
      level: e.level,
      service: this.o.service,
    };
    for (const k of LEADING) if (e.fields[k] !== undefined) out[k] = e.fields[k];
    out['message'] = e.message;
    for (const [k, v] of Object.entries(e.fields)) if (!(k in out) && v !== undefined) out[k] = v;
    return safeJson(out);
  }

  /**
   * `2026-05-01T10:00:00.000Z WARN  aggregator/0 [http] message  key=value`: a text field only when the message does
   * not already say it.
   */
  private text(e: Entry): string {
    const { shard, context, stack, ...rest } = e.fields;
    const who = shard === undefined ? this.o.service : `${this.o.service}/${String(shard)}`;
    const pairs: string[] = [];
    for (const [k, v] of Object.entries(rest)) {
      if (v === undefined) continue;
      if (typeof v === 'string' && v !== '' && e.message.includes(v)) continue;
      pairs.push(`${k}=${typeof v === 'string' && !/[\s"=]/.test(v) && v !== '' ? v : safeJson(v)}`);
    }
    const head = `${new Date(this.now()).toISOString()} ${e.level.toUpperCase().padEnd(5)} ${who}${context !== undefined ? ` [${String(context)}]` : ''} ${e.message}`;
    const line = pairs.length > 0 ? `${head}  ${pairs.join(' ')}` : head;
    return typeof stack === 'string' && !e.message.includes(stack) ? `${line}\n${stack}` : line;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function errorFields(e: Error): LogFields {
  return { error: e.message, ...(e.stack ? { stack: e.stack } : {}) };
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Error) return v.message;
  if (typeof v === 'object' && v !== null) return safeJson(v);
  return String(v);
}

/** JSON that never throws: bigints as strings, errors as { message, stack }, a cycle as "[circular]". */
function safeJson(v: unknown): string {
  const seen = new Set<unknown>();
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return x.toString();
    if (x instanceof Error) return { message: x.message, ...(x.stack ? { stack: x.stack } : {}) };
    if (typeof x === 'object' && x !== null) {
      if (seen.has(x)) return '[circular]';
      seen.add(x);
    }
    return x;
  });
}
