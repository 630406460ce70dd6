import { Logger } from '@nestjs/common';
import { startAggregatorApp } from './app.js';
import { loadAggregatorConfig } from './config/aggregator.config.js';

async function main(): Promise<void> {
  const config = loadAggregatorConfig(process.env);
  const { url } = await startAggregatorApp(config);
  new Logger('aggregator').log(`shard ${config.shardIndex}/${config.shards}: health and metrics on ${url} (/health/live, /health/ready, /metrics, /status)`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
