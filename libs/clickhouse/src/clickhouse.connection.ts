import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';

export interface ClickHouseOptions {
  /** HTTP URL, e.g. http://127.0.0.1:8123. */
  url: string;
  username?: string;
  password?: string;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
}

/**
 * A client for the HTTP interface. Works with ClickHouse 18.16 (these machines) and current
 * versions as long as callers avoid what 18.16 lacks: query parameters, async_insert,
 * JSONCompactEachRow, decimals sent as strings (see docs/design/clickhouse-storage.md).
 */
export function connectClickHouse(o: ClickHouseOptions): ClickHouseClient {
  return createClient({
    url: o.url,
    username: o.username ?? 'default',
    password: o.password ?? '',
    request_timeout: o.requestTimeoutMs ?? 30_000,
    compression: { request: false, response: false },
    // an idle kept-alive socket is dropped well before the server's keep_alive_timeout (3 s by
    // default before 23.11), also after a busy event loop kept it idle longer: reusing one the
    // server had just closed failed a request with "socket hang up" (seen by the gateway fuzzer)
    keep_alive: { idle_socket_ttl: 1500, eagerly_destroy_stale_sockets: true },
    // failures reach the caller as errors, and the services log them with their context; the
    // client's own ERROR lines would print every refused connection of an outage twice
    log: { level: ClickHouseLogLevel.OFF },
  });
}
