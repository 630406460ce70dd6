import { resolve } from 'node:path';
import { projectVitestConfig } from '../vitest.shared.js';

// deploy/ sits one level below the root (the shared config assumes two, as in libs/x): write the
// JSON summary to the root's .data/test-results like every other project.
const config = projectVitestConfig(import.meta.dirname);
const results = process.env['ORDERFLOW_TEST_RESULTS_DIR'] ?? resolve(import.meta.dirname, '../.data/test-results');
export default { ...config, test: { ...config.test, outputFile: { json: resolve(results, 'deploy.json') } } };
