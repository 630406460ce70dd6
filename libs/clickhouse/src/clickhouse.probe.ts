import type { ClickHouseClient } from '@clickhouse/client';
import { DependencyProbe, type DependencyProbeOptions, endpointOf } from '@orderflow/observability';

/**
 * The readiness probe of a ClickHouse server (libs/config DependencyProbe): a ping of the HTTP
 * interface (`/ping`, no query run), aborted when the probe's timeout passes. `url` gives the
 * endpoint shown in /status (host:port, never its credentials).
 */
export function clickHouseProbe(
  ch: ClickHouseClient,
  url: string,
  options: Omit<DependencyProbeOptions, 'endpoint'> = {},
): DependencyProbe {
  return new DependencyProbe(
    'ClickHouse',
    async (signal) => {
      const r = await ch.ping({ select: false, abort_signal: signal });
      if (!r.success) throw r.error;
    },
    { ...options, endpoint: endpointOf(url) },
  );
}
