import { Controller, Get, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { HealthLiveResponse, HealthReadyResponse } from '@orderflow/contracts';
import { GATEWAY_RUNTIME } from '../gateway.tokens.js';
import type { GatewayRuntime } from '../gateway.runtime.js';

/**
 * The probes on the public port (Kubernetes' and npm start's). /metrics and /status are on the
 * metrics port only (ops.server.ts).
 */
@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(@Inject(GATEWAY_RUNTIME) private readonly runtime: GatewayRuntime) {}

  @Get('health/live')
  live(): HealthLiveResponse {
    return { status: 'ok' };
  }

  /** Ready when NATS and ClickHouse answer (background probes: this reads their state and never waits on them). */
  @Get('health/ready')
  ready(): HealthReadyResponse {
    const r = this.runtime.ready();
    if (!r.ready) {
      const notReady: HealthReadyResponse = { status: 'not ready', reasons: r.reasons };
      throw new HttpException(notReady, HttpStatus.SERVICE_UNAVAILABLE);
    }
    return { status: 'ready' };
  }
}
