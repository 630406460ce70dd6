/**
 * No silent skips in CI: a test that exists must run there. Runs a vitest of its own on
 * tests/fixtures/skips (through the workspace's vitest.shared.ts, as every project does) and the
 * closing summary (scripts/test-summary.mjs), with and without CI=true.
 *
 * What is required: under CI a skipped test fails the vitest run and the summary, which lists the
 * skipped tests per project with their reasons; outside CI skips are allowed and the run says what
 * was missing once per reason, not once per test.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = join(ROOT, 'tests/fixtures/skips');
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const SUMMARY = join(ROOT, 'scripts/test-summary.mjs');
const dirs: string[] = [];

interface Run {
  code: number;
  output: string;
}

function run(args: string[], env: Record<string, string>, cwd = FIXTURE): Promise<Run> {
  return new Promise((done) => {
    // CI and the results directory are always given, so the outer run's own CI=true does not leak in
    execFile(
      process.execPath,
      args,
      { cwd, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

async function fixtureRun(o: { ci: boolean; skips: boolean; hook?: boolean; args?: string[] }) {
  const results = mkdtempSync(join(tmpdir(), 'orderflow-skips-'));
  dirs.push(results);
  const env = {
    CI: o.ci ? 'true' : '',
    FIXTURE_SKIPS: o.skips ? '1' : '',
    FIXTURE_HOOK: o.hook ? '1' : '',
    ORDERFLOW_TEST_RESULTS_DIR: results,
  };
  const vitest = await run([VITEST, 'run', '--config', 'vitest.config.ts', ...(o.args ?? [])], env);
  const summary = await run([SUMMARY, results], env, ROOT);
  return { results, vitest, summary, files: readdirSync(results).sort() };
}

const count = (text: string, part: string) => text.split(part).length - 1;

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('skipped tests', () => {
  it('under CI=true fail the vitest run and the summary, which lists each skipped test of the project with its reason', async () => {
    const { results, vitest, summary, files } = await fixtureRun({ ci: true, skips: true });
    expect(vitest.code, vitest.output).not.toBe(0);
    expect(files).toContain('skips-fixture.skips.json');
    const listed = JSON.parse(readFileSync(join(results, 'skips-fixture.skips.json'), 'utf8')) as {
      file: string;
      test: string;
      reason: string;
    }[];
    expect(listed.map((s) => [s.file, s.test, s.reason])).toEqual([
      ['tests/fixtures/skips/skips.fixture.ts', 'needs the recordings > first', 'fixture recordings are missing'],
      ['tests/fixtures/skips/skips.fixture.ts', 'needs the recordings > second', 'fixture recordings are missing'],
      ['tests/fixtures/skips/skips.fixture.ts', 'needs a browser', 'fixture browser is missing'],
      ['tests/fixtures/skips/skips.fixture.ts', 'skipped without a reason', expect.stringMatching(/^no reason given/)],
    ]);
    expect(summary.code, summary.output).toBe(1);
    expect(summary.output).toContain('test: skips-fixture: 4 skipped (not allowed under CI):');
    expect(summary.output).toContain(
      '  tests/fixtures/skips/skips.fixture.ts > needs the recordings > first: fixture recordings are missing',
    );
    expect(summary.output).toContain(
      '  tests/fixtures/skips/skips.fixture.ts > needs a browser: fixture browser is missing',
    );
    expect(summary.output).toMatch(/skips\.fixture\.ts > skipped without a reason: no reason given/);
    expect(summary.output).toMatch(/under CI every test must run/);
  });

  it('outside CI are allowed: both pass, and the run names each missing thing once', async () => {
    const { vitest, summary } = await fixtureRun({ ci: false, skips: true });
    expect(vitest.code, vitest.output).toBe(0);
    expect(count(vitest.output, 'fixture recordings are missing')).toBe(1);
    expect(vitest.output).toContain('skips-fixture: 2 test(s) skipped: fixture recordings are missing');
    expect(count(vitest.output, 'fixture browser is missing')).toBe(1);
    expect(summary.code, summary.output).toBe(0);
    expect(summary.output).toContain('test: skips-fixture: 4 skipped:');
    expect(summary.output).toContain('tests: 1 passed, 0 failed, 4 skipped');
  });

  it("not run because a hook failed: listed with that reason, beside the hook's error", async () => {
    const { results, vitest, summary } = await fixtureRun({ ci: false, skips: false, hook: true });
    expect(vitest.code, vitest.output).not.toBe(0);
    const listed = JSON.parse(readFileSync(join(results, 'skips-fixture.skips.json'), 'utf8')) as {
      test: string;
      reason: string;
    }[];
    expect(listed.map((s) => [s.test, s.reason])).toEqual([
      [
        'with a broken set-up > never runs',
        'not run: a hook of "with a broken set-up" failed (its error is listed with the errors outside the tests)',
      ],
    ]);
    expect(summary.code, summary.output).toBe(1);
    expect(summary.output).toContain('fixture set-up failed');
  });

  it('left out by a name filter (-t): listed as not selected by it', async () => {
    const { results, vitest } = await fixtureRun({ ci: false, skips: true, args: ['-t', 'needs a browser'] });
    expect(vitest.code, vitest.output).toBe(0);
    const listed = JSON.parse(readFileSync(join(results, 'skips-fixture.skips.json'), 'utf8')) as {
      test: string;
      reason: string;
    }[];
    expect(Object.fromEntries(listed.map((s) => [s.test, s.reason]))).toEqual({
      runs: 'not selected by the name filter (-t needs a browser)',
      'needs the recordings > first': 'fixture recordings are missing',
      'needs the recordings > second': 'fixture recordings are missing',
      'needs a browser': 'fixture browser is missing',
      // it.skip, and not selected either
      'skipped without a reason': 'not selected by the name filter (-t needs a browser)',
    });
  });

  it('under CI=true with nothing skipped: both pass and nothing is listed', async () => {
    const { vitest, summary, files } = await fixtureRun({ ci: true, skips: false });
    expect(vitest.code, vitest.output).toBe(0);
    expect(files).not.toContain('skips-fixture.skips.json');
    expect(summary.code, summary.output).toBe(0);
    expect(summary.output).toContain('tests: 1 passed, 0 failed\n');
  });
});

describe('tests that run a build of their own project', () => {
  // apps/exchange-sim/src/cli.spec.ts runs dist/main.js: nx must build the simulator before its tests
  it('exchange-sim: the nx test target depends on its own build', async () => {
    const shown = await run(
      [join(ROOT, 'node_modules/nx/dist/bin/nx.js'), 'show', 'project', '@orderflow/exchange-sim', '--json'],
      { NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      ROOT,
    );
    expect(shown.code, shown.output).toBe(0);
    const project = JSON.parse(shown.output.slice(shown.output.indexOf('{'))) as {
      targets: Record<string, { dependsOn?: (string | { target: string; projects?: string })[] }>;
    };
    const own = (project.targets['test']?.dependsOn ?? []).filter(
      (d) => d === 'build' || (typeof d === 'object' && d.target === 'build' && d.projects === undefined),
    );
    expect(own.length, JSON.stringify(project.targets['test'])).toBe(1);
  });
});
