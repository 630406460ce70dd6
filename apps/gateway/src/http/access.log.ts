import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FieldLogger } from '@orderflow/observability';

/**
 * Query parameters whose values never reach the log (a client may put its token in the URL; the
 * gateway itself reads it from the Authorization header, which is never logged). `session` is not
 * among them: it is `/api/vwap`'s flag (restart the VWAP each UTC day), which the log should show;
 * `sessionid` is the conventional name of a session secret.
 */
const SECRET_PARAM =
  /^(token|access_token|id_token|refresh_token|auth|authorization|bearer|jwt|api[-_]?key|key|secret|password|passwd|pwd|signature|sig|sessionid|session_id|credentials?)$/i;

/** Longest URL an access line carries (a request line may be 16 KB). */
const MAX_URL = 2000;

/** Requests not logged: probes and scrapes every few seconds, which the metrics count anyway. */
const QUIET = /^\/(health\/(live|ready)|metrics)$/;

/** `/api/x?token=abc&symbol=BTCUSDT` → `/api/x?token=[redacted]&symbol=BTCUSDT`, at most MAX_URL characters. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  let out = url;
  if (q >= 0) {
    const pairs = url.slice(q + 1).split('&');
    out = `${url.slice(0, q)}?${pairs
      .map((pair) => {
        const eq = pair.indexOf('=');
        const rawName = eq >= 0 ? pair.slice(0, eq) : pair;
        let name: string;
        try {
          name = decodeURIComponent(rawName.replace(/\+/g, ' '));
        } catch {
          name = rawName;
        }
        return SECRET_PARAM.test(name.trim()) ? `${rawName}=[redacted]` : pair;
      })
      .join('&')}`;
  }
  return out.length > MAX_URL ? `${out.slice(0, MAX_URL)}...` : out;
}

type Req = IncomingMessage & { originalUrl?: string };

/**
 * One line per HTTP request once its response is done (or the client went away): method, URL
 * (secrets in the query redacted), status, duration, bytes (when the length was declared), client
 * address and X-Forwarded-For; no other header. Server errors (5xx) at warn, the rest at log.
 */
export function accessLogger(
  logger: FieldLogger,
): (req: Req, res: ServerResponse, next: (err?: unknown) => void) => void {
  return (req, res, next) => {
    const url = req.originalUrl ?? req.url ?? '';
    if (QUIET.test(url.split('?')[0]!)) return next();
    const started = performance.now();
    res.once('close', () => {
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      const path = redactUrl(url);
      const status = res.statusCode;
      // the client left, or the response was cut short, before it was complete
      const aborted = !res.writableFinished;
      const length = Number(res.getHeader('content-length'));
      const forwarded = req.headers['x-forwarded-for'];
      const fields = {
        method: req.method ?? '',
        path,
        status,
        durationMs,
        ...(Number.isFinite(length) ? { bytes: length } : {}),
        client: req.socket.remoteAddress ?? '',
        ...(typeof forwarded === 'string' ? { forwardedFor: forwarded.slice(0, 200) } : {}),
        ...(aborted ? { aborted } : {}),
      };
      const line = `${fields.method} ${path} ${status} ${durationMs} ms${aborted ? ' (aborted)' : ''}`;
      if (status >= 500) logger.warn(line, fields);
      else logger.log(line, fields);
    });
    next();
  };
}
