import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';
import type { Reporter } from 'vitest/reporters';

/**
 * Errors that fail a run without failing a test (an unhandled rejection, an error thrown while a
 * file loads or after its tests ended): written to <file> so that `npm test`'s closing summary
 * (scripts/test-summary.mjs) names them; the JSON summary counts only tests.
 */
function runErrorsReporter(file: string): Reporter {
  return {
    onTestRunEnd(modules, unhandled) {
      const lines: string[] = [];
      for (const e of unhandled) lines.push(`unhandled error: ${e.name ?? 'Error'}: ${e.message}${e.stack ? `\n${e.stack}` : ''}`);
      for (const m of modules) {
        // a file's own errors (it failed to load) and its suites' (a beforeAll/afterAll that threw or timed out)
        const where = [{ name: m.moduleId, errors: m.errors() }, ...[...m.children.allSuites()].map((s) => ({ name: `${m.moduleId} > ${s.fullName}`, errors: s.errors() }))];
        for (const w of where) for (const e of w.errors) lines.push(`error in ${w.name}: ${e.name ?? 'Error'}: ${e.message}${e.stack ? `\n${e.stack}` : ''}`);
      }
      if (lines.length === 0) return;
      mkdirSync(resolve(file, '..'), { recursive: true });
      writeFileSync(file, `${lines.join('\n')}\n`);
    },
  };
}

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
      reporters: ['default', 'json', runErrorsReporter(resolve(results, `${name}.errors.txt`))],
      outputFile: { json: resolve(results, `${name}.json`) },
    },
  });
}
