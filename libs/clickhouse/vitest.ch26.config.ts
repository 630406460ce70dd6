import { projectVitestConfig } from '../../vitest.shared.js';

/**
 * The `test-ch26` target: the integration suites again, against a current ClickHouse (chdb 26.x
 * behind the HTTP interface, scripts/lib/chdb.mjs) instead of Debian's 18.16 server.
 */
const config = projectVitestConfig(import.meta.dirname, ['src/**/*.int.spec.ts'], 'clickhouse-ch26');
export default { ...config, test: { ...config.test, env: { ORDERFLOW_TEST_CLICKHOUSE: 'chdb' } } };
