import type { EnvReader } from './env.reader.js';

const NATS_PROTOCOLS = ['nats:', 'tls:'];

/** "nats://a:4222, nats://b:4222" → the servers, trimmed, without empty items or repeats. */
function splitServerList(value: string): string[] {
  return [
    ...new Set(
      value
        .split(',')
        .map((u) => u.trim())
        .filter((u) => u.length > 0),
    ),
  ];
}

function isNatsUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return NATS_PROTOCOLS.includes(url.protocol) && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * The NATS servers a service connects to: NATS_URL, one nats: or tls: URL or several separated by
 * commas (the members of a cluster: the client picks one and fails over to the others), else
 * nats://NATS_HOST:NATS_PORT. Every app's configuration reads it here, so that a cluster's URL
 * list is accepted, and refused, the same way everywhere.
 */
export function readNatsServers(r: EnvReader): string[] {
  const host = r.string('NATS_HOST', '127.0.0.1');
  const port = r.int('NATS_PORT', 4222, 1, 65535);
  const value = r.optionalString('NATS_URL') ?? `nats://${host}:${port}`;
  const urls = splitServerList(value);
  if (urls.length === 0 || urls.some((u) => !isNatsUrl(u))) {
    r.problem(`NATS_URL must be nats: or tls: URLs separated by commas, got "${value}"`);
    return [];
  }
  return urls;
}

/** Credentials of a service's NATS user (one user per component, with its permissions). */
export interface NatsAuth {
  user?: string;
  pass?: string;
}

/** "nats://user:pass@host" or "nats://token@host": the part before the host holds credentials. */
function urlHasCredentials(u: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(u);
}

/**
 * NATS_USER and NATS_PASSWORD, the service's NATS user (both or neither; a server without users
 * ignores them). Credentials in NATS_URL as well are refused: one place says who the service is.
 * The password is never part of an error or a log line.
 */
export function readNatsAuth(r: EnvReader): NatsAuth {
  const user = r.optionalString('NATS_USER');
  const pass = r.optionalString('NATS_PASSWORD');
  if (user === undefined && pass === undefined) return {};
  if (user === undefined || pass === undefined) {
    r.problem(
      `NATS_USER and NATS_PASSWORD go together: ${user === undefined ? 'NATS_USER' : 'NATS_PASSWORD'} is missing`,
    );
    return {};
  }
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(user)) {
    r.problem(`NATS_USER must be 1-64 characters of A-Z a-z 0-9 _ . -, got "${user.slice(0, 80)}"`);
    return {};
  }
  const url = r.optionalString('NATS_URL');
  if (url !== undefined && url.split(',').some((u) => urlHasCredentials(u.trim()))) {
    r.problem('NATS_URL carries credentials and NATS_USER/NATS_PASSWORD are set too: give them in one place');
    return {};
  }
  return { user, pass };
}
