/**
 * The Dockerfile rules that matter here, after hadolint's (which cannot be installed on these
 * machines): pinned base images (DL3006, DL3007, plus a full x.y.z version or a digest), a
 * multi-stage build whose runtime stage starts from the base image again (not from the build
 * stage), a non-root final USER given numerically (DL3002; Kubernetes' runAsNonRoot can only
 * verify a numeric user), COPY rather than ADD and never ADD of a URL (DL3020), `npm ci` rather
 * than `npm install` (reproducible from the lockfile), no `curl | sh`, JSON-form CMD/ENTRYPOINT
 * (DL3025), absolute WORKDIR (DL3000), no `cd` in RUN (DL3003), apt-get with
 * --no-install-recommends (DL3015), no credentials in ENV/ARG, a runtime stage with
 * NODE_ENV=production and only production dependencies, and a Node base image on a supported LTS
 * line (node-lts: the tag names the version, its major is an LTS line before its end of life).
 * Supply chain: every base image pinned by tag and digest (base-digest: the digest fixes the
 * bytes, the tag tells people and Renovate/Dependabot what they are); every npm install with
 * --ignore-scripts (npm-ignore-scripts: no dependency's install script runs in the build; a
 * package that needs its script gets an explicit `npm rebuild <name>`, npm-rebuild) and with
 * SCARF_ANALYTICS=false in its environment (scarf-off: @scarf/scarf's postinstall reports every
 * install to scarf.sh unless told not to).
 */

export interface Instruction {
  line: number;
  keyword: string;
  args: string;
}

export interface Violation {
  rule: string;
  line: number;
  message: string;
}

/** Instructions with continuation lines joined and comments dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i]!;
    if (/^\s*(#|$)/.test(first)) continue;
    const start = i;
    let joined = first;
    let open = /\\\s*$/.test(joined);
    while (open && i + 1 < lines.length) {
      joined = joined.replace(/\\\s*$/, ' ');
      i++;
      if (/^\s*#/.test(lines[i]!)) continue; // a comment inside a continued instruction
      joined += lines[i]!;
      open = /\\\s*$/.test(joined);
    }
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(joined);
    if (m) out.push({ line: start + 1, keyword: m[1]!.toUpperCase(), args: m[2]!.replace(/\s+/g, ' ').trim() });
  }
  return out;
}

interface Stage {
  line: number;
  image: string;
  name?: string;
  instructions: Instruction[];
}

function substitute(s: string, vars: Map<string, string>): string {
  return s.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_, a: string, dflt: string | undefined, b: string) => {
      const name = a ?? b;
      return vars.get(name) ?? dflt ?? '';
    },
  );
}

/** An image reference is pinned: a digest, or a tag carrying a full version (20.20.2, 25.8.1-alpine). */
export function isPinned(image: string): boolean {
  if (/@sha256:[a-f0-9]{64}$/.test(image)) return true;
  const tag = /:([^/:@]+)$/.exec(image)?.[1];
  if (!tag || tag === 'latest') return false;
  return /^v?\d+\.\d+\.\d+/.test(tag);
}

/**
 * Why an image reference is not pinned by tag and digest (`name:tag@sha256:<64 hex digits>`), or
 * null when it is. A digest alone pins the bytes but hides what they are from people and from
 * Renovate/Dependabot, which read the tag to propose updates; a tag alone can be moved.
 */
export function digestPinProblem(image: string): string | null {
  const at = image.indexOf('@');
  if (at < 0) return `base image "${image}" is not pinned by digest: write name:tag@sha256:<64 hex digits>`;
  const digest = image.slice(at + 1);
  if (!/^sha256:[a-f0-9]{64}$/.test(digest))
    return `base image "${image}": the digest is not sha256:<64 lowercase hex digits>`;
  if (!/:[^/:@]+$/.test(image.slice(0, at)))
    return `base image "${image}" has a digest but no tag: write name:tag@sha256:... so that people and Renovate see the version`;
  return null;
}

