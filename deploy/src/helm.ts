import { execFile } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ensureHelm } from '../scripts/helm.mjs';

const run = promisify(execFile);

export const DEPLOY_DIR = resolve(import.meta.dirname, '..');
export const REPO_ROOT = resolve(DEPLOY_DIR, '..');
export const CHART_DIR = join(DEPLOY_DIR, 'helm', 'orderflow');
export const PRODUCTION_VALUES = join(CHART_DIR, 'values-production.yaml');
const NATS_STANDIN = join(DEPLOY_DIR, 'test', 'nats-standin');
const NOTES_PROBE = join(DEPLOY_DIR, 'test', 'notes-probe', 'notes-probe.yaml');
/** The label of the objects only the tests' copy of the chart renders (stand-in, notes probe). */
export const TEST_PROBE_LABEL = 'orderflow.io/test-stand-in';

/** A rendered Kubernetes object, with the template it came from. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string>;
  [k: string]: unknown;
  /** Not part of the object: the "# Source:" template path. */
  source: string;
}

/** The NATS chart version the tests render (Chart.yaml accepts >=1.2.0 <2.0.0). */
export const NATS_CHART_VERSION = '1.3.16';
/**
 * Upstream charts kept beside the repository for rendering without a network (../shared/charts,
 * present only on the project's machines); ORDERFLOW_SHARED_CHARTS names another directory.
 */
export const SHARED_CHARTS = resolve(
  process.env['ORDERFLOW_SHARED_CHARTS'] ?? join(REPO_ROOT, '..', 'shared', 'charts'),
);

/** Where the NATS subchart of the rendered copy comes from. */
export type NatsSource =
  /** charts/ of the repository's chart, filled by `helm dependency update` (online). */
  | 'fetched'
  /** SHARED_CHARTS/nats-<NATS_CHART_VERSION>, the official chart. */
  | 'shared'
  /** deploy/test/nats-standin: renders only the values it receives. */
  | 'stand-in';

export interface ChartForRendering {
  dir: string;
  nats: NatsSource;
  natsIsStandIn: boolean;
  /** Why the stand-in is used (empty otherwise). */
  standInReason: string;
}

let chartCopy: ChartForRendering | undefined;

/** Makes a copied tree writable (the shared charts are read-only), so that it can be removed. */
function makeWritable(path: string): void {
  chmodSync(path, statSync(path).mode | 0o700);
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) makeWritable(join(path, f));
}

/**
 * The chart, copied to a temporary directory where its NATS dependency is satisfied (helm will not
 * render a chart whose dependency is missing from charts/): by the real chart when
 * `helm dependency update` put it into the repository's charts/, else by the official chart from
 * SHARED_CHARTS, else by the test stand-in (deploy/test/nats-standin). The copy also renders
 * NOTES.txt into a ConfigMap (deploy/test/notes-probe). Nothing is written into the repository.
 */
export function chartForRendering(): ChartForRendering {
  if (chartCopy) return chartCopy;
  const fetched =
    existsSync(join(CHART_DIR, 'charts')) &&
    readdirSync(join(CHART_DIR, 'charts')).some((f) => /^nats(-[\d.]+\.tgz)?$/.test(f));
  const shared = join(SHARED_CHARTS, `nats-${NATS_CHART_VERSION}`);
  const haveShared = existsSync(join(shared, 'Chart.yaml'));
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-chart-'));
  const copy = join(dir, 'orderflow');
  cpSync(CHART_DIR, copy, { recursive: true });
  // NOTES.txt rendered as a ConfigMap (helm template skips it).
  mkdirSync(join(copy, 'test-notes'));
  cpSync(join(CHART_DIR, 'templates', 'NOTES.txt'), join(copy, 'test-notes', 'NOTES.txt'));
  cpSync(NOTES_PROBE, join(copy, 'templates', 'zz-test-notes-probe.yaml'));
  let nats: NatsSource = 'fetched';
  let standInReason = '';
  if (!fetched && haveShared) {
    nats = 'shared';
    cpSync(shared, join(copy, 'charts', 'nats'), { recursive: true });
  } else if (!fetched) {
    nats = 'stand-in';
    standInReason = `the NATS chart ${NATS_CHART_VERSION} is not at ${shared} (set ORDERFLOW_SHARED_CHARTS to the directory holding nats-${NATS_CHART_VERSION}/)`;
    cpSync(NATS_STANDIN, join(copy, 'charts', 'nats'), { recursive: true });
    console.warn(
      `deploy tests: ${standInReason}; rendering with the stand-in deploy/test/nats-standin, so the checks of the NATS chart's own objects (nats.conf, StatefulSet, headless Service) are skipped`,
    );
  }
  makeWritable(dir);
  chartCopy = { dir: copy, nats, natsIsStandIn: nats === 'stand-in', standInReason };
  return chartCopy;
}

/** Removes the copy chartForRendering made and the values files written beside it (a suite's afterAll). */
export function removeChartCopy(): void {
  if (!chartCopy) return;
  rmSync(dirname(chartCopy.dir), { recursive: true, force: true });
  chartCopy = undefined;
}

let valuesFiles = 0;

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function helm(args: string[]): Promise<HelmResult> {
  const bin = await ensureHelm();
  try {
    const { stdout, stderr } = await run(bin, args, {
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, HELM_CACHE_HOME: join(tmpdir(), 'orderflow-helm-cache') },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : 1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? String(e),
    };
  }
}

