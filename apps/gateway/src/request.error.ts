/**
 * A request the gateway refuses, with a stable `code` for clients and a reason for people.
 * Socket.IO sends it as the `error` event `{ code, reason, request }`; HTTP as
 * `{ statusCode, error, message }` with the status of its code.
 */
export type RequestErrorCode =
  | 'bad-request'
  | 'unknown-exchange'
  | 'unknown-symbol'
  | 'unknown-subscription'
  | 'unknown-event'
  | 'too-many-subscriptions'
  | 'rate-limited'
  | 'unauthorized'
  | 'unavailable'
  | 'too-slow'
  | 'internal';

export class RequestError extends Error {
  override readonly name = 'RequestError';
  constructor(
    readonly code: RequestErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function badRequest(message: string): RequestError {
  return new RequestError('bad-request', message);
}

/** HTTP status of a code: every refusal of the request's content is a 400. */
export function httpStatusOf(code: RequestErrorCode): number {
  switch (code) {
    case 'unauthorized':
      return 401;
    case 'rate-limited':
      return 429;
    case 'unavailable':
      return 503;
    case 'internal':
      return 500;
    default:
      return 400;
  }
}

/** A bounded, JSON-safe copy of what a client sent, to echo back in an error (never the whole of a huge payload). */
export function echo(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string') return value.length > 200 ? `${value.slice(0, 200)}...` : value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return `(${typeof value})`;
  if (depth >= 2) return Array.isArray(value) ? '[...]' : '{...}';
  if (Array.isArray(value)) return value.slice(0, 10).map((v) => echo(v, depth + 1));
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (n++ >= 12) break;
    out[k.length > 64 ? `${k.slice(0, 64)}...` : k] = echo(v, depth + 1);
  }
  return out;
}