/** The variables an ENV instruction sets (`ENV A=1 B="x y"`, or the legacy `ENV A 1`). */
export function parseEnv(args: string): Map<string, string> {
  const out = new Map<string, string>();
  const legacy = /^([A-Za-z_][A-Za-z0-9_]*)\s+([^=]*)$/.exec(args);
  if (legacy) return out.set(legacy[1]!, legacy[2]!.trim());
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)) {
    const raw = m[2]!;
    out.set(m[1]!, /^["']/.test(raw) ? raw.slice(1, -1) : raw);
  }
  return out;
}

/** npm commands that install packages (and so would run their install scripts). */
const NPM_INSTALL = /\bnpm\s+(?:ci|clean-install|ic|install-clean|isntall-clean|install|i|in|add|isntall)\b/;

/** One npm install in a RUN: its stage, its line and the environment it runs with. */
export interface NpmInstall {
  stage: string;
  line: number;
  command: string;
  env: Record<string, string>;
}

/**
 * The commands of a RUN (without its flags such as --mount; split at &&, ||, ; and |), each with its leading
 * `VAR=value`s.
 */
function commands(run: string): { command: string; env: Map<string, string> }[] {
  return run
    .replace(/^(?:--[a-z-]+=\S+\s+)+/, '')
    .split(/&&|\|\||;|\|/)
    .map((part) => {
      const env = new Map<string, string>();
      let command = part.trim();
      for (let m; (m = /^([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S*)\s+/.exec(command)); ) {
        env.set(m[1]!, m[2]!.replace(/^["']|["']$/g, ''));
        command = command.slice(m[0].length);
      }
      return { command, env };
    });
}

/**
 * Every npm install of a Dockerfile with the environment it runs in: the ENV of its stage before
 * it, those of the stages it is built FROM, and the assignments in front of the command.
 */
export function npmInstalls(text: string): NpmInstall[] {
  const out: NpmInstall[] = [];
  const envOfStage = new Map<string, Map<string, string>>();
  let env = new Map<string, string>();
  let stage = '';
  let index = 0;
  for (const ins of parseDockerfile(text)) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      const parent = m?.[1]?.toLowerCase() ?? '';
      stage = m?.[2]?.toLowerCase() ?? String(index);
      index++;
      env = new Map(envOfStage.get(parent) ?? []);
      envOfStage.set(stage, env);
    } else if (ins.keyword === 'ENV') {
      for (const [k, v] of parseEnv(ins.args)) env.set(k, v);
    } else if (ins.keyword === 'RUN') {
      for (const c of commands(ins.args)) {
        if (NPM_INSTALL.test(c.command))
          out.push({ stage, line: ins.line, command: c.command, env: Object.fromEntries([...env, ...c.env]) });
      }
    }
  }
  return out;
}

/**
 * Node.js LTS lines and their end of life (nodejs/Release, README.md "Release schedule"). A base
 * image on a line missing here, or past its date, fails the node-lts rule: add a new LTS line here
 * when it is promoted to LTS.
 */
export const NODE_LTS: Readonly<Record<number, { codename: string; endOfLife: string }>> = {
  20: { codename: 'Iron', endOfLife: '2026-04-30' },
  22: { codename: 'Jod', endOfLife: '2027-04-30' },
  24: { codename: 'Krypton', endOfLife: '2028-04-30' },
  26: { codename: 'Lithium', endOfLife: '2029-04-30' },
};

/** The official Node image (node, library/node, docker.io/library/node...), with or without tag or digest. */
export function isNodeImage(image: string): boolean {
  const name = image.split('@')[0]!.replace(/:[^/:]+$/, '');
  return name === 'node' || /(^|\/)library\/node$/.test(name);
}

/** The Node version a node image's tag names (`node:24.21.0-trixie-slim` -> '24.21.0'), or null. */
export function nodeVersionOf(image: string): string | null {
  const tag = /:([^/:@]+)(@|$)/.exec(image)?.[1];
  return /^v?(\d+(?:\.\d+){0,2})(?:-|$)/.exec(tag ?? '')?.[1] ?? null;
}

/** Why a Node base image is not on a supported LTS line on `today`, or null when it is. */
export function nodeLtsProblem(image: string, today: Date = new Date()): string | null {
  const version = nodeVersionOf(image);
  if (version === null)
    return `base image "${image}" does not name its Node version in the tag (node:<major>.<minor>.<patch>-...)`;
  const major = Number(version.split('.')[0]);
  const line = NODE_LTS[major];
  if (!line)
    return `base image "${image}": Node ${major} is not an LTS line (known LTS lines: ${Object.keys(NODE_LTS).join(', ')})`;
  if (today.toISOString().slice(0, 10) > line.endOfLife)
    return `base image "${image}": Node ${major} "${line.codename}" reached its end of life on ${line.endOfLife}`;
  return null;
}

type Version = [number, number, number];
/** A version in a range, with x (null) for the parts it leaves open: `22.x` -> [22, null, null]. */
type Partial3 = [number | null, number | null, number | null];
const cmp = (a: Version, b: Version): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/**
 * Whether a Node version satisfies a package.json `engines.node` range: npm's grammar without
 * prerelease tags (`||`, space-separated comparators, `>= <= > < =`, `^`, `~`, x-ranges such as
 * `22`, `22.x` or `*`, hyphen ranges `a - b`).
 */
export function satisfiesNodeRange(version: string, range: string): boolean {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  if (!m) throw new Error(`not a version: ${version}`);
  const v: Version = [Number(m[1]), Number(m[2]), Number(m[3])];
  const parse = (s: string): Partial3 => {
    const p = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-[\w.-]+)?$/.exec(s);
    if (!p) throw new Error(`cannot read the version "${s}" in the range "${range}"`);
    const part = (x: string | undefined) => (x === undefined || /^[xX*]$/.test(x) ? null : Number(x));
    return [part(p[1]), part(p[2]), part(p[3])];
  };
  const floor = (p: Partial3): Version => [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0];
  /** The first version above the x-range `p` (22 -> 23.0.0, 22.1 -> 22.2.0); null for `*`. */
  const ceiling = (p: Partial3): Version | null =>
    p[0] === null ? null : p[1] === null ? [p[0] + 1, 0, 0] : p[2] === null ? [p[0], p[1] + 1, 0] : null;
  const test = (comparator: string): boolean => {
    const c = /^(>=|<=|>|<|=|\^|~)?(.+)$/.exec(comparator)!;
    const op = c[1] ?? '';
    const p = parse(c[2]!);
    const lo = floor(p);
    const hi = ceiling(p);
    const exact = hi === null && p[0] !== null;
    switch (op) {
      case '>=':
        return cmp(v, lo) >= 0;
      case '>':
        return exact ? cmp(v, lo) > 0 : hi === null ? false : cmp(v, hi) >= 0;
      case '<':
        return cmp(v, lo) < 0;
      case '<=':
        return exact ? cmp(v, lo) <= 0 : hi === null ? true : cmp(v, hi) < 0;
      case '^': {
        const up: Version =
          lo[0] > 0 || p[1] === null
            ? [lo[0] + 1, 0, 0]
            : lo[1] > 0 || p[2] === null
              ? [0, lo[1] + 1, 0]
              : [0, 0, lo[2] + 1];
        return cmp(v, lo) >= 0 && cmp(v, up) < 0;
      }
      case '~': {
        const up: Version = p[1] === null ? [lo[0] + 1, 0, 0] : [lo[0], lo[1] + 1, 0];
        return cmp(v, lo) >= 0 && cmp(v, up) < 0;
      }
      default:
        if (p[0] === null) return true;
        return exact ? cmp(v, lo) === 0 : cmp(v, lo) >= 0 && cmp(v, hi!) < 0;
    }
  };
  return range.split('||').some((alt) => {
    const a = alt.trim();
    if (a === '' || a === '*' || /^[xX]$/.test(a)) return true;
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(a);
    if (hyphen) return test(`>=${hyphen[1]}`) && test(`<=${hyphen[2]}`);
    return a
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .split(/\s+/)
      .every(test);
  });
}

export interface LintOptions {
  /** The day the node-lts rule checks end of life against (default: now). */
  today?: Date;
}

export function lintDockerfile(text: string, options: LintOptions = {}): Violation[] {
  const v: Violation[] = [];
  const instructions = parseDockerfile(text);
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) {
        v.push({ rule: 'syntax', line: ins.line, message: `cannot read FROM ${ins.args}` });
        continue;
      }
      stages.push({
        line: ins.line,
        image: substitute(m[1]!, globalArgs),
        name: m[2]?.toLowerCase(),
        instructions: [],
      });
    } else if (stages.length === 0) {
      if (ins.keyword === 'ARG') {
        const [name, ...rest] = ins.args.split('=');
        globalArgs.set(name!.trim(), rest.join('=').trim());
      }
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }

  if (stages.length < 2)
    v.push({ rule: 'multi-stage', line: 1, message: 'build in one stage and run in another (multi-stage build)' });
  const stageNames = new Set<string>();
  for (const st of stages) {
    if (!stageNames.has(st.image.toLowerCase()) && !isPinned(st.image)) {
      v.push({
        rule: 'DL3006/DL3007',
        line: st.line,
        message: `base image "${st.image}" is not pinned to a full version or a digest`,
      });
    }
    if (!stageNames.has(st.image.toLowerCase()) && st.image !== 'scratch') {
      const problem = digestPinProblem(st.image);
      if (problem) v.push({ rule: 'base-digest', line: st.line, message: problem });
    }
    if (!stageNames.has(st.image.toLowerCase()) && isNodeImage(st.image)) {
      const problem = nodeLtsProblem(st.image, options.today);
      if (problem) v.push({ rule: 'node-lts', line: st.line, message: problem });
    }
    if (st.name) stageNames.add(st.name);
  }

  for (const st of stages) {
    for (const ins of st.instructions) {
      const a = ins.args;
      if (ins.keyword === 'ADD') {
        v.push({
          rule: 'DL3020',
          line: ins.line,
          message: /https?:\/\//.test(a)
            ? 'ADD of a URL: download in a RUN with a checksum, or COPY a vendored file'
            : 'use COPY for files and folders',
        });
      }
      if (ins.keyword === 'RUN') {
        if (/\bnpm\s+(install|i|add)\b/.test(a))
          v.push({ rule: 'npm-ci', line: ins.line, message: 'use `npm ci` (the lockfile), not `npm install`' });
        for (const { command } of commands(a)) {
          if (NPM_INSTALL.test(command) && !/\s--ignore-scripts(?:=true)?(?=\s|$)/.test(command)) {
            v.push({
              rule: 'npm-ignore-scripts',
              line: ins.line,
              message: `\`${command}\` runs the install scripts of every dependency: add --ignore-scripts (and \`npm rebuild <name>\` for a package that needs its script)`,
            });
          }
          if (
            /\bnpm\s+(?:rebuild|rb)\b/.test(command) &&
            !/\bnpm\s+(?:rebuild|rb)\s+(?:--?\S+\s+)*[^-\s]/.test(command)
          ) {
            v.push({
              rule: 'npm-rebuild',
              line: ins.line,
              message:
                '`npm rebuild` without package names runs every install script: name the packages that need theirs',
            });
          }
        }
        if (/\b(curl|wget)\b[^|;&]*\|\s*(ba|z|da)?sh\b/.test(a))
          v.push({ rule: 'DL4006', line: ins.line, message: 'do not pipe a download into a shell' });
        if (/(^|&&|;)\s*cd\s/.test(a)) v.push({ rule: 'DL3003', line: ins.line, message: 'use WORKDIR instead of cd' });
        if (/\bapt-get\s+install\b/.test(a) && !/--no-install-recommends/.test(a)) {
          v.push({ rule: 'DL3015', line: ins.line, message: 'apt-get install needs --no-install-recommends' });
        }
        if (/\bapt-get\s+install\b/.test(a) && !/rm -rf \/var\/lib\/apt\/lists/.test(a)) {
          v.push({ rule: 'DL3009', line: ins.line, message: 'delete the apt lists after apt-get install' });
        }
        if (/\bsudo\b/.test(a)) v.push({ rule: 'DL3004', line: ins.line, message: 'do not use sudo' });
      }
      if ((ins.keyword === 'CMD' || ins.keyword === 'ENTRYPOINT') && !a.startsWith('[')) {
        v.push({
          rule: 'DL3025',
          line: ins.line,
          message: `${ins.keyword} in JSON (exec) form, so that signals reach the process`,
        });
      }
      if (ins.keyword === 'WORKDIR' && !a.startsWith('/') && !a.startsWith('$'))
        v.push({ rule: 'DL3000', line: ins.line, message: 'WORKDIR must be absolute' });
      if (
        (ins.keyword === 'ENV' || ins.keyword === 'ARG') &&
        /\b[A-Z_]*(PASSWORD|SECRET|TOKEN|API_KEY)[A-Z_]*\s*=/.test(a)
      ) {
        v.push({
          rule: 'secrets',
          line: ins.line,
          message: 'credentials do not belong in ENV or ARG (they stay in the image history)',
        });
      }
    }
  }

  for (const install of npmInstalls(text)) {
    if (install.env['SCARF_ANALYTICS'] !== 'false') {
      v.push({
        rule: 'scarf-off',
        line: install.line,
        message: `\`${install.command}\` runs without SCARF_ANALYTICS=false: set it with ENV in the stage "${install.stage}" (@scarf/scarf reports installs to scarf.sh otherwise)`,
      });
    }
  }

  const final = stages.at(-1);
  if (final) {
    if (stageNames.has(final.image.toLowerCase())) {
      v.push({
        rule: 'slim-runtime',
        line: final.line,
        message: `the runtime stage starts from the stage "${final.image}": start from the base image and copy only what runs`,
      });
    }
    const users = final.instructions.filter((i) => i.keyword === 'USER');
    const user = users.at(-1)?.args;
    if (!user)
      v.push({ rule: 'DL3002', line: final.line, message: 'the runtime stage sets no USER (it would run as root)' });
    else if (/^(root|0)(:|$)/.test(user))
      v.push({ rule: 'DL3002', line: users.at(-1)!.line, message: 'the last USER is root' });
    else if (!/^\d+(:\d+)?$/.test(user))
      v.push({
        rule: 'numeric-user',
        line: users.at(-1)!.line,
        message: 'give USER as uid[:gid] so that runAsNonRoot can verify it',
      });
    const env = final.instructions
      .filter((i) => i.keyword === 'ENV')
      .map((i) => i.args)
      .join(' ');
    if (!/NODE_ENV=production\b/.test(env))
      v.push({ rule: 'node-env', line: final.line, message: 'the runtime stage sets NODE_ENV=production' });
    for (const ins of final.instructions.filter((i) => i.keyword === 'RUN' && /\bnpm\s+ci\b/.test(i.args))) {
      if (!/--omit=dev\b/.test(ins.args))
        v.push({
          rule: 'prod-deps',
          line: ins.line,
          message: 'the runtime stage installs production dependencies only (npm ci --omit=dev)',
        });
    }
    if (!final.instructions.some((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT')) {
      v.push({ rule: 'cmd', line: final.line, message: 'the runtime stage has no CMD or ENTRYPOINT' });
    }
  }
  return v;
}

/** Patterns the build context must exclude. */
export const REQUIRED_DOCKERIGNORE = ['.git', '.data', '**/node_modules', '**/dist'];

export function lintDockerignore(text: string): string[] {
  const entries = new Set(
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#')),
  );
  return REQUIRED_DOCKERIGNORE.filter((p) => !entries.has(p)).map((p) => `.dockerignore must exclude ${p}`);
}
