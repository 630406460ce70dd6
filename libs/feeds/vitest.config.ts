import { projectVitestConfig } from '../../vitest.shared';

export default projectVitestConfig(import.meta.dirname);
