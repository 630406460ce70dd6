import { projectVitestConfig } from '../vitest.shared.js';

/**
 * The `test-ch26` target: the suites whose ClickHouse side differs by engine, again against a
 * current ClickHouse (chdb 26.x behind the HTTP interface, scripts/lib/chdb.mjs) instead of
 * Debian's 18.16 server: the aggregator (three recordings, duplicates, a ClickHouse outage, a
 * shard killed), the gateway (live and HTTP, bytes compared with ClickHouse), its history reads
 * and the LTCUSDT exactness run through the whole platform.
 */
const config = projectVitestConfig(
  import.meta.dirname,
  [
    'src/aggregator.int.spec.ts',
    'src/gateway.int.spec.ts',
    'src/gateway-history.int.spec.ts',
    'src/proof/faults.int.spec.ts',
    'src/proof/sql-injection.int.spec.ts',
  ],
  'system-tests-ch26',
);
export default {
  ...config,
  test: {
    ...config.test,
    env: { ORDERFLOW_TEST_CLICKHOUSE: 'chdb' },
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
};
