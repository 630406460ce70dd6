import { projectVitestConfig } from '../vitest.shared.js';
import { FUZZ_SPECS } from './vitest.config.js';

// The fuzzers: mostly CPU, so `npm test` runs them (target test-fuzz) beside the system tests, which mostly wait on
// servers.
const config = projectVitestConfig(import.meta.dirname, FUZZ_SPECS, 'tests-fuzz');
export default {
  ...config,
  test: { ...config.test, fileParallelism: false, testTimeout: 600_000, hookTimeout: 120_000 },
};
