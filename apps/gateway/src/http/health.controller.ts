import { Controller, Get, Header, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { GATEWAY_RUNTIME } from '../gateway.tokens.js';
import type { GatewayRuntime } from '../gateway.runtime.js';

@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(@Inject(GATEWAY_RUNTIME) private readonly runtime: GatewayRuntime) {}

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready when NATS is connected and ClickHouse answers. */
  @Get('health/ready')
  async ready(): Promise<{ status: 'ready' }> {
    const r = await this.runtime.ready();
    if (!r.ready) throw new HttpException({ status: 'not ready', reasons: r.reasons }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ready' };
  }

  /** Live streams (sync state, seq, resyncs) and connection counts: for operators. */
  @Get('status')
  async status(): Promise<unknown> {
    return {
      ready: await this.runtime.ready(),
      clients: this.runtime.sessions.size,
      subscriptions: this.runtime.hub.subscriptionCount,
      views: this.runtime.hub.viewCount,
      streams: this.runtime.hub.streamStates(),
      instruments: { count: this.runtime.catalog.instruments().length, lastError: this.runtime.catalog.lastError },
    };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metrics(): Promise<string> {
    return this.runtime.metrics.registry.metrics();
  }
}
