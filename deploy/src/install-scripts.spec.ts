/**
 * Install scripts and install telemetry, wherever npm installs this repository: the local set-up
 * (scripts/setup.sh: `npm ci` in the root) and the image build (the Dockerfile's `npm ci`s).
 *
 * - Every install script in package-lock.json is reviewed in the root package.json's allowScripts,
 *   and the repository's .npmrc (strict-allow-scripts) makes npm refuse one that is not: shown by
 *   installing a probe package whose postinstall leaves a file.
 * - @scarf/scarf, a dependency of swagger-ui-dist (itself of @nestjs/swagger), reports every
 *   install to scarf.sh from its postinstall script unless the root package.json says
 *   `"scarfSettings": { "enabled": false }` or the environment has SCARF_ANALYTICS=false
 *   (userHasOptedOut in its report.js, https://github.com/scarf-sh/scarf-js). Rather than trust
 *   that reading, these tests run scarf's own report.js as npm runs a postinstall (INIT_CWD = the
 *   root being installed), in a small tree laid out like the repository's node_modules, with
 *   scarf.sh replaced by a server on loopback (SCARF_LOCAL_PORT, scarf's own switch for its
 *   development server): a report reaches that server, an opt-out does not.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { npmInstalls } from './dockerfile-lint.js';
import { REPO_ROOT } from './helm.js';

interface LockPackage {
  name?: string;
  version?: string;
  hasInstallScript?: boolean;
  dependencies?: Record<string, string>;
}
interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  allowScripts?: Record<string, boolean>;
  scarfSettings?: Record<string, unknown>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const ROOT = readJson<Manifest>(join(REPO_ROOT, 'package.json'));
const LOCK = readJson<{ packages: Record<string, LockPackage> }>(join(REPO_ROOT, 'package-lock.json')).packages;
const DOCKERFILE = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');

/** A lockfile key's package name: `node_modules/a/node_modules/@s/b` -> `@s/b`. */
const nameOf = (key: string, p: LockPackage) =>
  p.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);

const SCARF = '@scarf/scarf';
const scarfKey = Object.keys(LOCK).find((k) => nameOf(k, LOCK[k]!) === SCARF);
/** The installed package that depends on scarf (swagger-ui-dist), whose install scarf reports. */
const parentKey = Object.keys(LOCK).find(
  (k) => k.startsWith('node_modules/') && LOCK[k]!.dependencies?.[SCARF] !== undefined,
);

describe('install scripts in package-lock.json', () => {
  it('are each reviewed in the root package.json allowScripts, and @scarf/scarf is denied', () => {
    const withScripts = [
      ...new Set(
        Object.entries(LOCK)
          .filter(([, p]) => p.hasInstallScript)
          .map(([k, p]) => nameOf(k, p)),
      ),
    ].sort();
    // Entries are a name, or a name pinned to versions (`nx@23.2.1`, as npm install-scripts approve writes).
    const reviewed = [
      ...new Set(Object.keys(ROOT.allowScripts ?? {}).map((k) => k.replace(/(?<=.)@[^/]*$/, ''))),
    ].sort();
    expect(
      withScripts,
      'a new dependency with an install script: review it, then npm install-scripts approve / deny it',
    ).toEqual(reviewed);
    expect(ROOT.allowScripts?.[SCARF]).toBe(false);
  });
});

describe('the repository .npmrc: unreviewed install scripts fail the install (strict-allow-scripts)', () => {
  const NPMRC = readFileSync(join(REPO_ROOT, '.npmrc'), 'utf8');
  const work = mkdtempSync(join(tmpdir(), 'orderflow-npmrc-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const userconfig = join(work, 'empty-npmrc');
  writeFileSync(userconfig, '');
  /** npm with this machine's user .npmrc and the test runner's npm variables left out. */
  const npm = (cwd: string, args: string[]) =>
    new Promise<{ code: number; output: string }>((resolve) => {
      const env = {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))),
        npm_config_userconfig: userconfig,
      };
      execFile('npm', args, { cwd, env, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
      );
    });

  // A package whose postinstall leaves a file named `ran` in the project being installed.
  let tarball = '';
  const packed = (async () => {
    const dir = join(work, 'probe-dep');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'probe-dep',
        version: '1.0.0',
        scripts: {
          postinstall: `node -e "require('fs').writeFileSync(require('path').join(process.env.INIT_CWD, 'ran'), '')"`,
        },
      }),
    );
    const { code, output } = await npm(dir, ['pack', '--pack-destination', work]);
    if (code !== 0) throw new Error(`npm pack: ${output}`);
    tarball = join(work, 'probe-dep-1.0.0.tgz');
  })();

  let projects = 0;
  /** Installs the probe package into a new project with `npmrc` and `allowScripts`; did its script run? */
  const install = async (npmrc: string | null, allowScripts?: Record<string, boolean>) => {
    await packed;
    const dir = join(work, `project-${projects++}`);
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'project', version: '0.0.0', private: true, ...(allowScripts ? { allowScripts } : {}) }),
    );
    if (npmrc !== null) writeFileSync(join(dir, '.npmrc'), npmrc);
    const { code, output } = await npm(dir, ['install', '--offline', '--no-audit', '--no-fund', tarball]);
    return { code, output, ran: existsSync(join(dir, 'ran')) };
  };

  it('without it, npm runs an unreviewed install script (the probe sees scripts run)', async () => {
    const r = await install(null);
    expect(r.code, r.output).toBe(0);
    expect(r.ran, r.output).toBe(true);
  }, 60_000);

  it('with it, the install fails and the script does not run', async () => {
    const r = await install(NPMRC);
    expect(r.code, r.output).not.toBe(0);
    expect(r.output).toMatch(/ESTRICTALLOWSCRIPTS/);
    expect(r.ran).toBe(false);
  }, 60_000);

  it('with it, a denied script is skipped and the install goes on (as @scarf/scarf in the root package.json)', async () => {
    const r = await install(NPMRC, { [`file:${tarball}`]: false });
    expect(r.code, r.output).toBe(0);
    expect(r.ran).toBe(false);
  }, 60_000);
});

