import type { Timeframe } from '@orderflow/footprint';
import type { InstrumentsResponse, SubscribeRequest } from '@orderflow/contracts';
import { type GatewayAdapter, GatewayRequestError, type LiveHandlers } from './gateway.protocol.js';

/**
 * A gateway adapter that exists once the target gateway is known to be allowed (gateway.target.ts):
 * until then calls wait; if it is refused, the connection is reported `disconnected` with the
 * reason, every request fails with it (`gateway-not-allowed`), and nothing connects anywhere.
 */
export class GuardedGatewayAdapter implements GatewayAdapter {
  private inner: GatewayAdapter | null = null;
  private closed = false;
  private readonly ready: Promise<GatewayAdapter>;

  constructor(target: Promise<{ adapter: () => GatewayAdapter } | { refused: string }>) {
    this.ready = target.then((t) => {
      if ('refused' in t) throw new GatewayRequestError('gateway-not-allowed', t.refused);
      if (this.closed) throw new GatewayRequestError('closed', 'closed');
      this.inner = t.adapter();
      return this.inner;
    });
    this.ready.catch(() => undefined);
  }

  connect(h: LiveHandlers): void {
    h.connection('connecting');
    this.ready.then(
      (a) => a.connect(h),
      (e: unknown) => {
        if (!this.closed) h.connection('disconnected', (e as Error).message);
      },
    );
  }

  async subscribe(req: SubscribeRequest): Promise<string> {
    return (await this.ready).subscribe(req);
  }

  unsubscribe(subscriptionId: string): void {
    this.inner?.unsubscribe(subscriptionId);
  }

  async instruments(): Promise<InstrumentsResponse> {
    return (await this.ready).instruments();
  }

  async completeness(exchange: string, symbol: string, timeframe: Timeframe, from: number, to: number) {
    return (await this.ready).completeness(exchange, symbol, timeframe, from, to);
  }

  async vwap(exchange: string, symbol: string, timeframe: Timeframe, from: number, to: number) {
    return (await this.ready).vwap(exchange, symbol, timeframe, from, to);
  }

  close(): void {
    this.closed = true;
    this.inner?.close();
  }
}
