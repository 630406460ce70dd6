import vue from '@vitejs/plugin-vue';
import { projectVitestConfig } from '../../vitest.shared.js';

// Pure modules run in node; component tests opt into happy-dom with a per-file environment comment.
const config = projectVitestConfig(import.meta.dirname);
export default { ...config, plugins: [vue()] };
