/**
 * What a Kubernetes Service is to the ClickHouse replicas, on one machine: one address in front of
 * several servers. Each new TCP connection goes to the first upstream, in the order given, that
 * accepts it (a refused or timed-out connect tries the next); bytes are then piped both ways
 * untouched, and when either side closes, so does the other. A server that is down refuses
 * connections, so clients reach the survivor with their next connection; connections open to the
 * server when it dies break, as they would behind a Service. A restarted server is preferred again
 * as soon as it accepts connections (a Service's readiness probe on /ping does the same), whether
 * or not it has caught up with its replica yet.
 */
import { type Server, type Socket, connect, createServer } from 'node:net';

export interface Upstream {
  name: string;
  host: string;
  port: number;
}

export class FailoverProxy {
  /** Client connections piped to each upstream, by name. */
  readonly connections: Record<string, number> = {};
  /** Client connections that no upstream accepted (closed at once). */
  unserved = 0;
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  port = 0;

  constructor(
    readonly upstreams: readonly Upstream[],
    readonly connectTimeoutMs = 2000,
  ) {
    for (const u of upstreams) this.connections[u.name] = 0;
    this.server = createServer({ pauseOnConnect: true }, (client) => void this.serve(client));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
    return this.url;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.open) s.destroy();
    await closed;
  }

  private track(s: Socket): void {
    this.open.add(s);
    s.once('close', () => this.open.delete(s));
    s.on('error', () => s.destroy());
  }

  private attempt(u: Upstream): Promise<Socket | null> {
    return new Promise((resolve) => {
      const s = connect({ host: u.host, port: u.port });
      const t = setTimeout(() => fail(), this.connectTimeoutMs);
      const fail = () => {
        clearTimeout(t);
        s.removeAllListeners();
        s.on('error', () => undefined);
        s.destroy();
        resolve(null);
      };
      s.once('error', fail);
      s.once('connect', () => {
        clearTimeout(t);
        s.removeAllListeners();
        resolve(s);
      });
    });
  }

  private async serve(client: Socket): Promise<void> {
    this.track(client);
    for (const u of this.upstreams) {
      const up = await this.attempt(u);
      if (!up) continue;
      if (client.destroyed) {
        up.destroy();
        return;
      }
      this.track(up);
      this.connections[u.name]!++;
      up.once('close', () => client.destroy());
      client.once('close', () => up.destroy());
      client.pipe(up);
      up.pipe(client);
      client.resume();
      return;
    }
    this.unserved++;
    client.destroy();
  }
}