export interface RenderOptions {
  valuesFiles?: string[];
  /** Values given as an object (written to a temporary file, after valuesFiles). */
  values?: Record<string, unknown>;
  set?: Record<string, string | number | boolean>;
  release?: string;
  namespace?: string;
  /** Leave out TEST_PASSWORDS (the chart then needs passwords or an existingSecret from the options). */
  withoutTestPasswords?: boolean;
  /** Leave out TEST_NATS_VALUES too (withoutTestPasswords alone keeps them). */
  withoutTestNatsPasswords?: boolean;
}

/** The NATS users' passwords for renders (global.natsAuth.passwords): the chart generates none either. */
export const TEST_NATS_PASSWORDS = {
  collector: 'ptestcollectorpassword',
  aggregator: 'ptestaggregatorpassword',
  gateway: 'ptestgatewaypassword',
};
export const TEST_NATS_VALUES = { global: { natsAuth: { passwords: TEST_NATS_PASSWORDS } } };

/**
 * ClickHouse passwords for renders: the chart generates none (a random one would change with every
 * render) and fails without them or an existingSecret. Given before the options' values, which may
 * override them.
 */
export const TEST_PASSWORDS = {
  clickhouse: {
    auth: {
      users: {
        migrator: { password: 'test-migrator-password' },
        writer: { password: 'test-writer-password' },
        reader: { password: 'test-reader-password' },
        analyst: { password: 'test-analyst-password' },
      },
    },
  },
};

/** `--values <file>` with TEST_PASSWORDS (for helm lint, which the suites run on the chart copy). */
export function testPasswordArgs(): string[] {
  const file = join(dirname(chartForRendering().dir), 'values-test-passwords.json');
  writeFileSync(file, JSON.stringify({ ...TEST_PASSWORDS, ...TEST_NATS_VALUES }));
  return ['--values', file];
}

/** `--values <file>` with TEST_NATS_VALUES only. */
function testNatsPasswordArgs(): string[] {
  const file = join(dirname(chartForRendering().dir), 'values-test-nats-passwords.json');
  writeFileSync(file, JSON.stringify(TEST_NATS_VALUES));
  return ['--values', file];
}

function templateArgs(o: RenderOptions): string[] {
  const args = [
    'template',
    o.release ?? 'orderflow',
    chartForRendering().dir,
    '--namespace',
    o.namespace ?? 'orderflow',
  ];
  if (!o.withoutTestPasswords) args.push(...testPasswordArgs());
  else if (!o.withoutTestNatsPasswords) args.push(...testNatsPasswordArgs());
  for (const f of o.valuesFiles ?? []) args.push('--values', f);
  if (o.values) {
    const file = join(dirname(chartForRendering().dir), `values-${++valuesFiles}.json`);
    writeFileSync(file, JSON.stringify(o.values));
    args.push('--values', file);
  }
  for (const [k, v] of Object.entries(o.set ?? {}))
    args.push(typeof v === 'string' ? '--set-string' : '--set', `${k}=${v}`);
  return args;
}

/** `helm template` of the chart; throws with helm's message when it fails. */
export async function render(o: RenderOptions = {}): Promise<Manifest[]> {
  const r = await helm(templateArgs(o));
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr.trim()}`);
  return parseManifests(r.stdout);
}

/** `helm template` expected to fail: its error text. */
export async function renderError(o: RenderOptions = {}): Promise<string> {
  const r = await helm(templateArgs(o));
  if (r.code === 0) throw new Error('helm template succeeded, a failure was expected');
  return r.stderr;
}

export function parseManifests(text: string): Manifest[] {
  const out: Manifest[] = [];
  // helm separates objects with "---" lines and names each one's template in a "# Source:" line.
  for (const chunk of text.split(/^---\s*$/m)) {
    const source = /^# Source: (\S+)/m.exec(chunk)?.[1] ?? '?';
    for (const doc of parseAllDocuments(chunk)) {
      if (doc.errors.length) throw new Error(`rendered YAML of ${source} does not parse: ${doc.errors[0]!.message}`);
      const value = doc.toJS() as Omit<Manifest, 'source'> | null;
      if (value !== null) out.push({ ...value, source } as Manifest);
    }
  }
  return out;
}

/** The one manifest of this kind and name (suffix match on the name); throws otherwise. */
export function find(manifests: Manifest[], kind: string, nameSuffix: string): Manifest {
  const hits = manifests.filter((m) => m.kind === kind && m.metadata.name.endsWith(nameSuffix));
  if (hits.length !== 1)
    throw new Error(
      `expected one ${kind} *${nameSuffix}, found ${hits.map((m) => m.metadata.name).join(', ') || 'none'}`,
    );
  return hits[0]!;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** Pod templates of the workloads (Deployment, StatefulSet, Job), with their owner. */
export function podSpecs(manifests: Manifest[]): { owner: Manifest; pod: any }[] {
  return manifests
    .filter((m) => ['Deployment', 'StatefulSet', 'Job', 'DaemonSet'].includes(m.kind))
    .map((owner) => ({ owner, pod: owner.spec.template.spec }));
}

/** Containers (and init containers) of the workloads. */
export function containers(manifests: Manifest[]): { owner: Manifest; pod: any; container: any; init: boolean }[] {
  return podSpecs(manifests).flatMap(({ owner, pod }) => [
    ...(pod.containers ?? []).map((container: any) => ({ owner, pod, container, init: false })),
    ...(pod.initContainers ?? []).map((container: any) => ({ owner, pod, container, init: true })),
  ]);
}

/** A container's env as a map (value, or "secret:<name>/<key>" for secretKeyRef). */
export function envOf(container: any): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.name in out) throw new Error(`env ${e.name} is set twice in container ${container.name}`);
    out[e.name] = e.valueFrom?.secretKeyRef
      ? `secret:${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`
      : e.value;
  }
  return out;
}
/* eslint-enable @typescript-eslint/no-explicit-any */
