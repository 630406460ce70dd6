/** Applies the ClickHouse migrations and exits (the Helm hook Job): `node dist/migrate.main.js`. */
import { connectClickHouse, migrate } from '@orderflow/clickhouse';
import { serviceLoggerFromEnv } from '@orderflow/observability';
import { loadAggregatorConfig } from './config/aggregator.config.js';

const { logger: root, problem } = serviceLoggerFromEnv('aggregator', process.env, process);
const logger = root.child({ context: 'migrate' });

async function main(): Promise<void> {
  if (problem) throw problem;
  const c = loadAggregatorConfig({ ...process.env, AGG_SHARDS: '1', AGG_SHARD_INDEX: '0' });
  // CLICKHOUSE_MIGRATIONS_USER (the migrator role) when given, else the service's user
  const user = c.clickhouse.migrations ?? { username: c.clickhouse.username, password: c.clickhouse.password };
  const ch = connectClickHouse({ url: c.clickhouse.url, username: user.username, password: user.password });
  try {
    const r = await migrate(ch, c.clickhouse.database, { log: (m) => logger.log(m), cluster: c.clickhouse.cluster });
    logger.log(
      `migrations as ${user.username} on ${c.clickhouse.url} database ${c.clickhouse.database}${c.clickhouse.cluster ? ` (replicated, cluster ${c.clickhouse.cluster})` : ''}: applied [${r.applied.join(', ')}], already there [${r.skipped.join(', ')}]`,
      {
        applied: r.applied,
        skipped: r.skipped,
      },
    );
  } finally {
    await ch.close();
  }
}

main().catch((e: unknown) => {
  logger.fatal(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
