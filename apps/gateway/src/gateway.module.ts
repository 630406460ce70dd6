import { type DynamicModule, Inject, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { GatewayConfig } from './config/gateway.config.js';
import { GATEWAY_CONFIG, GATEWAY_RUNTIME } from './gateway.tokens.js';
import { GatewayRuntime } from './gateway.runtime.js';
import { HealthController } from './http/health.controller.js';
import { HistoryController } from './http/history.controller.js';
import { LiveGateway } from './live/live.gateway.js';

/**
 * The gateway: a thin NestJS shell (configuration, lifecycle, HTTP controllers, the Socket.IO
 * gateway) around GatewayRuntime. Stateless: replicas behind a load balancer share nothing.
 */
@Module({})
export class GatewayModule implements OnApplicationBootstrap, OnApplicationShutdown {
  static forConfig(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [HealthController, HistoryController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        {
          provide: GATEWAY_RUNTIME,
          // through Nest's Logger: the app's logger (the gateway's ServiceLogger, or none), fields and all
          useFactory: () => new GatewayRuntime(config, new Logger('runtime')),
        },
        LiveGateway,
      ],
    };
  }

  constructor(@Inject(GATEWAY_RUNTIME) private readonly runtime: GatewayRuntime) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runtime.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.stop();
  }
}
