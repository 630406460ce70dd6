import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { AllowedOrigins } from '../live/origin.js';

type Directives = Record<string, string[]>;

/** ws: / wss: form of an http(s) origin: a page's WebSocket to that gateway. */
function socketOrigin(origin: string): string {
  return origin.replace(/^http/, 'ws');
}

/**
 * The Content-Security-Policy of every response: only the gateway's own scripts, styles and
 * images (the dashboard's build has no inline script or style element; ECharts draws on canvas,
 * Vue sets element styles through the CSSOM, which CSP does not govern), no plugins, no framing by
 * any page (clickjacking), and connections to the gateway itself (`'self'` covers its ws:/wss: in
 * CSP 3) and to the gateways of GATEWAY_ALLOWED_ORIGINS, the only ones the dashboard's `?gateway=`
 * may name (`*` there: any). `docs`: the OpenAPI page, whose HTML (NestJS's Swagger UI template)
 * has an inline style element and style attributes.
 */
export function cspDirectives(allowed: AllowedOrigins, docs = false): Directives {
  const connect = ["'self'"];
  if (allowed.any) connect.push('*', 'ws:', 'wss:');
  else for (const o of allowed.origins) connect.push(o, socketOrigin(o));
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': docs ? ["'self'", "'unsafe-inline'"] : ["'self'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'"],
    'connect-src': connect,
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  };
}

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

const DOCS = /^\/api\/docs(\/|$)/;

/**
 * The security headers of every response of the public port (the dashboard, the API, its errors
 * and 404s), set before routing, by helmet: the CSP above, X-Content-Type-Options: nosniff,
 * Referrer-Policy: no-referrer (a URL may carry the dashboard's parameters), X-Frame-Options for
 * browsers without frame-ancestors, Cross-Origin-Opener/Resource-Policy same-origin. No
 * Strict-Transport-Security here: the gateway speaks plain HTTP behind the TLS terminator, which
 * sets it (the chart's Ingress); on a local http:// gateway browsers ignore it anyway.
 */
export function securityHeaders(allowed: AllowedOrigins): Middleware {
  const common = {
    strictTransportSecurity: false,
    referrerPolicy: { policy: 'no-referrer' as const },
    xFrameOptions: { action: 'deny' as const },
  };
  const app = helmet({ ...common, contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(allowed) } });
  const docs = helmet({
    ...common,
    contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(allowed, true) },
  });
  return (req, res, next) => (DOCS.test(req.url ?? '') ? docs : app)(req, res, next);
}
