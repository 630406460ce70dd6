import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { validate as validateSyntax } from 'dockerfile-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { assembleApp, copyManifests, runtimeClosure } from '../docker/assemble.mjs';
import { REPO_ROOT } from './helm.js';
import {
  NODE_LTS,
  digestPinProblem,
  isPinned,
  lintDockerfile,
  lintDockerignore,
  nodeLtsProblem,
  nodeVersionOf,
  npmInstalls,
  parseDockerfile,
  parseEnv,
  satisfiesNodeRange,
} from './dockerfile-lint.js';

const DOCKERFILE = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
/** The default of the Dockerfile's NODE_IMAGE build argument. */
const NODE_IMAGE = parseDockerfile(DOCKERFILE)
  .find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='))!
  .args.slice('NODE_IMAGE='.length);

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
    expect(froms).toEqual([
      '${NODE_IMAGE} AS manifests',
      '${NODE_IMAGE} AS build',
      'build AS assemble',
      '${NODE_IMAGE} AS runtime',
    ]);
    const text = ins.map((i) => `${i.keyword} ${i.args}`).join('\n');
    expect(text).toMatch(/RUN npx nx run-many -t build/);
    expect(text).toMatch(/npm ci --omit=dev --workspace "@orderflow\/\$\{APP\}"/);
    expect(text).toMatch(/WORKDIR \/app\/apps\/\$\{APP\}/);
    expect(text).toMatch(/CMD \["node", "dist\/main\.js"\]/);
    // The chart's migration Job runs node apps/aggregator/dist/migrate.main.js from /app.
    expect(text).toMatch(/WORKDIR \/app\n/);
  });

  it('builds on a Node LTS line before its end of life, pinned to a full version and a digest (node-lts, base-digest)', () => {
    expect(nodeLtsProblem(NODE_IMAGE)).toBeNull();
    expect(isPinned(NODE_IMAGE)).toBe(true);
    expect(NODE_IMAGE).toMatch(/^node:\d+\.\d+\.\d+-[a-z]+-slim@sha256:[a-f0-9]{64}$/);
    expect(digestPinProblem(NODE_IMAGE)).toBeNull();
    expect(nodeVersionOf(NODE_IMAGE)).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Object.keys(NODE_LTS)).toContain(nodeVersionOf(NODE_IMAGE)!.split('.')[0]);
  });

  it('installs every dependency without install scripts and with scarf telemetry off', () => {
    const installs = npmInstalls(DOCKERFILE);
    expect(installs.map((i) => i.stage)).toEqual(['build', 'runtime']);
    for (const i of installs) {
      expect(i.command, `${i.stage}: ${i.command}`).toMatch(/ --ignore-scripts( |$)/);
      expect(i.env['SCARF_ANALYTICS'], i.stage).toBe('false');
    }
    // The lockfile's install scripts are not needed by the build, so none is rebuilt.
    expect(DOCKERFILE).not.toMatch(/^\s*RUN\b.*\bnpm\s+(rebuild|rb)\b/m);
  });

  it("states in package.json engines both the image's Node and the Node the tests run on", () => {
    const engines: string = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).engines.node;
    expect(satisfiesNodeRange(nodeVersionOf(NODE_IMAGE)!, engines), `${NODE_IMAGE} in engines "${engines}"`).toBe(true);
    expect(
      satisfiesNodeRange(process.versions.node, engines),
      `Node ${process.versions.node} (the tests') in engines "${engines}"`,
    ).toBe(true);
  });

  it("installs only packages whose engines admit the image's Node (npm ci runs on it in the build stage)", () => {
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; engines?: unknown }>;
    };
    const version = nodeVersionOf(NODE_IMAGE)!;
    const refused = Object.entries(lock.packages)
      .filter(([, p]) => typeof (p.engines as { node?: unknown } | undefined)?.node === 'string')
      .filter(([, p]) => !satisfiesNodeRange(version, (p.engines as { node: string }).node))
      .map(([path, p]) => `${path}@${p.version}: ${(p.engines as { node: string }).node}`);
    expect(refused).toEqual([]);
  });

  it('keeps the build context small and free of local state', () => {
    expect(lintDockerignore(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'))).toEqual([]);
    const hadolint = parse(readFileSync(join(REPO_ROOT, '.hadolint.yaml'), 'utf8'));
    expect(hadolint['failure-threshold']).toBe('warning');
  });
});

