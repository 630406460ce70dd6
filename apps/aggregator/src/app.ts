import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { type ServiceLogger, serviceLoggerFromEnv } from '@orderflow/observability';
import { silentLogger, watchPermissionViolations } from '@orderflow/nats';
import type { NatsConnection } from '@nats-io/transport-node';
import { AggregatorModule } from './aggregator.module.js';
import { AGGREGATOR_RUNTIME } from './aggregator.tokens.js';
import type { AggregatorRuntime } from './aggregator.runtime.js';
import type { AggregatorConfig } from './config/aggregator.config.js';
import { bindSnapshotPattern } from './snapshot.controller.js';

/** The aggregator's log (LOG_FORMAT of `env`), every line with its shard. */
export function aggregatorLogger(
  config: AggregatorConfig,
  env: Record<string, string | undefined> = process.env,
): ServiceLogger {
  return serviceLoggerFromEnv('aggregator', env, process).logger.child({ shard: config.shardIndex });
}

/**
 * The whole shard as main.ts runs it: HTTP (health, metrics, status) and the snapshot handler on
 * the Nest NATS transport, started and listening. Tests use it to run a real shard in-process.
 * `logger`: false for none; by default the LOG_FORMAT of the environment.
 */
export async function startAggregatorApp(
  config: AggregatorConfig,
  o: { logger?: false | ServiceLogger } = {},
): Promise<{ app: INestApplication; runtime: AggregatorRuntime; url: string }> {
  bindSnapshotPattern(config.shardIndex);
  const logger = o.logger ?? aggregatorLogger(config);
  const app = await NestFactory.create(AggregatorModule.forConfig(config), { bufferLogs: false, logger });
  app.enableShutdownHooks();
  const rpc = app.connectMicroservice<MicroserviceOptions>({
    transport: Transport.NATS,
    options: { servers: config.natsServers, ...config.natsAuth, name: `aggregator-${config.shardIndex}-rpc` },
  });
  await app.startAllMicroservices();
  // a refused subscription of the snapshot subject is logged and counted like the runtime's own refusals
  const rpcLog =
    logger === false
      ? silentLogger
      : {
          info: (m: string) => logger.log(m),
          warn: (m: string) => logger.warn(m),
          error: (m: string) => logger.error(m),
        };
  watchPermissionViolations(rpc.unwrap<NatsConnection>(), rpcLog, config.natsAuth.user);
  await app.listen(config.httpPort, config.httpHost);
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    runtime: app.get<AggregatorRuntime>(AGGREGATOR_RUNTIME),
    url: `http://${config.httpHost}:${address.port}`,
  };
}
