import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayRuntime } from '../gateway.runtime.js';

/**
 * The operators' listener (GATEWAY_METRICS_HOST:GATEWAY_METRICS_PORT): /metrics for Prometheus,
 * /status (streams, clients, dependencies) and the health probes. Apart from the public port, so
 * that an Ingress or load balancer routing the public port never exposes them, and Prometheus
 * scrapes without the API's token. The public port keeps /health/live and /health/ready (the
 * chart's probes and npm start's supervisor read them there).
 */
export class OpsServer {
  private server: Server | null = null;

  constructor(private readonly runtime: GatewayRuntime) {}

  /** What /status answers. */
  status(): unknown {
    const rt = this.runtime;
    return {
      ready: rt.ready(),
      dependencies: rt.dependencies(),
      clients: rt.sessions.size,
      subscriptions: rt.hub.subscriptionCount,
      views: rt.hub.viewCount,
      streams: rt.hub.streamStates(),
      instruments: { count: rt.catalog.instruments().length, lastError: rt.catalog.lastError },
    };
  }

  async listen(host: string, port: number): Promise<string> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      const json = (status: number, body: unknown) => {
        res.writeHead(status, {
          'Content-Type': 'application/json; charset=utf-8',
          'X-Content-Type-Options': 'nosniff',
          'Cache-Control': 'no-store',
        });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return json(405, { statusCode: 405, error: 'Method Not Allowed', message: 'GET only' });
      if (path === '/metrics') {
        this.runtime.metrics.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4', 'X-Content-Type-Options': 'nosniff' });
            res.end(text);
          },
          () =>
            json(500, { statusCode: 500, error: 'Internal Server Error', message: 'metrics could not be collected' }),
        );
        return;
      }
      if (path === '/status') return json(200, this.status());
      if (path === '/health/live') return json(200, { status: 'ok' });
      if (path === '/health/ready') {
        const r = this.runtime.ready();
        return r.ready ? json(200, { status: 'ready' }) : json(503, { status: 'not ready', reasons: r.reasons });
      }
      json(404, {
        statusCode: 404,
        error: 'Not Found',
        message: 'this port serves GET /metrics, /status, /health/live and /health/ready',
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const a = server.address() as AddressInfo;
    return `http://${host.includes(':') ? `[${host}]` : host}:${a.port}`;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
