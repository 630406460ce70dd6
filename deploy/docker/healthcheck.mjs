#!/usr/bin/env node
/**
 * Docker HEALTHCHECK of the images (Kubernetes uses its own probes instead): GET /health/live on
 * the app's own port, from inside the container. ORDERFLOW_APP is set by the Dockerfile.
 */
const PORTS = {
  collector: process.env.COLLECTOR_HTTP_PORT ?? '9300',
  aggregator: process.env.AGG_HTTP_PORT ?? '9400',
  gateway: process.env.GATEWAY_PORT ?? '8080',
};
const port = PORTS[process.env.ORDERFLOW_APP ?? ''];
if (!port) process.exit(0); // nothing to check (e.g. the exchange simulator)
try {
  const res = await fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(4000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