describe("@scarf/scarf's postinstall (its own report.js)", () => {
  if (!scarfKey || !parentKey)
    throw new Error(
      `${SCARF} or its dependent is no longer in package-lock.json: these tests have nothing left to check`,
    );
  const scarfDir = join(REPO_ROOT, scarfKey);
  const parentDir = join(REPO_ROOT, parentKey);
  const parent = readJson<Manifest>(join(parentDir, 'package.json'));

  const work = mkdtempSync(join(tmpdir(), 'orderflow-scarf-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  let trees = 0;

  /** A root that depends on scarf's parent, with scarf installed, and `extra` in its package.json. */
  const tree = (extra: Partial<Manifest>): string => {
    const root = join(work, `root-${trees++}`);
    mkdirSync(join(root, 'node_modules', parent.name), { recursive: true });
    writeFileSync(
      join(root, 'package.json'),
      JSON.stringify({
        name: 'orderflow-scarf-probe',
        version: '0.0.0',
        dependencies: { [parent.name]: parent.version },
        ...extra,
      }),
    );
    writeFileSync(
      join(root, 'node_modules', parent.name, 'package.json'),
      JSON.stringify({ name: parent.name, version: parent.version, dependencies: parent.dependencies }),
    );
    cpSync(scarfDir, join(root, 'node_modules', SCARF), { recursive: true });
    return root;
  };

  /**
   * Runs scarf's postinstall in `root` with `env`; returns the requests scarf.sh would have had.
   * Scarf gives its `npm ls @scarf/scarf --json --long` 3 s and gives up silently past them (no
   * report, no decision made), which a loaded machine exceeds. So npm's real answer for the tree is
   * taken first, without a time limit, and the `npm` on the postinstall's PATH is a shim that
   * prints exactly that answer: scarf's own code still makes every decision from npm's own output.
   */
  const postinstall = async (root: string, env: Record<string, string>) => {
    const answer = await new Promise<string>((resolve, reject) =>
      execFile(
        'npm',
        ['ls', SCARF, '--json', '--long'],
        { cwd: root, env: withoutNpmVars(), timeout: 120_000, maxBuffer: 64 << 20 },
        (error, stdout, stderr) =>
          stdout ? resolve(stdout) : reject(new Error(`npm ls in ${root}: ${error?.message ?? ''}\n${stderr}`)),
      ),
    );
    const bin = join(root, '.npm-ls-shim');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'answer.json'), answer);
    writeFileSync(
      join(bin, 'npm'),
      `#!/bin/sh\n[ "$1" = ls ] || { echo "npm shim: only ls is expected, got $*" >&2; exit 2; }\ncat '${join(bin, 'answer.json')}'\n`,
      { mode: 0o755 },
    );
    return postinstallOnce(root, { PATH: `${bin}:${process.env.PATH ?? ''}`, ...env });
  };
  const withoutNpmVars = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const postinstallOnce = async (root: string, env: Record<string, string>) => {
    const requests: string[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
      requests.push(`${req.method} ${req.url}`);
    });
    await new Promise<void>((resolve) => server.listen(0, resolve));
    try {
      // The test runner's own npm variables and any opt-out already in the environment stay out.
      const base = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !/^(SCARF_|DO_NOT_TRACK$|npm_)/i.test(k)),
      );
      const childEnv = {
        ...base,
        INIT_CWD: root,
        SCARF_LOCAL_PORT: String((server.address() as AddressInfo).port),
        SCARF_VERBOSE: 'true',
        ...env,
      };
      const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
        execFile(
          process.execPath,
          [join(root, 'node_modules', SCARF, 'report.js')],
          { cwd: root, env: childEnv, timeout: 30_000 },
          (error, stdout, stderr) =>
            error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout, stderr }),
        ),
      );
      return { requests, output: stdout + stderr };
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  };

  it('reports an install when nothing opts out (the probe sees telemetry)', async () => {
    const { requests, output } = await postinstall(tree({}), {});
    expect(requests, output).toEqual(['POST /package-event/install']);
  }, 40_000);

  it("sends nothing when installing the repository: the root package.json's scarfSettings (scripts/setup.sh's npm ci)", async () => {
    const { requests, output } = await postinstall(tree({ scarfSettings: ROOT.scarfSettings }), {});
    expect(requests, output).toEqual([]);
    expect(output).toMatch(/Scarf has been disabled via a package\.json|User has opted out/);
    expect(ROOT.scarfSettings).toEqual({ enabled: false });
  }, 40_000);

  it("sends nothing with the environment of each of the Dockerfile's npm installs, even without the root's setting", async () => {
    const installs = npmInstalls(DOCKERFILE);
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) {
      const { requests, output } = await postinstall(tree({}), install.env);
      expect(requests, `${install.stage}: ${install.command}\n${output}`).toEqual([]);
      expect(output, install.stage).toMatch(/User has opted out/);
    }
  }, 80_000);
});
