import { projectVitestConfig } from '../vitest.shared.js';

/** The fuzzers (CPU-bound, each with its own servers) run apart: vitest.fuzz.config.ts, the `test-fuzz` target. */
export const FUZZ_SPECS = ['src/proof/*.fuzz.spec.ts'];

/** The platform under fire runs apart: vitest.proof.config.ts, the `test-proof` target. */
export const PROOF_SPECS = ['src/proof/*.int.spec.ts'];

// System tests start real servers (NATS, simulators) per file: run files one at a time. A file's
// teardown stops its servers (ClickHouse alone may take 25 s) while other projects' tasks share
// the two cores: hooks get 120 s.
const config = projectVitestConfig(import.meta.dirname);
export default {
  ...config,
  test: {
    ...config.test,
    exclude: [...FUZZ_SPECS, ...PROOF_SPECS, '**/node_modules/**'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
};
