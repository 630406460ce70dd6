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

  /**
   * The feed's state per symbol (where it started, next expected id, open gap, queue, catch-up):
   * for operators. `catchingUp`: the symbols catching up right now (ids to go, trades/s, ETA).
   */
  @Get('status')
  status(): unknown {
    const feed = this.runtime.feed?.status() ?? null;
    const catchingUp = (feed?.symbols ?? []).flatMap((s) =>
      s.catchUp?.active ? [{ symbol: s.symbol, ...s.catchUp }] : [],
    );
    return {
      ready: this.runtime.ready(),
      catchingUp,
      feed,
      publisher: this.runtime.publisher?.stats() ?? null,
      events: this.runtime.events?.stats() ?? null,
    };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
