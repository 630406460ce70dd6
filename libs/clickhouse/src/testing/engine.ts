/**
 * Which ClickHouse the integration suites run against: scripts/lib/services.mjs startClickHouse
 * starts Debian's 18.16 server, or with ORDERFLOW_TEST_CLICKHOUSE=chdb (the `test-ch26` targets) a
 * current ClickHouse (chdb, 26.x) behind the same HTTP interface.
 */
export const TEST_ENGINE: 'server' | 'chdb' = process.env['ORDERFLOW_TEST_CLICKHOUSE'] === 'chdb' ? 'chdb' : 'server';

/**
 * Settings under which a current ClickHouse prints query results as 18.16 does, so that a suite can
 * compare text: 18.16 writes a Decimal with every digit of its scale (8330.00000000); current
 * versions drop trailing zeros unless output_format_decimal_trailing_zeros = 1 (a setting 18.16
 * does not know).
 */
export const SAME_TEXT_SETTINGS: Readonly<Record<string, number>> = TEST_ENGINE === 'chdb' ? { output_format_decimal_trailing_zeros: 1 } : {};
