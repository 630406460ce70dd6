/**
 * Which web pages may open the live connection. A browser sends `Origin` with every WebSocket
 * handshake and every cross-origin request, and a page cannot forge it; a client that is not a
 * browser (socket.io-client in Node, curl) sends none and is not a page another site controls.
 *
 * - no Origin: allowed;
 * - the gateway's own origin (Origin equal to the request's Host with http: or https:, which is
 *   the dashboard served at / as the browser sees it): allowed;
 * - an origin listed in GATEWAY_ALLOWED_ORIGINS: allowed; `*` there allows every origin (unsafe:
 *   any web page a user opens can then read the live data with the user's network position);
 * - anything else (another site, `null` from a sandboxed frame or a file): refused.
 */
export interface AllowedOrigins {
  /** `*`: every origin is allowed. */
  any: boolean;
  /** Serialized origins (`https://host[:port]`, lowercase, no default port). */
  origins: string[];
}

/** `scheme://host[:port]` of an http(s) origin as browsers serialize it, or null if `text` is not exactly one. */
export function normalizeOrigin(text: string): string | null {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  if (u.username || u.password || u.search || u.hash) return null;
  // an origin has no path: `https://a.example` or (as some write it) `https://a.example/`
  const bare = text.endsWith('/') ? text.slice(0, -1) : text;
  const slashes = bare.indexOf('//');
  if (slashes < 0 || /[/?#@\\]/.test(bare.slice(slashes + 2)) || u.pathname !== '/') return null;
  return u.origin;
}

/** GATEWAY_ALLOWED_ORIGINS: comma-separated origins or `*`; the problems name the bad entries. */
export function parseAllowedOrigins(raw: string | undefined): { allowed: AllowedOrigins; problems: string[] } {
  const allowed: AllowedOrigins = { any: false, origins: [] };
  const problems: string[] = [];
  for (const entry of (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (entry === '*') {
      allowed.any = true;
      continue;
    }
    const o = normalizeOrigin(entry);
    if (o === null)
      problems.push(
        `GATEWAY_ALLOWED_ORIGINS must be * or http(s) origins (scheme://host[:port], no path) separated by commas, got "${entry}"`,
      );
    else if (!allowed.origins.includes(o)) allowed.origins.push(o);
  }
  return { allowed, problems };
}

/** The page's origin if it may connect, else the reason it may not (null: allowed). */
export function refusedOrigin(
  origin: string | string[] | undefined,
  host: string | undefined,
  allowed: AllowedOrigins,
): string | null {
  if (origin === undefined) return null;
  if (allowed.any) return null;
  if (Array.isArray(origin)) return 'more than one Origin header';
  const o = normalizeOrigin(origin);
  if (o === null) return `Origin "${origin.slice(0, 200)}" is not an http(s) origin`;
  if (allowed.origins.includes(o)) return null;
  if (host) {
    for (const scheme of ['http:', 'https:']) {
      const own = ownOrigin(scheme, host);
      if (own !== null && own === o) return null;
    }
  }
  return `Origin ${o} is not allowed: only the gateway's own origin and GATEWAY_ALLOWED_ORIGINS may connect`;
}

/** The origin of `scheme//host` when `host` is only a host and port (not a user, path or query). */
function ownOrigin(scheme: string, host: string): string | null {
  try {
    const u = new URL(`${scheme}//${host}`);
    const given = host.toLowerCase();
    return u.host === given || `${u.hostname}:${scheme === 'http:' ? 80 : 443}` === given ? u.origin : null;
  } catch {
    return null;
  }
}
