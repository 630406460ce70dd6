import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { validate as validateSyntax } from 'dockerfile-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { assembleApp, copyManifests, runtimeClosure } from '../docker/assemble.mjs';
import { REPO_ROOT } from './helm.js';
import { isPinned, lintDockerfile, lintDockerignore, parseDockerfile } from './dockerfile-lint.js';

const DOCKERFILE = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');

describe('the root Dockerfile', () => {
  it('is valid Dockerfile syntax (dockerfile-utils, the parser of the VS Code Docker extension)', () => {
    expect(validateSyntax(DOCKERFILE, {}).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('follows the rules: pinned base, multi-stage, non-root, COPY not ADD, npm ci, production deps only', () => {
    expect(lintDockerfile(DOCKERFILE)).toEqual([]);
  });

  it('builds every app from one build stage and runs the APP given as build argument', () => {
    const ins = parseDockerfile(DOCKERFILE);
    const froms = ins.filter((i) => i.keyword === 'FROM').map((i) => i.args);
    expect(froms).toEqual(['${NODE_IMAGE} AS manifests', '${NODE_IMAGE} AS build', 'build AS assemble', '${NODE_IMAGE} AS runtime']);
    const text = ins.map((i) => `${i.keyword} ${i.args}`).join('\n');
    expect(text).toMatch(/RUN npx nx run-many -t build/);
    expect(text).toMatch(/npm ci --omit=dev --workspace "@orderflow\/\$\{APP\}"/);
    expect(text).toMatch(/WORKDIR \/app\/apps\/\$\{APP\}/);
    expect(text).toMatch(/CMD \["node", "dist\/main\.js"\]/);
    // The chart's migration Job runs node apps/aggregator/dist/migrate.main.js from /app.
    expect(text).toMatch(/WORKDIR \/app\n/);
  });

  it('keeps the build context small and free of local state', () => {
    expect(lintDockerignore(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'))).toEqual([]);
    const hadolint = parse(readFileSync(join(REPO_ROOT, '.hadolint.yaml'), 'utf8'));
    expect(hadolint['failure-threshold']).toBe('warning');
  });
});

describe('the Dockerfile rules', () => {
  const lint = (text: string) => lintDockerfile(text).map((v) => v.rule);
  const good = [
    'ARG NODE_IMAGE=node:20.20.2-bookworm-slim',
    'FROM ${NODE_IMAGE} AS build',
    'RUN npm ci',
    'FROM ${NODE_IMAGE} AS runtime',
    'ENV NODE_ENV=production',
    'RUN npm ci --omit=dev',
    'USER 1000:1000',
    'CMD ["node", "main.js"]',
  ];
  const swap = (i: number, line: string) => good.map((l, j) => (j === i ? line : l)).join('\n');

  it('accept a minimal good Dockerfile', () => expect(lint(good.join('\n'))).toEqual([]));
  it('reject unpinned base images', () => {
    expect(lint(swap(0, 'ARG NODE_IMAGE=node:20'))).toContain('DL3006/DL3007');
    expect(lint(swap(0, 'ARG NODE_IMAGE=node:latest'))).toContain('DL3006/DL3007');
    expect(lint(swap(0, 'ARG NODE_IMAGE=node'))).toContain('DL3006/DL3007');
    expect(isPinned('node:20.20.2-bookworm-slim@sha256:' + 'a'.repeat(64))).toBe(true);
    expect(isPinned('node@sha256:' + 'b'.repeat(64))).toBe(true);
  });
  it('reject a single stage, or a runtime stage built on the build stage', () => {
    expect(lint(good.filter((_, i) => i !== 1 && i !== 2).join('\n'))).toContain('multi-stage');
    expect(lint(swap(3, 'FROM build AS runtime'))).toContain('slim-runtime');
  });
  it('reject root or a missing or non-numeric USER', () => {
    expect(lint(swap(6, 'USER root'))).toContain('DL3002');
    expect(lint(swap(6, 'USER 0'))).toContain('DL3002');
    expect(lint(swap(6, 'USER node'))).toContain('numeric-user');
    expect(lint(swap(6, 'LABEL x=y'))).toContain('DL3002');
  });
  it('reject ADD (of a URL above all), npm install, curl | sh, cd, shell-form CMD, secrets', () => {
    expect(lint(swap(2, 'ADD https://example.com/x.tgz /x'))).toContain('DL3020');
    expect(lint(swap(2, 'ADD . /src'))).toContain('DL3020');
    expect(lint(swap(2, 'RUN npm install'))).toContain('npm-ci');
    expect(lint(swap(2, 'RUN curl -fsSL https://x/install | sh'))).toContain('DL4006');
    expect(lint(swap(2, 'RUN cd /src && npm ci'))).toContain('DL3003');
    expect(lint(swap(7, 'CMD node main.js'))).toContain('DL3025');
    expect(lint(swap(4, 'ENV NODE_ENV=production API_TOKEN=abc'))).toContain('secrets');
    expect(lint(swap(2, 'RUN apt-get update && apt-get install -y curl'))).toEqual(expect.arrayContaining(['DL3015', 'DL3009']));
  });
  it('reject dev dependencies or a missing NODE_ENV in the runtime stage', () => {
    expect(lint(swap(5, 'RUN npm ci'))).toContain('prod-deps');
    expect(lint(swap(4, 'ENV FOO=bar'))).toContain('node-env');
  });
  it('join continuation lines and skip comments', () => {
    const ins = parseDockerfile('FROM a:1.2.3 AS x\n# c\nRUN echo 1 \\\n  # inner\n  && echo 2\n');
    expect(ins).toEqual([
      { line: 1, keyword: 'FROM', args: 'a:1.2.3 AS x' },
      { line: 3, keyword: 'RUN', args: 'echo 1 && echo 2' },
    ]);
  });
});

describe('assemble.mjs (the runtime tree of an image)', () => {
  const root = mkdtempSync(join(tmpdir(), 'orderflow-assemble-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  };
  const pkg = (name: string, deps: Record<string, string> = {}, dev: Record<string, string> = {}) =>
    JSON.stringify({ name, main: './dist/main.js', dependencies: deps, devDependencies: dev });
  write('package.json', JSON.stringify({ name: 'root', workspaces: ['apps/*', 'libs/*', 'tests'] }));
  write('package-lock.json', '{}');
  write('apps/gateway/package.json', pkg('@orderflow/gateway', { '@orderflow/clickhouse': '*', express: '^5' }, { '@orderflow/testing': '*' }));
  write('apps/gateway/dist/main.js', '');
  write('apps/gateway/dist/main.spec.js', '');
  write('apps/gateway/dist/tsconfig.lib.tsbuildinfo', '');
  write('apps/gateway/src/main.ts', '');
  write('apps/collector/package.json', pkg('@orderflow/collector', { '@orderflow/contracts': '*' }));
  write('apps/collector/dist/main.js', '');
  write('libs/clickhouse/package.json', pkg('@orderflow/clickhouse', { '@orderflow/contracts': '*' }));
  write('libs/clickhouse/dist/index.js', '');
  write('libs/clickhouse/migrations/0001_core.sql', 'CREATE TABLE x');
  write('libs/contracts/package.json', pkg('@orderflow/contracts'));
  write('libs/contracts/dist/index.js', '');
  write('libs/testing/package.json', pkg('@orderflow/testing'));
  write('libs/testing/dist/index.js', '');
  write('tests/package.json', pkg('@orderflow/system-tests'));

  it('finds the workspace libraries an app needs at run time (transitively, not dev)', () => {
    expect(runtimeClosure(root, 'apps/gateway')).toEqual(['apps/gateway', 'libs/clickhouse', 'libs/contracts']);
  });

  it('copies every package manifest and the lockfile for npm ci', () => {
    const out = join(root, 'out-manifests');
    copyManifests(root, out);
    for (const f of ['package.json', 'package-lock.json', 'apps/collector/package.json', 'libs/testing/package.json', 'tests/package.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(existsSync(join(out, 'apps/gateway/dist'))).toBe(false);
  });

  it('copies the app and its libraries dist (and migrations), no tests or build info; the dashboard for the gateway', () => {
    const out = join(root, 'out-gateway');
    assembleApp(root, 'gateway', out);
    const has = (f: string) => existsSync(join(out, 'app', f));
    expect(has('apps/gateway/dist/main.js')).toBe(true);
    expect(has('libs/clickhouse/migrations/0001_core.sql')).toBe(true);
    expect(has('libs/contracts/dist/index.js')).toBe(true);
    expect(has('healthcheck.mjs')).toBe(true);
    expect(has('dashboard')).toBe(true);
    for (const f of ['apps/gateway/dist/main.spec.js', 'apps/gateway/dist/tsconfig.lib.tsbuildinfo', 'apps/gateway/src', 'libs/testing', 'apps/collector']) {
      expect(has(f), f).toBe(false);
    }
    expect(() => assembleApp(root, 'nosuchapp', join(root, 'x'))).toThrow(/APP must be one of/);
  });

  it('refuses a gateway image without the built dashboard once the dashboard app exists', () => {
    write('apps/dashboard/package.json', pkg('@orderflow/dashboard'));
    expect(() => assembleApp(root, 'gateway', join(root, 'out-2'))).toThrow(/dashboard/);
    write('apps/dashboard/dist/index.html', '<!doctype html>');
    assembleApp(root, 'gateway', join(root, 'out-3'));
    expect(existsSync(join(root, 'out-3/app/dashboard/index.html'))).toBe(true);
  });
});
