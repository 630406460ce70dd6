import {
  type DynamicModule,
  Inject,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { AggregatorConfig } from './config/aggregator.config.js';
import { AGGREGATOR_CONFIG, AGGREGATOR_RUNTIME } from './aggregator.tokens.js';
import { AggregatorRuntime } from './aggregator.runtime.js';
import { HealthController } from './health.controller.js';
import { SnapshotController } from './snapshot.controller.js';

/**
 * One aggregator shard: a thin NestJS shell (configuration, lifecycle, HTTP health and metrics,
 * the snapshot handler on the NATS transport) around AggregatorRuntime.
 */
@Module({})
export class AggregatorModule implements OnApplicationBootstrap, OnApplicationShutdown {
  static forConfig(config: AggregatorConfig): DynamicModule {
    return {
      module: AggregatorModule,
      controllers: [HealthController, SnapshotController],
      providers: [
        { provide: AGGREGATOR_CONFIG, useValue: config },
        {
          provide: AGGREGATOR_RUNTIME,
          // through Nest's Logger: the app's logger (the shard's ServiceLogger, or none), fields and all
          useFactory: () => new AggregatorRuntime(config, new Logger('runtime')),
        },
      ],
    };
  }

  constructor(@Inject(AGGREGATOR_RUNTIME) private readonly runtime: AggregatorRuntime) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runtime.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.stop();
  }
}
