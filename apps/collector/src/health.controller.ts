import { Controller, Get, Header, HttpException, HttpStatus, Inject } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { COLLECTOR_RUNTIME } from './collector.tokens.js';
import type { CollectorRuntime } from './collector.runtime.js';
import { collectorMetrics } from './metrics/collector.metrics.js';

@Controller()
export class HealthController {
  private readonly registry: Registry;

  constructor(@Inject(COLLECTOR_RUNTIME) private readonly runtime: CollectorRuntime) {
    this.registry = collectorMetrics(runtime);
  }

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  ready(): { status: 'ready'; exchange: string } {
    const r = this.runtime.ready();
    if (!r.ready) throw new HttpException({ status: 'not ready', reasons: r.reasons }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ready', exchange: this.runtime.config.exchange.id };
  }

  /** The feed's state per symbol (next expected id, open gap, queue): for operators. */
  @Get('status')
  status(): unknown {
    return { ready: this.runtime.ready(), feed: this.runtime.feed?.status() ?? null, publisher: this.runtime.publisher?.stats() ?? null, events: this.runtime.events?.stats() ?? null };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
