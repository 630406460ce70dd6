import type { NatsAuth } from '@orderflow/config';
import { type ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import {
  type SnapshotError,
  type SnapshotRequest,
  type SymbolSnapshot,
  shardOf,
  snapshotPattern,
} from '@orderflow/contracts';
import type { Timeframe } from '@orderflow/footprint';
import { firstValueFrom, timeout } from 'rxjs';

/**
 * Asks the aggregator shard that owns a symbol for its snapshot: request/reply over the Nest NATS
 * transport on snapshotPattern(shardOf(exchange, symbol, AGG_SHARDS)) (libs/contracts live.ts).
 */
export class SnapshotClient {
  private readonly client: ClientProxy;

  constructor(
    natsServers: string[],
    natsAuth: NatsAuth,
    private readonly shards: number,
    private readonly timeoutMs: number,
  ) {
    this.client = ClientProxyFactory.create({
      transport: Transport.NATS,
      options: {
        servers: natsServers,
        ...natsAuth,
        name: 'gateway-snapshots',
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
        waitOnFirstConnect: false,
      },
    });
  }

  shardOf(exchange: string, symbol: string): number {
    return shardOf(exchange, symbol, this.shards);
  }

  /** The owner's snapshot or its refusal; rejects on timeout or transport failure. */
  async request(exchange: string, symbol: string, timeframes: Timeframe[]): Promise<SymbolSnapshot | SnapshotError> {
    const data: SnapshotRequest = { exchange, symbol, timeframes };
    const pattern = snapshotPattern(this.shardOf(exchange, symbol));
    const reply = await firstValueFrom(
      this.client.send<unknown, SnapshotRequest>(pattern, data).pipe(timeout({ first: this.timeoutMs })),
    );
    if (typeof reply !== 'object' || reply === null)
      throw new Error(`snapshot reply of shard ${this.shardOf(exchange, symbol)} is not an object`);
    const r = reply as Partial<SymbolSnapshot & SnapshotError>;
    if (typeof r.error === 'string')
      return { error: r.error as SnapshotError['error'], message: String(r.message ?? '') };
    if (
      r.v !== 1 ||
      typeof r.epoch !== 'string' ||
      typeof r.timeframes !== 'object' ||
      r.timeframes === null ||
      typeof r.scales !== 'object'
    ) {
      throw new Error(`snapshot reply of shard ${this.shardOf(exchange, symbol)} is not a version 1 SymbolSnapshot`);
    }
    return reply as SymbolSnapshot;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
