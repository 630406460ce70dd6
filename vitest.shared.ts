import { basename, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * The vitest configuration every project shares. Workspace packages resolve to their TypeScript
 * sources (the "@orderflow/source" export condition), and each run also writes a JSON summary to
 * .data/test-results/<project>.json, which `npm test` adds up into its closing line.
 */
export function projectVitestConfig(projectDir: string, include: string[] = ['src/**/*.spec.ts'], name = basename(projectDir)) {
  // the workspace's .data (this file sits at the workspace root; tests/ is one level deep, apps/* and libs/* two)
  const results = process.env['ORDERFLOW_TEST_RESULTS_DIR'] ?? resolve(import.meta.dirname, '.data/test-results');
  return defineConfig({
    resolve: { conditions: ['@orderflow/source'] },
    ssr: { resolve: { conditions: ['@orderflow/source'] } },
    test: {
      include,
      environment: 'node',
      // Property and fuzz tests run tens of thousands of cases; under `nx run-many` on two cores
      // they share the CPU with other projects' tasks, so the 5 s default is too tight.
      testTimeout: 60_000,
      reporters: ['default', 'json'],
      outputFile: { json: resolve(results, `${name}.json`) },
    },
  });
}
