import type { EnvReader } from './env.reader.js';

const NATS_PROTOCOLS = ['nats:', 'tls:'];

/** "nats://a:4222, nats://b:4222" → the servers, trimmed, without empty items or repeats. */
function splitServerList(value: string): string[] {
  return [...new Set(value.split(',').map((u) => u.trim()).filter((u) => u.length > 0))];
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
