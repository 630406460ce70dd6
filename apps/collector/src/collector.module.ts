import { Inject, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type CollectorConfig, loadCollectorConfig } from './config/collector.config.js';
import { COLLECTOR_CONFIG, COLLECTOR_RUNTIME } from './collector.tokens.js';
import { collectorLogger } from './collector.logger.js';
import { CollectorRuntime } from './collector.runtime.js';
import { HealthController } from './health.controller.js';

/**
 * The collector: one process per exchange (COLLECTOR_EXCHANGE), normalising its public trades onto
 * JetStream. A thin NestJS shell: configuration, lifecycle and HTTP (health, metrics) around
 * CollectorRuntime.
 */
@Module({
  controllers: [HealthController],
  providers: [
    { provide: COLLECTOR_CONFIG, useFactory: (): CollectorConfig => loadCollectorConfig(process.env) },
    {
      provide: COLLECTOR_RUNTIME,
      inject: [COLLECTOR_CONFIG],
      // through Nest's Logger: the app's logger (the collector's ServiceLogger), fields and all
      useFactory: (config: CollectorConfig) =>
        new CollectorRuntime(config, collectorLogger(new Logger('runtime'), config)),
    },
  ],
})
export class CollectorModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(COLLECTOR_RUNTIME) private readonly runtime: CollectorRuntime) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runtime.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.stop();
  }
}
