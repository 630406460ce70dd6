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

  /** Ready when NATS and ClickHouse answer (background probes: this reads their state and never waits on them). */
  @Get('health/ready')
  ready(): { status: 'ready' } {
    const r = this.runtime.ready();
    if (!r.ready) throw new HttpException({ status: 'not ready', reasons: r.reasons }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ready' };
  }

  /** Live streams (sync state, seq, resyncs) and connection counts: for operators. */
  @Get('status')
  status(): unknown {
    return {
      ready: this.runtime.ready(),
      dependencies: this.runtime.dependencies(),
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
