import type { DashboardConfig } from '@orderflow/contracts';

/**
 * Which gateway the page talks to and with which token (pure: the page's location, storage and
 * history are passed in).
 *
 * `?gateway=` may name only the page's own origin or a gateway the serving gateway lists in
 * /dashboard-config.json (its GATEWAY_ALLOWED_ORIGINS; its CSP's connect-src holds the same): a
 * link to the dashboard cannot point it at someone else's server, which would receive the token and
 * could show made-up data under this page's name. Anything else connects nowhere and says why.
 *
 * `?token=` is taken out of the address bar (history.replaceState) as soon as it is read, so that
 * it does not stay in the history, bookmarks, screenshots or a link copied from the bar, and kept
 * in sessionStorage for that gateway: it survives a reload of the tab (the bar no longer has it)
 * and goes when the tab closes; it is never written to localStorage or sent anywhere but to the
 * gateway it was given for.
 */

export const NO_OTHER_GATEWAYS: DashboardConfig = { allowedGateways: [], anyGateway: false };

/** `scheme://host[:port]` of an http(s) URL without credentials, or null. */
export function httpOrigin(text: string): string | null {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return null;
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password) return null;
  return u.origin;
}

/** Whether `?gateway=` (absent: the page's own origin) needs the serving gateway's list to be judged. */
export function needsConfig(gatewayParam: string | null, pageOrigin: string): boolean {
  if (gatewayParam === null || gatewayParam === '') return false;
  return httpOrigin(gatewayParam) !== pageOrigin;
}

export type GatewayChoice = { ok: true; baseUrl: string } | { ok: false; reason: string };

/**
 * The base URL of the gateway to use: '' (the page's own origin) without `?gateway=`, else the
 * named origin if it is the page's own or allowed by `config`.
 */
export function chooseGateway(gatewayParam: string | null, pageOrigin: string, config: DashboardConfig): GatewayChoice {
  if (gatewayParam === null || gatewayParam === '') return { ok: true, baseUrl: '' };
  const origin = httpOrigin(gatewayParam);
  const shown = JSON.stringify(gatewayParam.slice(0, 200));
  if (origin === null)
    return {
      ok: false,
      reason: `gateway=${shown} is not an http(s) origin (such as https://gateway.example): not connecting`,
    };
  if (origin === pageOrigin || config.anyGateway || config.allowedGateways.includes(origin))
    return { ok: true, baseUrl: origin };
  const allowed = [pageOrigin, ...config.allowedGateways].join(', ');
  return {
    ok: false,
    reason: `gateway ${origin} is not allowed for this dashboard (allowed: ${allowed}; the gateway's GATEWAY_ALLOWED_ORIGINS): not connecting`,
  };
}

/** Parses /dashboard-config.json; anything unexpected allows no other gateway. */
export function parseDashboardConfig(body: unknown): DashboardConfig {
  const b = body as Partial<DashboardConfig> | null;
  if (!b || typeof b !== 'object') return NO_OTHER_GATEWAYS;
  const list = Array.isArray(b.allowedGateways)
    ? b.allowedGateways.filter((o): o is string => typeof o === 'string' && httpOrigin(o) === o)
    : [];
  return { allowedGateways: list, anyGateway: b.anyGateway === true };
}

interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** sessionStorage key of the token given for a gateway (its origin; '' = the page's own). */
export function tokenKey(gatewayOrigin: string): string {
  return `orderflow.dashboard.token.${gatewayOrigin}`;
}

/** `search` without its `token` parameters (the rest in order), '' if nothing is left. */
export function withoutToken(search: string): string {
  const q = new URLSearchParams(search);
  q.delete('token');
  const rest = q.toString();
  return rest ? `?${rest}` : '';
}

/**
 * The token for `gatewayOrigin`: `?token=` if the address has one (then kept in `storage` and
 * removed from the address bar through `replaceUrl`), else the one kept for that gateway in this tab.
 */
export function takeToken(
  search: string,
  gatewayOrigin: string,
  storage: TokenStorage | null,
  replaceUrl: (search: string) => void,
): string | null {
  const given = new URLSearchParams(search).get('token');
  if (given !== null) {
    replaceUrl(withoutToken(search));
    if (given === '') return null;
    try {
      storage?.setItem(tokenKey(gatewayOrigin), given);
    } catch {
      /* storage full or refused: the token lives in memory only */
    }
    return given;
  }
  try {
    return storage?.getItem(tokenKey(gatewayOrigin)) ?? null;
  } catch {
    return null;
  }
}