describe('the Dockerfile rules', () => {
  const today = new Date('2026-12-05T00:00:00Z');
  const lint = (text: string, on = today) => lintDockerfile(text, { today: on }).map((v) => v.rule);
  const digest = '@sha256:' + 'a'.repeat(64);
  const good = [
    `ARG NODE_IMAGE=node:24.21.0-trixie-slim${digest}`,
    'FROM ${NODE_IMAGE} AS build',
    'ENV SCARF_ANALYTICS=false',
    'RUN npm ci --ignore-scripts',
    'FROM ${NODE_IMAGE} AS runtime',
    'ENV NODE_ENV=production SCARF_ANALYTICS=false',
    'RUN npm ci --omit=dev --ignore-scripts',
    'USER 1000:1000',
    'CMD ["node", "main.js"]',
  ];
  /** The good Dockerfile with the line `old` replaced by `line`. */
  const swap = (old: string, line: string) => {
    if (!good.includes(old)) throw new Error(`no line "${old}" in the good Dockerfile`);
    return good.map((l) => (l === old ? line : l)).join('\n');
  };
  const ARG = good[0]!;
  const BUILD_CI = 'RUN npm ci --ignore-scripts';

  it('accept a minimal good Dockerfile', () => expect(lint(good.join('\n'))).toEqual([]));
  it('reject unpinned base images', () => {
    expect(lint(swap(ARG, 'ARG NODE_IMAGE=node:20'))).toContain('DL3006/DL3007');
    expect(lint(swap(ARG, 'ARG NODE_IMAGE=node:latest'))).toContain('DL3006/DL3007');
    expect(lint(swap(ARG, 'ARG NODE_IMAGE=node'))).toContain('DL3006/DL3007');
    expect(isPinned('node:24.21.0-trixie-slim@sha256:' + 'a'.repeat(64))).toBe(true);
    expect(isPinned('node@sha256:' + 'b'.repeat(64))).toBe(true);
  });
  it('reject a base image without a digest, or with a digest but no tag (base-digest)', () => {
    expect(lint(swap(ARG, 'ARG NODE_IMAGE=node:24.21.0-trixie-slim'))).toEqual(['base-digest', 'base-digest']);
    expect(lint(swap(ARG, 'ARG NODE_IMAGE=node@sha256:' + 'b'.repeat(64)))).toContain('base-digest');
    expect(lint(swap(ARG, 'ARG NODE_IMAGE=node:24.21.0-trixie-slim@sha256:' + 'a'.repeat(63)))).toContain(
      'base-digest',
    );
    expect(lint(swap(ARG, 'ARG NODE_IMAGE=node:24.21.0-trixie-slim@sha256:' + 'A'.repeat(64)))).toContain(
      'base-digest',
    );
    expect(lint(swap(ARG, 'ARG NODE_IMAGE=node:24.21.0-trixie-slim@sha1:' + 'a'.repeat(40)))).toContain('base-digest');
    expect(lint(swap(ARG, 'ARG NODE_IMAGE'))).toContain('base-digest');
    // Every FROM of an image, not only the Node one; a FROM of an earlier stage is not an image.
    const withTools = (from: string) => [...good.slice(0, 4), from, 'RUN true', ...good.slice(4)].join('\n');
    expect(lint(withTools('FROM busybox:1.37.0 AS tools'))).toEqual(['base-digest']);
    expect(lint(withTools(`FROM busybox:1.37.0${digest} AS tools`))).toEqual([]);
    expect(lint(withTools('FROM build AS tools'))).toEqual([]);
    expect(digestPinProblem('node:24.21.0-trixie-slim')).toMatch(/not pinned by digest/);
    expect(digestPinProblem('node@sha256:' + 'b'.repeat(64))).toMatch(/no tag/);
    expect(digestPinProblem('registry.example.com:5000/node@sha256:' + 'b'.repeat(64))).toMatch(/no tag/);
    expect(digestPinProblem('registry.example.com:5000/node:24.21.0@sha256:' + 'b'.repeat(64))).toBeNull();
  });
  it('reject an npm install that runs install scripts, and npm rebuild of everything (npm-ignore-scripts, npm-rebuild)', () => {
    expect(lint(swap(BUILD_CI, 'RUN npm ci'))).toEqual(['npm-ignore-scripts']);
    expect(lint(swap(BUILD_CI, 'RUN npm ci --ignore-scripts=false'))).toEqual(['npm-ignore-scripts']);
    expect(lint(swap(BUILD_CI, 'RUN npm clean-install'))).toEqual(['npm-ignore-scripts']);
    expect(lint(swap(BUILD_CI, 'RUN npm ci --ignore-scripts && npm install --global pnpm'))).toEqual([
      'npm-ci',
      'npm-ignore-scripts',
    ]);
    expect(lint(swap('RUN npm ci --omit=dev --ignore-scripts', 'RUN npm ci --omit=dev'))).toEqual([
      'npm-ignore-scripts',
    ]);
    expect(lint(swap(BUILD_CI, 'RUN npm ci --ignore-scripts=true --no-audit'))).toEqual([]);
    expect(lint(swap(BUILD_CI, 'RUN npm ci --no-audit --ignore-scripts --no-fund'))).toEqual([]);
    expect(lint(swap(BUILD_CI, 'RUN npm ci --ignore-scripts && npm rebuild esbuild'))).toEqual([]);
    expect(lint(swap(BUILD_CI, 'RUN npm ci --ignore-scripts && npm rebuild --foreground-scripts esbuild'))).toEqual([]);
    const cached = swap(
      BUILD_CI,
      'RUN --mount=type=cache,target=/root/.npm SCARF_ANALYTICS=false npm ci --ignore-scripts',
    );
    expect(lint(cached)).toEqual([]);
    expect(npmInstalls(cached)[0]).toEqual({
      stage: 'build',
      line: 4,
      command: 'npm ci --ignore-scripts',
      env: { SCARF_ANALYTICS: 'false' },
    });
    expect(lint(swap(BUILD_CI, 'RUN npm ci --ignore-scripts && npm rebuild'))).toEqual(['npm-rebuild']);
    expect(lint(swap(BUILD_CI, 'RUN npm ci --ignore-scripts && npm rebuild --foreground-scripts'))).toEqual([
      'npm-rebuild',
    ]);
  });
  it('reject an npm install without SCARF_ANALYTICS=false in its environment (scarf-off)', () => {
    expect(lint(swap('ENV SCARF_ANALYTICS=false', 'ENV CI=true'))).toEqual(['scarf-off']);
    expect(lint(swap('ENV SCARF_ANALYTICS=false', 'ENV SCARF_ANALYTICS=true'))).toEqual(['scarf-off']);
    expect(lint(swap('ENV NODE_ENV=production SCARF_ANALYTICS=false', 'ENV NODE_ENV=production'))).toEqual([
      'scarf-off',
    ]);
    // An ENV after the install does not count; one in front of the command, or the legacy form, does.
    const late = good.filter((l) => l !== 'ENV SCARF_ANALYTICS=false');
    late.splice(late.indexOf(BUILD_CI) + 1, 0, 'ENV SCARF_ANALYTICS=false');
    expect(lint(late.join('\n'))).toEqual(['scarf-off']);
    expect(lint(swap('ENV SCARF_ANALYTICS=false', 'ENV SCARF_ANALYTICS false'))).toEqual([]);
    expect(
      lint(
        swap('ENV SCARF_ANALYTICS=false', 'ENV CI=true').replace(
          BUILD_CI,
          'RUN SCARF_ANALYTICS=false npm ci --ignore-scripts',
        ),
      ),
    ).toEqual([]);
    // A stage built FROM another has that stage's environment.
    const inherited = [...good.slice(0, 4), 'FROM build AS deps', 'RUN npm ci --ignore-scripts', ...good.slice(4)].join(
      '\n',
    );
    expect(lint(inherited)).toEqual([]);
    expect(npmInstalls(inherited).map((i) => [i.stage, i.env['SCARF_ANALYTICS']])).toEqual([
      ['build', 'false'],
      ['deps', 'false'],
      ['runtime', 'false'],
    ]);
  });
  it('read ENV in both forms, with quotes', () => {
    expect(Object.fromEntries(parseEnv('A=1 B="x y" C=\'z\' D='))).toEqual({ A: '1', B: 'x y', C: 'z', D: '' });
    expect(Object.fromEntries(parseEnv('SCARF_ANALYTICS false'))).toEqual({ SCARF_ANALYTICS: 'false' });
  });
  it('reject a Node base image that is not on an LTS line before its end of life, or hides its version', () => {
    expect(lint(swap(ARG, 'ARG NODE_IMAGE=node:20.20.2-bookworm-slim'))).toContain('node-lts');
    expect(
      lint(swap(ARG, 'ARG NODE_IMAGE=node:20.20.2-bookworm-slim'), new Date('2026-04-30T12:00:00Z')),
    ).not.toContain('node-lts');
    expect(lint(swap(ARG, 'ARG NODE_IMAGE=node:24.21.0-trixie-slim'), new Date('2028-05-01T00:00:00Z'))).toContain(
      'node-lts',
    );
    expect(lint(swap(ARG, 'ARG NODE_IMAGE=node:25.8.1-alpine'))).toContain('node-lts');
    expect(lint(swap(ARG, 'ARG NODE_IMAGE=node:lts-trixie-slim'))).toContain('node-lts');
    expect(lint(swap(ARG, 'ARG NODE_IMAGE=node@sha256:' + 'b'.repeat(64)))).toContain('node-lts');
    expect(lint(swap(ARG, 'ARG NODE_IMAGE=node:24.21.0-trixie-slim@sha256:' + 'a'.repeat(64)))).toEqual([]);
    expect(lint(swap(ARG, `ARG NODE_IMAGE=docker.io/library/node:26.1.0-trixie-slim${digest}`))).toEqual([]);
    expect(lint(swap(ARG, `ARG NODE_IMAGE=docker.io/library/node:22.22.0-bookworm-slim${digest}`))).toEqual([]);
    expect(lint(swap(ARG, 'ARG NODE_IMAGE=debian:13.2-slim'))).not.toContain('node-lts');
    expect(nodeVersionOf('node:24.21.0-trixie-slim@sha256:' + 'a'.repeat(64))).toBe('24.21.0');
    expect(nodeLtsProblem('node:25.8.1', today)).toMatch(/not an LTS line/);
    expect(nodeLtsProblem('node:20.20.2', today)).toMatch(/end of life on 2026-04-30/);
  });
  it('read engines ranges as npm does', () => {
    const cases: [string, string, boolean][] = [
      ['20.20.2', '>=20.19', true],
      ['24.21.0', '^20.19.0 || ^24.11.0', true],
      ['22.12.0', '^20.19.0 || ^24.11.0', false],
      ['20.18.3', '^20.19.0 || ^24.11.0', false],
      ['24.21.0', '>= 22.x', true],
      ['20.19.0', '>= 22.x', false],
      ['24.21.0', '^22.22.2 || ^24.15.0 || >=26.0.0', true],
      ['24.14.0', '^22.22.2 || ^24.15.0 || >=26.0.0', false],
      ['16.5.0', '>=14.17 <17', true],
      ['17.0.0', '>=14.17 <17', false],
      ['16.5.0', '14 - 16', true],
      ['17.0.0', '14 - 16', false],
      ['24.0.9', '~24.0.0', true],
      ['24.1.0', '~24.0.0', false],
      ['24.1.0', '24.x', true],
      ['24.1.0', '>22', true],
      ['22.9.0', '>22', false],
      ['22.9.0', '<=22', true],
      ['24.0.0', '*', true],
      ['24.0.0', '', true],
    ];
    for (const [version, range, want] of cases)
      expect(satisfiesNodeRange(version, range), `${version} in "${range}"`).toBe(want);
  });
  it('reject a single stage, or a runtime stage built on the build stage', () => {
    const buildStage = ['FROM ${NODE_IMAGE} AS build', 'ENV SCARF_ANALYTICS=false', BUILD_CI];
    expect(lint(good.filter((l) => !buildStage.includes(l)).join('\n'))).toContain('multi-stage');
    expect(lint(swap('FROM ${NODE_IMAGE} AS runtime', 'FROM build AS runtime'))).toContain('slim-runtime');
  });
  it('reject root or a missing or non-numeric USER', () => {
    expect(lint(swap('USER 1000:1000', 'USER root'))).toContain('DL3002');
    expect(lint(swap('USER 1000:1000', 'USER 0'))).toContain('DL3002');
    expect(lint(swap('USER 1000:1000', 'USER node'))).toContain('numeric-user');
    expect(lint(swap('USER 1000:1000', 'LABEL x=y'))).toContain('DL3002');
  });
  it('reject ADD (of a URL above all), npm install, curl | sh, cd, shell-form CMD, secrets', () => {
    expect(lint(swap(BUILD_CI, 'ADD https://example.com/x.tgz /x'))).toContain('DL3020');
    expect(lint(swap(BUILD_CI, 'ADD . /src'))).toContain('DL3020');
    expect(lint(swap(BUILD_CI, 'RUN npm install --ignore-scripts'))).toContain('npm-ci');
    expect(lint(swap(BUILD_CI, 'RUN curl -fsSL https://x/install | sh'))).toContain('DL4006');
    expect(lint(swap(BUILD_CI, 'RUN cd /src && npm ci --ignore-scripts'))).toContain('DL3003');
    expect(lint(swap('CMD ["node", "main.js"]', 'CMD node main.js'))).toContain('DL3025');
    expect(
      lint(
        swap(
          'ENV NODE_ENV=production SCARF_ANALYTICS=false',
          'ENV NODE_ENV=production SCARF_ANALYTICS=false API_TOKEN=abc',
        ),
      ),
    ).toContain('secrets');
    expect(lint(swap(BUILD_CI, 'RUN apt-get update && apt-get install -y curl'))).toEqual(
      expect.arrayContaining(['DL3015', 'DL3009']),
    );
  });
  it('reject dev dependencies or a missing NODE_ENV in the runtime stage', () => {
    expect(lint(swap('RUN npm ci --omit=dev --ignore-scripts', 'RUN npm ci --ignore-scripts'))).toContain('prod-deps');
    expect(lint(swap('ENV NODE_ENV=production SCARF_ANALYTICS=false', 'ENV FOO=bar SCARF_ANALYTICS=false'))).toContain(
      'node-env',
    );
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
  write(
    'apps/gateway/package.json',
    pkg('@orderflow/gateway', { '@orderflow/clickhouse': '*', express: '^5' }, { '@orderflow/testing': '*' }),
  );
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
    for (const f of [
      'package.json',
      'package-lock.json',
      'apps/collector/package.json',
      'libs/testing/package.json',
      'tests/package.json',
    ]) {
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
    for (const f of [
      'apps/gateway/dist/main.spec.js',
      'apps/gateway/dist/tsconfig.lib.tsbuildinfo',
      'apps/gateway/src',
      'libs/testing',
      'apps/collector',
    ]) {
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
