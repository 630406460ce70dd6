import {
  type DynamicModule,
  Inject,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { GatewayConfig } from './config/gateway.config.js';
import { GATEWAY_CONFIG, GATEWAY_OPS, GATEWAY_RUNTIME } from './gateway.tokens.js';
import { GatewayRuntime } from './gateway.runtime.js';
import { DashboardConfigController } from './http/dashboard-config.controller.js';
import { HealthController } from './http/health.controller.js';
import { HistoryController } from './http/history.controller.js';
import { OpsServer } from './http/ops.server.js';
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
      controllers: [HealthController, HistoryController, DashboardConfigController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        {
          provide: GATEWAY_RUNTIME,
          // through Nest's Logger: the app's logger (the gateway's ServiceLogger, or none), fields and all
          useFactory: () => new GatewayRuntime(config, new Logger('runtime')),
        },
        // the metrics port's listener: started by startGatewayApp once the public port listens
        {
          provide: GATEWAY_OPS,
          useFactory: (runtime: GatewayRuntime) => new OpsServer(runtime),
          inject: [GATEWAY_RUNTIME],
        },
        LiveGateway,
      ],
    };
  }

  constructor(
    @Inject(GATEWAY_RUNTIME) private readonly runtime: GatewayRuntime,
    @Inject(GATEWAY_OPS) private readonly ops: OpsServer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runtime.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.ops.close();
    await this.runtime.stop();
  }
}
