/**
 * What a service may show of a failure outside its log (HTTP error bodies, /status, readiness
 * reasons): a short classified reason and a dependency's host:port, never the error's own text
 * (a ClickHouse exception quotes queries, tables and its version) nor a URL (it may hold
 * credentials). The detail goes to the log only.
 */

const NODE_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ETIMEDOUT: 'timeout',
  ESOCKETTIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'host unreachable',
  CERT_HAS_EXPIRED: 'TLS error',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS error',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS error',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS error',
};

/** Texts of the platform's own (no detail in them) that are shown as they are. */
const OWN = /^(connection closed|no connection|not checked yet|no answer within \d+ ms|not connected to NATS)$/;

/** Messages, by what they say, for errors without a code (the ClickHouse client's "Timeout error."). */
const BY_MESSAGE: [RegExp, string][] = [
  [/ECONNREFUSED|connection refused/i, 'connection refused'],
  [/ECONNRESET|socket hang up|EPIPE/i, 'connection reset'],
  [/timeout|timed out|ETIMEDOUT/i, 'timeout'],
  [/ENOTFOUND|EAI_AGAIN/i, 'host not found'],
  [/EHOSTUNREACH|ENETUNREACH/i, 'host unreachable'],
  [/\babort(ed)?\b/i, 'aborted'],
  [/connection closed|CONNECTION_CLOSED|closed connection/i, 'connection closed'],
  [
    /authorization violation|authentication|AUTHENTICATION_FAILED|REQUIRED_PASSWORD|wrong password/i,
    'authentication failed',
  ],
  [/permissions? violation|ACCESS_DENIED|NOT_ENOUGH_PRIVILEGES/i, 'access denied'],
];

/**
 * A short reason for a failure, safe to show: "timeout", "connection refused", "HTTP 500",
 * "ClickHouse UNKNOWN_DATABASE" (the server's error name, not its text), ... or "failed".
 */
export function classifyError(e: unknown): string {
  const seen = new Set<unknown>();
  for (
    let cur: unknown = e;
    cur !== null && cur !== undefined && !seen.has(cur);
    cur = (cur as { cause?: unknown }).cause
  ) {
    seen.add(cur);
    const err = cur as { code?: unknown; type?: unknown; statusCode?: unknown; status?: unknown; message?: unknown };
    const message = typeof cur === 'string' ? cur : typeof err.message === 'string' ? err.message : '';
    if (OWN.test(message)) return message;
    if (typeof err.code === 'string' && NODE_CODES[err.code]) return NODE_CODES[err.code]!;
    // the ClickHouse client's server errors: a numeric code and the error's name
    if (typeof err.type === 'string' && /^[A-Z][A-Z0-9_]{2,63}$/.test(err.type)) return `ClickHouse ${err.type}`;
    const named = /\(([A-Z][A-Z0-9_]{2,63})\)(?: \(version [^)]*\))?\s*$/.exec(message.trim());
    if (named && /Code: \d+|DB::Exception/.test(message)) return `ClickHouse ${named[1]}`;
    const status =
      typeof err.statusCode === 'number' ? err.statusCode : typeof err.status === 'number' ? err.status : null;
    if (status !== null && status >= 400 && status < 600) return `HTTP ${status}`;
    const http = /\bHTTP (?:status )?(\d{3})\b|\bstatus(?: code)?:? (\d{3})\b/i.exec(message);
    if (http) return `HTTP ${http[1] ?? http[2]}`;
    for (const [re, reason] of BY_MESSAGE) if (re.test(message)) return reason;
  }
  return 'failed';
}

const DEFAULT_PORTS: Record<string, string> = {
  'http:': '80',
  'https:': '443',
  'nats:': '4222',
  'tls:': '4222',
  'ws:': '80',
  'wss:': '443',
};

/**
 * host:port of a URL (or of each of a comma-separated list), without scheme, credentials, path or query; "?" when it
 * does not parse.
 */
export function endpointOf(url: string): string {
  return url
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '')
    .map((u) => {
      try {
        const parsed = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(u) ? u : `nats://${u}`);
        return `${parsed.hostname}:${parsed.port || DEFAULT_PORTS[parsed.protocol] || '?'}`;
      } catch {
        return '?';
      }
    })
    .join(',');
}

/** A text for the log with the credentials of any URL in it replaced (`http://[redacted]@host`). */
export function redactCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@"']*@/gi, '$1[redacted]@');
}

/** An error's full text for the log (its message, and its cause's), URL credentials removed. */
export function errorDetail(e: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (
    let cur: unknown = e;
    cur !== null && cur !== undefined && !seen.has(cur) && parts.length < 4;
    cur = (cur as { cause?: unknown }).cause
  ) {
    seen.add(cur);
    const code = (cur as { code?: unknown }).code;
    const message =
      cur instanceof Error
        ? cur.message
        : typeof cur === 'string'
          ? cur
          : String((cur as { message?: unknown }).message ?? cur);
    parts.push(typeof code === 'string' && !message.includes(code) ? `${message} [${code}]` : message);
  }
  return redactCredentials(parts.join('; caused by: '));
}
