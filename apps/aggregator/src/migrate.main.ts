/** Applies the ClickHouse migrations and exits (the Helm hook Job): `node dist/migrate.main.js`. */
import { connectClickHouse, migrate } from '@orderflow/clickhouse';
import { loadAggregatorConfig } from './config/aggregator.config.js';

async function main(): Promise<void> {
  const c = loadAggregatorConfig({ ...process.env, AGG_SHARDS: '1', AGG_SHARD_INDEX: '0' });
  const ch = connectClickHouse({ url: c.clickhouse.url, username: c.clickhouse.username, password: c.clickhouse.password });
  try {
    const r = await migrate(ch, c.clickhouse.database, { log: (m) => console.log(m), cluster: c.clickhouse.cluster });
    console.log(`migrations on ${c.clickhouse.url} database ${c.clickhouse.database}${c.clickhouse.cluster ? ` (replicated, cluster ${c.clickhouse.cluster})` : ''}: applied [${r.applied.join(', ')}], already there [${r.skipped.join(', ')}]`);
  } finally {
    await ch.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
