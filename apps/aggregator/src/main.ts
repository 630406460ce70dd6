import { serviceLoggerFromEnv } from '@orderflow/observability';
import { aggregatorLogger, startAggregatorApp } from './app.js';
import { loadAggregatorConfig } from './config/aggregator.config.js';

// the log first: a configuration error is reported in the format asked for
const { logger: bootLogger, problem } = serviceLoggerFromEnv('aggregator', process.env, process);

async function main(): Promise<void> {
  if (problem) throw problem;
  const config = loadAggregatorConfig(process.env);
  const logger = aggregatorLogger(config);
  const { url } = await startAggregatorApp(config, { logger });
  logger.log(
    `shard ${config.shardIndex}/${config.shards}: health and metrics on ${url} (/health/live, /health/ready, /metrics, /status)`,
    { context: 'main', url },
  );
}

main().catch((e: unknown) => {
  // configuration errors list every bad variable; anything else is printed whole
  bootLogger.fatal(e instanceof Error ? e.message : String(e), { context: 'main' });
  process.exit(1);
});
