import { Controller, Get, Header, HttpException, HttpStatus, Inject } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { AGGREGATOR_RUNTIME } from './aggregator.tokens.js';
import type { AggregatorRuntime } from './aggregator.runtime.js';
import { aggregatorMetrics } from './metrics/aggregator.metrics.js';

@Controller()
export class HealthController {
  private readonly registry: Registry;

  constructor(@Inject(AGGREGATOR_RUNTIME) private readonly runtime: AggregatorRuntime) {
    this.registry = aggregatorMetrics(runtime);
  }

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Ready when migrations ran, NATS and ClickHouse answer (background probes: this reads their
   * state and never waits on them) and writes succeed.
   */
  @Get('health/ready')
  ready(): { status: 'ready'; shard: number; shards: number } {
    const r = this.runtime.ready();
    if (!r.ready) throw new HttpException({ status: 'not ready', reasons: r.reasons }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ready', shard: this.runtime.config.shardIndex, shards: this.runtime.config.shards };
  }

  /** Per symbol: counters, memory held, consumer lag; and the writer's state. */
  @Get('status')
  status(): unknown {
    return {
      shard: this.runtime.config.shardIndex,
      shards: this.runtime.config.shards,
      ready: this.runtime.ready(),
      dependencies: this.runtime.dependencies(),
      writer: this.runtime.stats,
      pendingTrades: this.runtime.pendingTrades(),
      symbols: [...this.runtime.actors.values()].map((a) => ({
        exchange: a.exchange,
        symbol: a.symbol,
        consumer: a.durable,
        lag: this.runtime.lag.get(`${a.exchange}.${a.symbol}`) ?? null,
        pending: a.pending,
        counters: a.counters,
        memory: a.state?.sizes ?? null,
        lastError: a.lastError,
      })),
    };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
