import { projectVitestConfig } from '../vitest.shared.js';

// System tests start real servers (NATS, simulators) per file: run files one at a time.
const config = projectVitestConfig(import.meta.dirname);
export default { ...config, test: { ...config.test, fileParallelism: false, testTimeout: 120_000, hookTimeout: 60_000 } };
