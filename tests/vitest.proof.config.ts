import { projectVitestConfig } from '../vitest.shared.js';
import { FUZZ_SPECS, PROOF_SPECS } from './vitest.config.js';

/**
 * The `test-proof` target: the platform under fire (src/proof: faults, the NATS cluster, the
 * ClickHouse replicas, SQL injection), apart from the `test` target so that nx runs the two side by
 * side; like there, one file at a time (each starts its own servers).
 */
const config = projectVitestConfig(import.meta.dirname, PROOF_SPECS, 'system-tests-proof');
export default {
  ...config,
  test: {
    ...config.test,
    exclude: [...FUZZ_SPECS, '**/node_modules/**'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
};
