import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { DashboardConfig } from '@orderflow/contracts';
import type { GatewayConfig } from '../config/gateway.config.js';
import { GATEWAY_CONFIG } from '../gateway.tokens.js';

/**
 * What the dashboard served here reads before it connects anywhere (`anyGateway`: GATEWAY_ALLOWED_ORIGINS=*, unsafe,
 * see live/origin.ts). Open without the token: it holds no secret, and the page needs it before it has a connection.
 */
@ApiExcludeController()
@Controller()
export class DashboardConfigController {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  @Get('dashboard-config.json')
  @Header('Cache-Control', 'no-cache')
  get(): DashboardConfig {
    return { allowedGateways: [...this.config.allowedOrigins.origins], anyGateway: this.config.allowedOrigins.any };
  }
}
