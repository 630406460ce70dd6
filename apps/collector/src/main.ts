import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CollectorModule } from './collector.module.js';
import { COLLECTOR_CONFIG } from './collector.tokens.js';
import type { CollectorConfig } from './config/collector.config.js';

async function main(): Promise<void> {
  const app = await NestFactory.create(CollectorModule, { bufferLogs: false });
  app.enableShutdownHooks();
  const config = app.get<CollectorConfig>(COLLECTOR_CONFIG);
  await app.listen(config.httpPort, config.httpHost);
  new Logger('collector').log(`health and metrics on http://${config.httpHost}:${config.httpPort} (/health/live, /health/ready, /metrics, /status)`);
}

main().catch((e: unknown) => {
  // Configuration errors list every bad variable; anything else is printed whole.
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
