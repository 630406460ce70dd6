import { describe, it } from 'vitest';

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
export const SAME_TEXT_SETTINGS: Readonly<Record<string, number>> =
  TEST_ENGINE === 'chdb' ? { output_format_decimal_trailing_zeros: 1 } : {};

/** How a spec registers a test or a describe: a name, the body and an optional timeout. */
type Register = (name: string, fn: () => Promise<void> | void, timeout?: number) => void;

/**
 * `it` and `describe` for tests that apply to one engine only (a feature the other engine lacks,
 * such as users.d files on 18.16 or SQL-defined users on clickhouse-local): on the other engine they
 * are not registered at all, since a test that does not apply there is not a skipped test (and under
 * CI a skipped test fails the run).
 */
export function onEngine(engine: 'server' | 'chdb'): { it: Register; describe: Register } {
  const none: Register = () => undefined;
  return engine === TEST_ENGINE ? { it, describe } : { it: none, describe: none };
}
