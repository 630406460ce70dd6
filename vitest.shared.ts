import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, relative, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';
import type { Reporter, TestCase, TestModule, TestSuite } from 'vitest/node';

/**
 * Errors that fail a run without failing a test (an unhandled rejection, an error thrown while a
 * file loads or after its tests ended): written to <file> so that `npm test`'s closing summary
 * (scripts/test-summary.mjs) names them; the JSON summary counts only tests.
 */
function runErrorsReporter(file: string): Reporter {
  return {
    onTestRunEnd(modules, unhandled) {
      const lines: string[] = [];
      for (const e of unhandled)
        lines.push(`unhandled error: ${e.name ?? 'Error'}: ${e.message}${e.stack ? `\n${e.stack}` : ''}`);
      for (const m of modules) {
        // a file's own errors (it failed to load) and its suites' (a beforeAll/afterAll that threw or timed out)
        const where = [
          { name: m.moduleId, errors: m.errors() },
          ...[...m.children.allSuites()].map((s) => ({ name: `${m.moduleId} > ${s.fullName}`, errors: s.errors() })),
        ];
        for (const w of where)
          for (const e of w.errors)
            lines.push(`error in ${w.name}: ${e.name ?? 'Error'}: ${e.message}${e.stack ? `\n${e.stack}` : ''}`);
      }
      if (lines.length === 0) return;
      mkdirSync(resolve(file, '..'), { recursive: true });
      writeFileSync(file, `${lines.join('\n')}\n`);
    },
  };
}

/** Why a test was skipped: a spec sets it on the test or on a describe (`{ skip, meta: { skipReason } }`). */
declare module 'vitest' {
  interface TaskMeta {
    skipReason?: string;
  }
}

/** A skipped (or todo) test: its file, its full name and why, as <project>.skips.json lists them. */
export interface SkippedTest {
  file: string;
  test: string;
  reason: string;
}

function skipReasonOf(test: TestCase, namePattern: RegExp | undefined): string {
  const result = test.result();
  if (result.state === 'skipped' && result.note) return result.note;
  for (let at: TestCase | TestSuite | TestModule = test; at.type !== 'module'; at = at.parent) {
    const reason = at.meta().skipReason;
    if (reason) return reason;
  }
  // a beforeAll/afterAll that threw or timed out leaves its suite's tests unrun, reported as skipped
  for (let at: TestSuite | TestModule = test.parent; ; at = at.parent) {
    if (at.errors().length > 0)
      return `not run: a hook of ${at.type === 'module' ? 'the file' : `"${at.fullName}"`} failed (its error is listed with the errors outside the tests)`;
    if (at.type === 'module') break;
  }
  if (test.options.mode === 'todo') return 'a todo: the test is not written yet';
  if (namePattern && !namePattern.test(test.fullName))
    return `not selected by the name filter (-t ${namePattern.source})`;
  return 'no reason given (a skip, skipIf or runIf without meta.skipReason)';
}

/**
 * Skipped tests. Under CI (CI=true) a skip fails the run: every test that exists must run there,
 * and a test that does not apply to a configuration is not registered in it. The skips are written
 * to <file> for `npm test`'s summary (scripts/test-summary.mjs lists them per project). Outside CI
 * a skip is allowed (a user's machine may lack the recordings or Chromium): the run prints what is
 * missing once per reason, with the number of tests it skipped.
 */
function skipsReporter(file: string, project: string): Reporter {
  let namePattern: RegExp | undefined;
  return {
    onInit(vitest) {
      namePattern = vitest.config.testNamePattern;
    },
    onTestRunEnd(modules) {
      const skipped: SkippedTest[] = [];
      for (const m of modules) {
        for (const t of m.children.allTests()) {
          if (t.result().state !== 'skipped') continue;
          skipped.push({
            file: relative(import.meta.dirname, m.moduleId),
            test: t.fullName,
            reason: skipReasonOf(t, namePattern),
          });
        }
      }
      if (skipped.length === 0) return;
      mkdirSync(resolve(file, '..'), { recursive: true });
      writeFileSync(file, `${JSON.stringify(skipped, null, 2)}\n`);
      const byReason = new Map<string, number>();
      for (const s of skipped) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + 1);
      const ci = isCi();
      for (const [reason, n] of byReason)
        console.warn(`${project}: ${n} test(s) skipped${ci ? ' (CI: a skip fails the run)' : ''}: ${reason}`);
      if (ci) {
        for (const s of skipped) console.warn(`  skipped in CI: ${s.file} > ${s.test}: ${s.reason}`);
        process.exitCode = 1;
      }
    },
  };
}

/** CI=true (or 1), as CI services set it. */
function isCi(): boolean {
  const ci = (process.env['CI'] ?? '').toLowerCase();
  return ci !== '' && ci !== 'false' && ci !== '0';
}

/**
 * The vitest configuration every project shares. Workspace packages resolve to their TypeScript
 * sources (the "@orderflow/source" export condition), and each run also writes a JSON summary to
 * .data/test-results/<project>.json, which `npm test` adds up into its closing line.
 */
export function projectVitestConfig(
  projectDir: string,
  include: string[] = ['src/**/*.spec.ts'],
  name = basename(projectDir),
) {
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
      // Hooks start and stop servers (ClickHouse, NATS, chdb, Helm renders): on a shared two-core
      // machine they take longer than the 10 s default.
      hookTimeout: 120_000,
      reporters: [
        'default',
        'json',
        runErrorsReporter(resolve(results, `${name}.errors.txt`)),
        skipsReporter(resolve(results, `${name}.skips.json`), name),
      ],
      outputFile: { json: resolve(results, `${name}.json`) },
    },
  });
}
