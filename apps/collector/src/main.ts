import 'reflect-metadata';
import { serviceLoggerFromEnv } from '@orderflow/observability';
import { NestFactory } from '@nestjs/core';
import { CollectorModule } from './collector.module.js';
import { COLLECTOR_CONFIG } from './collector.tokens.js';
import type { CollectorConfig } from './config/collector.config.js';

// the log first: a configuration error is reported in the format asked for
const { logger, problem } = serviceLoggerFromEnv('collector', process.env, process);

async function main(): Promise<void> {
  if (problem) throw problem;
  const app = await NestFactory.create(CollectorModule, { bufferLogs: false, logger });
  app.enableShutdownHooks();
  const config = app.get<CollectorConfig>(COLLECTOR_CONFIG);
  await app.listen(config.httpPort, config.httpHost);
  logger.log(
    `health and metrics on http://${config.httpHost}:${config.httpPort} (/health/live, /health/ready, /metrics, /status)`,
    { context: 'main', exchange: config.exchange.id },
  );
}

main().catch((e: unknown) => {
  // Configuration errors list every bad variable; anything else is printed whole.
  logger.fatal(e instanceof Error ? e.message : String(e), { context: 'main' });
  process.exit(1);
});
