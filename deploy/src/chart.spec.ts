/* eslint-disable @typescript-eslint/no-explicit-any */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import {
  CHART_DIR,
  NATS_CHART_VERSION,
  PRODUCTION_VALUES,
  REPO_ROOT,
  TEST_NATS_PASSWORDS,
  TEST_PROBE_LABEL,
  chartForRendering,
  containers,
  envOf,
  find,
  helm,
  podSpecs,
  removeChartCopy,
  render,
  renderError,
  testPasswordArgs,
  type Manifest,
  type RenderOptions,
} from './helm.js';
import { schemaSource, validateManifests } from './k8s-validate.js';

/** The chart's own objects (not the NATS subchart's, nor the test probes). */
const own = (ms: Manifest[]) =>
  ms.filter((m) => !m.source.includes('/charts/') && !m.metadata.labels?.[TEST_PROBE_LABEL]);
/** Values the NATS subchart received (from the stand-in's probe). */
function natsValues(ms: Manifest[]): any {
  const probe = ms.find((m) => m.metadata.labels?.[TEST_PROBE_LABEL] === 'nats');
  return probe ? JSON.parse(probe.data!['values.json']!) : undefined;
}
/** The rendered templates/NOTES.txt (from the notes probe). */
function notes(ms: Manifest[]): string {
  return ms.find((m) => m.metadata.labels?.[TEST_PROBE_LABEL] === 'notes')!.data!['NOTES.txt']!;
}
/** The NATS subchart's objects (rendered only by the real chart). */
const natsObjects = (ms: Manifest[]) => ms.filter((m) => m.source.includes('/charts/nats/'));

/**
 * nats.conf as the NATS chart writes it (JSON with unquoted variables and sizes, e.g.
 * `"server_name": $SERVER_NAME`, `"max_file_store": 10Gi`), parsed with those values as strings.
 */
function parseNatsConf(text: string): any {
  const json = text.replace(
    /^(\s*"[^"]+":\s*)([^\s"[{][^,]*?)(,?)\s*$/gm,
    (all, key: string, value: string, comma: string) =>
      /^(-?\d+(\.\d+)?|true|false|null)$/.test(value) ? all : `${key}${JSON.stringify(value)}${comma}`,
  );
  return JSON.parse(json);
}

/** The ClickHouse line the suites run the apps' SQL on: ClickHouse 26.7, embedded in chdb 3.4.0 (scripts/chdb). */
const TESTED_CLICKHOUSE_LINE = '26.7';
const CHDB_LOCK = join(REPO_ROOT, 'scripts', 'chdb', 'package-lock.json');

const run = promisify(execFile);
/** nats-server (the Debian package the apps' tests run against), or undefined. */
const NATS_SERVER = (() => {
  if (process.env['NATS_SERVER_BIN']) return process.env['NATS_SERVER_BIN'];
  for (const dir of [...(process.env['PATH'] ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin']) {
    if (!dir) continue;
    try {
      accessSync(join(dir, 'nats-server'), constants.X_OK);
      return join(dir, 'nats-server');
    } catch {
      /* keep looking */
    }
  }
  return undefined;
})();

const REAL_EXCHANGES = (() => {
  const src = readFileSync(join(REPO_ROOT, 'libs/contracts/src/exchanges.ts'), 'utf8');
  const block = /const REAL[^=]*=\s*\[([\s\S]*?)\];/.exec(src)![1]!;
  return [...block.matchAll(/id:\s*'([^']+)'/g)].map((m) => m[1]!);
})();

afterAll(removeChartCopy);

describe('the Helm chart', () => {
  const renders: Record<string, Manifest[]> = {};
  beforeAll(async () => {
    const [defaults, production, everything] = await Promise.all([
      render(),
      render({ valuesFiles: [PRODUCTION_VALUES] }),
      // Every optional resource on: ServiceMonitors, Ingress with long-polling, gateway token.
      render({
        set: {
          'serviceMonitor.enabled': true,
          'gateway.ingress.enabled': true,
          'gateway.ingress.tlsSecretName': 'tls',
          'gateway.socketIo.longPolling': true,
          'gateway.auth.token': 's3cret-of-at-least-16-characters',
        },
        values: {
          collector: {
            exchanges: [
              { id: 'binance', symbols: ['BTCUSDT'], backfillMinutes: 30, env: { PUBLISH_MAX_BATCH_TRADES: 250 } },
              {
                id: 'sim-okx',
                symbols: ['BTC-USDT'],
                wsUrl: 'ws://sim:9105/ws/v5/business',
                restUrl: 'http://sim:9105',
                instruments: ['BTC-USDT:0.1:0.00000001'],
              },
            ],
          },
        },
      }),
    ]);
    renders['default values'] = defaults;
    renders['values-production.yaml'] = production;
    renders['every option on'] = everything;
  });

  it('passes helm lint --strict with the default and the production values', async () => {
    const { dir } = chartForRendering();
    for (const args of [testPasswordArgs(), ['--values', PRODUCTION_VALUES]]) {
      const r = await helm(['lint', '--strict', dir, ...args]);
      expect(r.stdout + r.stderr, `helm lint ${args.join(' ')}`).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      expect(r.code).toBe(0);
    }
  });

  it('in the repository (dependency not fetched) lints with only the missing-dependency warning', async () => {
    const r = await helm(['lint', CHART_DIR]);
    expect(r.code).toBe(0);
    const warnings = (r.stdout + r.stderr).split('\n').filter((l) => /\[(WARNING|ERROR)\]/.test(l));
    for (const w of warnings) expect(w).toMatch(/missing these dependencies: nats/);
  });

  it('declares the official NATS chart as a conditional dependency', () => {
    const chart = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8'));
    expect(chart.dependencies).toEqual([expect.objectContaining({ name: 'nats', condition: 'nats.enabled' })]);
  });

  for (const name of ['default values', 'values-production.yaml', 'every option on']) {
    describe(`rendered with ${name}`, () => {
      const ms = () => own(renders[name]!);

      it(`validates against the Kubernetes API schema (${schemaSource().name} ${schemaSource().version}), unknown fields included`, async () => {
        expect(renders[name]!.every((m) => m.source !== '?')).toBe(true);
        // Everything helm renders, the NATS subchart's objects included.
        const problems = await validateManifests(renders[name]!);
        expect(problems).toEqual([]);
        expect(ms().length).toBeGreaterThan(10);
      });

      it('gives every long-running container startup, liveness and readiness probes', () => {
        for (const { owner, container } of containers(ms())) {
          if (owner.kind === 'Job') continue; // run to completion: nothing to probe
          const what = `${owner.kind}/${owner.metadata.name} ${container.name}`;
          expect(container.livenessProbe, what).toBeDefined();
          expect(container.readinessProbe, what).toBeDefined();
          expect(container.startupProbe, what).toBeDefined();
          // the platform's services: out of the Service within seconds of a hung dependency
          // (their /health/ready answers at once from background probes; tests/src/readiness.int.spec.ts)
          const ready = container.readinessProbe!;
          if (ready.httpGet?.path === '/health/ready') {
            const worstMs = (ready.periodSeconds ?? 10) * (ready.failureThreshold ?? 3) * 1000;
            expect(worstMs, `${what}: readiness reacts within ${worstMs} ms`).toBeLessThanOrEqual(5000);
            expect(ready.timeoutSeconds, what).toBeLessThanOrEqual(1);
          }
        }
      });

      it('runs every container as non-root, read-only, without privileges, with resources', () => {
        for (const { owner, pod, container } of containers(ms())) {
          const what = `${owner.kind}/${owner.metadata.name} ${container.name}`;
          const sc = container.securityContext ?? {};
          expect(sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, what).toBe(true);
          expect(pod.securityContext?.runAsUser ?? sc.runAsUser, what).toBeGreaterThan(0);
          expect(sc.allowPrivilegeEscalation, what).toBe(false);
          expect(sc.readOnlyRootFilesystem, what).toBe(true);
          expect(sc.capabilities?.drop, what).toContain('ALL');
          expect(sc.capabilities?.add ?? [], what).toEqual([]);
          expect(sc.privileged ?? false, what).toBe(false);
          expect(pod.automountServiceAccountToken, what).toBe(false);
          expect(pod.hostNetwork ?? false, what).toBe(false);
          expect(container.resources?.requests?.cpu, what).toBeDefined();
          expect(container.resources?.requests?.memory, what).toBeDefined();
          expect(container.resources?.limits?.memory, what).toBeDefined();
          expect(container.image, what).toMatch(/:[^:/@]+(@sha256:[a-f0-9]{64})?$/);
          expect(container.image, what).not.toMatch(/:latest$/);
          // Every writable path is a volume (the root filesystem is read-only).
          expect(
            (container.volumeMounts ?? []).some((v: any) => v.mountPath === '/tmp'),
            `${what}: /tmp`,
          ).toBe(true);
        }
      });

      it('runs one collector per exchange, configured for pods', () => {
        const values =
          name === 'values-production.yaml'
            ? parse(readFileSync(PRODUCTION_VALUES, 'utf8'))
            : parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));
        const collectors = ms().filter(
          (m) => m.kind === 'Deployment' && m.metadata.labels?.['app.kubernetes.io/component'] === 'collector',
        );
        if (name !== 'every option on')
          expect(collectors.map((c) => envOf(c.spec.template.spec.containers[0]).COLLECTOR_EXCHANGE)).toEqual(
            values.collector.exchanges.map((e: any) => e.id),
          );
        for (const c of collectors) {
          const env = envOf(c.spec.template.spec.containers[0]);
          expect(c.spec.replicas).toBe(1);
          expect(c.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
          expect(env.COLLECTOR_SYMBOLS).toMatch(/^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$/);
          expect(env.COLLECTOR_HTTP_HOST).toBe('0.0.0.0');
          expect(env.COLLECTOR_HTTP_PORT).toBe('9300');
          expect(env.NATS_URL).toMatch(/^nats:\/\//);
          expect(env.LOG_FORMAT).toBe('json');
          for (const k of [
            'TRADES_MAX_AGE_HOURS',
            'TRADES_MAX_GIB',
            'TRADES_DUPLICATE_WINDOW_SECONDS',
            'TRADES_REPLICAS',
          ])
            expect(env[k], k).toMatch(/^\d+$/);
          expect(c.metadata.name).toContain(env.COLLECTOR_EXCHANGE);
        }
        expect(collectors.length).toBeGreaterThan(0);
      });

      it('runs the aggregator as a StatefulSet with replicas = AGG_SHARDS = the gateway AGG_SHARDS', () => {
        const sts = find(ms(), 'StatefulSet', '-aggregator');
        const env = envOf(sts.spec.template.spec.containers[0]);
        expect(Number(env.AGG_SHARDS)).toBe(sts.spec.replicas);
        // The shard index comes from the pod's ordinal (HOSTNAME), never from the template.
        expect(env.AGG_SHARD_INDEX).toBeUndefined();
        expect(sts.spec.podManagementPolicy).toBe('Parallel');
        expect(sts.spec.serviceName).toBe(find(ms(), 'Service', '-aggregator-headless').metadata.name);
        const gw = envOf(find(ms(), 'Deployment', '-gateway').spec.template.spec.containers[0]);
        expect(gw.AGG_SHARDS).toBe(env.AGG_SHARDS);
        expect(env.AGG_HTTP_HOST).toBe('0.0.0.0');
        expect(env.AGG_HTTP_PORT).toBe('9400');
        // JSON log lines in the cluster (LOG_FORMAT's default, text, is for local runs)
        expect(env.LOG_FORMAT).toBe('json');
        expect(gw.LOG_FORMAT).toBe('json');
        expect(env.CLICKHOUSE_PASSWORD).toMatch(/^secret:/);
        expect(env.CLICKHOUSE_DATABASE).toBe('orderflow');
      });

      it('runs the migrations as a hook Job before the apps, with the apps not migrating', () => {
        const job = find(ms(), 'Job', '-migrations');
        expect(envOf(job.spec.template.spec.containers[0]).LOG_FORMAT).toBe('json');
        const hooks = job.metadata.annotations!['helm.sh/hook']!.split(',');
        expect(hooks).toContain('pre-upgrade');
        expect(hooks.some((h) => h === 'pre-install' || h === 'post-install')).toBe(true);
        expect(job.metadata.annotations!['helm.sh/hook-delete-policy']).toContain('before-hook-creation');
        const c = job.spec.template.spec.containers[0];
        expect([c.workingDir, ...c.command]).toEqual(['/app', 'node', 'apps/aggregator/dist/migrate.main.js']);
        // The aggregator's build (src -> dist) has that entry point.
        expect(existsSync(join(REPO_ROOT, 'apps/aggregator/src/migrate.main.ts'))).toBe(true);
        const jobEnv = envOf(c);
        const aggEnv = envOf(find(ms(), 'StatefulSet', '-aggregator').spec.template.spec.containers[0]);
        // the same server and database; each its own role's user (clickhouse-users.spec.ts)
        for (const k of ['CLICKHOUSE_URL', 'CLICKHOUSE_DATABASE']) expect(jobEnv[k], k).toBe(aggEnv[k]);
        expect(aggEnv.AGG_MIGRATE).toBe('0');
        expect(job.spec.template.spec.restartPolicy).toBe('Never');
        // The Secret the hook reads exists before it: a lower-weight hook, or a Secret of the operator's.
        const secret = ms().find(
          (m) => m.kind === 'Secret' && m.metadata.name === jobEnv.CLICKHOUSE_PASSWORD!.slice(7).split('/')[0],
        );
        if (secret) {
          expect(secret.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
          expect(Number(secret.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(
            Number(job.metadata.annotations!['helm.sh/hook-weight']),
          );
        }
      });

      it('exposes only the gateway outside the cluster and only lets the aggregator, the gateway and the migrations reach ClickHouse', () => {
        const nps = ms().filter((m) => m.kind === 'NetworkPolicy');
        const deny = nps.find((n) => n.metadata.name.endsWith('-default-deny'))!;
        expect(deny.spec.policyTypes).toEqual(['Ingress', 'Egress']);
        expect(deny.spec.ingress).toBeUndefined();
        expect(deny.spec.egress).toBeUndefined();
        // Every app pod is covered by the default deny.
        for (const { owner } of podSpecs(ms())) {
          const labels = owner.spec.template.metadata.labels;
          for (const [k, v] of Object.entries(deny.spec.podSelector.matchLabels))
            expect(labels[k], owner.metadata.name).toBe(v);
        }
        // Ingress open to any source (no `from`, or an ipBlock) only on the gateway.
        for (const np of nps) {
          for (const rule of np.spec.ingress ?? []) {
            const open = !rule.from || rule.from.some((p: any) => p.ipBlock);
            if (open)
              expect(np.spec.podSelector.matchLabels['app.kubernetes.io/component'], np.metadata.name).toBe('gateway');
          }
        }
        // Egress to ClickHouse only from the aggregator, the gateway and the migration Job.
        const values = name === 'values-production.yaml' ? parse(readFileSync(PRODUCTION_VALUES, 'utf8')) : {};
        const chPort = values.clickhouse?.url ? Number(new URL(values.clickhouse.url).port) : 8123;
        const toClickhouse = nps.filter((np) =>
          (np.spec.egress ?? []).some((r: any) => (r.ports ?? []).some((p: any) => p.port === chPort)),
        );
        expect(toClickhouse.map((np) => np.spec.podSelector.matchLabels['app.kubernetes.io/component']).sort()).toEqual(
          ['aggregator', 'gateway', 'migrations'],
        );
        const chPolicy = nps.find((n) => n.metadata.name.endsWith('-clickhouse'));
        if (chPolicy) {
          const http = chPolicy.spec.ingress.find((r: any) => r.ports.some((p: any) => p.port === 'http'));
          expect(http.from.map((p: any) => p.podSelector.matchLabels['app.kubernetes.io/component']).sort()).toEqual([
            'aggregator',
            'gateway',
            'migrations',
          ]);
        }
        // Collectors reach the exchanges on 443 (and the exchanges' WebSocket ports), nothing private.
        const col = nps.find((n) => n.metadata.name.endsWith('-collector'))!;
        const internet = col.spec.egress.find((r: any) => r.to?.some((t: any) => t.ipBlock?.cidr === '0.0.0.0/0'));
        expect(internet.ports.map((p: any) => p.port)).toContain(443);
        expect(internet.to[0].ipBlock.except).toContain('10.0.0.0/8');
        // DNS for everyone.
        expect(nps.some((n) => n.metadata.name.endsWith('-allow-dns'))).toBe(true);
      });

      it('gives the gateway a Service, an HPA and a PDB, serving the dashboard from the image', () => {
        const gw = find(ms(), 'Deployment', '-gateway');
        const env = envOf(gw.spec.template.spec.containers[0]);
        expect(env).toMatchObject({
          GATEWAY_HOST: '0.0.0.0',
          GATEWAY_PORT: '8080',
          GATEWAY_STATIC_DIR: '/app/dashboard',
        });
        expect(env.GATEWAY_SOCKET_POLLING).toBe(name === 'every option on' ? '1' : '0');
        expect(find(ms(), 'Service', '-gateway').spec.ports[0]).toMatchObject({ targetPort: 'http' });
        const hpa = find(ms(), 'HorizontalPodAutoscaler', '-gateway');
        expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: gw.metadata.name });
        expect(gw.spec.replicas).toBeUndefined(); // the HPA owns it
        expect(find(ms(), 'PodDisruptionBudget', '-gateway').spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
      });
    });
  }

  it('defaults and production: values for a JetStream cluster of 3, fsync on every write, stream replicas 3', () => {
    for (const file of [join(CHART_DIR, 'values.yaml'), PRODUCTION_VALUES]) {
      const values = parse(readFileSync(file, 'utf8'));
      expect(values.nats.enabled, file).toBe(true);
      expect(values.nats.config.cluster, file).toMatchObject({ enabled: true, replicas: 3 });
      expect(values.nats.config.jetstream, file).toMatchObject({
        enabled: true,
        fileStore: { enabled: true },
        merge: { sync_interval: 'always' },
      });
      expect(values.jetstream.trades.replicas, file).toBe(3);
    }
  });

  // registered only when the stand-in renders: with the official chart, the tests below check what it renders
  const onStandIn: (name: string, fn: () => unknown) => void = chartForRendering().natsIsStandIn ? it : () => undefined;
  onStandIn('stand-in NATS chart: it receives the cluster of 3 and sync_interval always', () => {
    for (const name of ['default values', 'values-production.yaml']) {
      const received = natsValues(renders[name]!);
      expect(received.config.jetstream.merge.sync_interval, name).toBe('always');
      expect(received.config.cluster, name).toMatchObject({ enabled: true, replicas: 3 });
    }
  });

  // With the official NATS chart: what its objects say, for the default and the production values.
  for (const name of ['default values', 'values-production.yaml']) {
    const skip = chartForRendering().natsIsStandIn;
    const officialChart = { skip, meta: { skipReason: chartForRendering().standInReason } };
    const valuesOf = () =>
      parse(
        readFileSync(name === 'values-production.yaml' ? PRODUCTION_VALUES : join(CHART_DIR, 'values.yaml'), 'utf8'),
      );
    const natsOf = () => {
      const ms = natsObjects(renders[name]!);
      const sts = ms.find((m) => m.kind === 'StatefulSet')!;
      const configMap = ms.find((m) => m.kind === 'ConfigMap' && m.data?.['nats.conf'])!;
      const headless = ms.find((m) => m.kind === 'Service' && m.metadata.name === sts.spec.serviceName);
      return {
        sts,
        headless,
        confText: configMap.data!['nats.conf']!,
        conf: parseNatsConf(configMap.data!['nats.conf']!),
      };
    };

    describe(`the NATS chart ${NATS_CHART_VERSION} rendered with ${name}`, () => {
      it("runs the values' number of servers, each routed to every server of the cluster", officialChart, () => {
        const { sts, headless, conf } = natsOf();
        const replicas = valuesOf().nats.config.cluster.replicas;
        expect(sts.spec.replicas).toBe(replicas);
        expect(sts.spec.replicas).toBe(3);
        // The pods' stable DNS names (<pod>.<headless service>) the routes and the clients use.
        expect(headless, "the StatefulSet's headless Service").toBeDefined();
        expect(headless!.spec.clusterIP).toBe('None');
        expect(headless!.spec.publishNotReadyAddresses).toBe(true);
        const port = conf.cluster.port;
        expect(conf.cluster.routes).toEqual(
          Array.from(
            { length: replicas },
            (_, i) => `nats://${sts.metadata.name}-${i}.${headless!.metadata.name}:${port}`,
          ),
        );
        expect(conf.cluster.name).toBe(sts.metadata.name);
      });

      it(
        'enables JetStream with its file store on the volume, fsync on every write (sync_interval always)',
        officialChart,
        () => {
          const { sts, conf } = natsOf();
          const js = valuesOf().nats.config.jetstream;
          expect(conf.jetstream).toMatchObject({
            store_dir: '/data',
            max_file_store: js.fileStore.pvc.size,
            sync_interval: 'always',
          });
          const pvc = sts.spec.volumeClaimTemplates.find(
            (v: any) => v.spec.resources.requests.storage === js.fileStore.pvc.size,
          );
          expect(pvc, 'the JetStream volume claim').toBeDefined();
          const nats = sts.spec.template.spec.containers.find((c: any) => c.name === 'nats');
          expect(nats.volumeMounts).toContainEqual(
            expect.objectContaining({ name: pvc.metadata.name, mountPath: '/data' }),
          );
          if (js.fileStore.pvc.storageClassName)
            expect(pvc.spec.storageClassName).toBe(js.fileStore.pvc.storageClassName);
          // sync_interval is a NATS 2.10 configuration key: older servers refuse the file.
          const [major, minor] = /:(\d+)\.(\d+)\./.exec(nats.image)!.slice(1).map(Number) as [number, number];
          expect(major * 100 + minor, nats.image).toBeGreaterThanOrEqual(210);
        },
      );

      it(
        "gives every service all the servers' URLs as NATS_URL, and the collectors stream replicas = the cluster size",
        officialChart,
        () => {
          const { sts, headless } = natsOf();
          const ms = own(renders[name]!);
          const urls = Array.from(
            { length: sts.spec.replicas },
            (_, i) => `nats://${sts.metadata.name}-${i}.${headless!.metadata.name}.orderflow.svc:4222`,
          );
          expect(headless!.spec.ports).toContainEqual(expect.objectContaining({ name: 'nats', port: 4222 }));
          const withNats = containers(ms).filter((c) => envOf(c.container).NATS_URL !== undefined);
          expect(new Set(withNats.map((c) => c.owner.metadata.labels!['app.kubernetes.io/component']))).toEqual(
            new Set(['collector', 'aggregator', 'gateway']),
          );
          for (const { owner, container } of withNats)
            expect(envOf(container).NATS_URL!.split(','), owner.metadata.name).toEqual(urls);
          const collectors = containers(ms).filter((c) => c.container.name === 'collector');
          expect(collectors.length).toBeGreaterThan(0);
          for (const { container } of collectors)
            expect(Number(envOf(container).TRADES_REPLICAS)).toBe(sts.spec.replicas);
        },
      );

      it(
        `is a configuration nats-server ${NATS_SERVER ? "(the apps' test server)" : '(not installed: skipped)'} accepts, apart from sync_interval (a 2.10 key)`,
        skip
          ? officialChart
          : {
              skip: !NATS_SERVER,
              meta: {
                skipReason: "nats-server is not installed (Debian's nats-server package; scripts/setup.sh installs it)",
              },
            },
        async () => {
          const { sts, confText } = natsOf();
          const dir = join(dirname(chartForRendering().dir), 'nats-conf');
          mkdirSync(dir, { recursive: true });
          const check = async (text: string) => {
            const file = join(dir, 'nats.conf');
            writeFileSync(file, text);
            // the pod's environment: its name and the NATS users' passwords (from the Secret)
            const passwords = Object.fromEntries(
              Object.entries(TEST_NATS_PASSWORDS).map(([c, p]) => [`NATS_${c.toUpperCase()}_PASSWORD`, p]),
            );
            const env = { ...process.env, SERVER_NAME: `${sts.metadata.name}-0`, ...passwords };
            return run(NATS_SERVER!, ['-t', '-c', file], { env }).then(
              (r) => ({ ok: true, out: r.stdout + r.stderr }),
              (e: { stdout?: string; stderr?: string }) => ({ ok: false, out: (e.stdout ?? '') + (e.stderr ?? '') }),
            );
          };
          const { stdout: version } = await run(NATS_SERVER!, ['--version']);
          const [major, minor] = /v(\d+)\.(\d+)/.exec(version)!.slice(1).map(Number) as [number, number];
          const full = await check(confText);
          if (major * 100 + minor >= 210) {
            expect(full.ok, full.out).toBe(true);
          } else {
            expect(full.out).toMatch(/unknown field "sync_interval"/);
            const without = confText.split('\n').filter((l) => !/^\s*"sync_interval":/.test(l));
            expect(without.length).toBe(confText.split('\n').length - 1);
            const rest = await check(without.join('\n'));
            expect(rest.out, version).toMatch(/is valid/);
            expect(rest.ok, rest.out).toBe(true);
          }
        },
      );
    });
  }

  it('production: external ClickHouse from an existing Secret, ingress with TLS, ServiceMonitors, alert rules and the Grafana dashboard', () => {
    const ms = own(renders['values-production.yaml']!);
    expect(ms.some((m) => m.kind === 'StatefulSet' && m.metadata.name.endsWith('-clickhouse'))).toBe(false);
    expect(ms.filter((m) => m.kind === 'Secret')).toEqual([]);
    const ing = find(ms, 'Ingress', '-gateway');
    expect(ing.spec.tls[0].secretName).toBe('orderflow-tls');
    expect(ing.metadata.annotations!['nginx.ingress.kubernetes.io/proxy-read-timeout']).toBe('3600');
    expect(ing.metadata.annotations!['nginx.ingress.kubernetes.io/affinity']).toBeUndefined();
    expect(
      ms
        .filter((m) => m.kind === 'ServiceMonitor')
        .map((m) => m.metadata.name.replace(/^orderflow-/, ''))
        .sort(),
    ).toEqual(['aggregator', 'collector', 'gateway']);
    expect(find(ms, 'Job', '-migrations').metadata.annotations!['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(envOf(find(ms, 'Deployment', '-gateway').spec.template.spec.containers[0]).GATEWAY_AUTH_TOKEN).toBe(
      'secret:orderflow-gateway/token',
    );
    // picked up by the same Prometheus as the ServiceMonitors, and by Grafana's sidecar
    const rules = ms.filter((m) => m.kind === 'PrometheusRule');
    expect(rules.map((m) => m.metadata.labels?.['release'])).toEqual(['kube-prometheus-stack']);
    expect(ms.filter((m) => m.kind === 'ConfigMap' && m.metadata.labels?.['grafana_dashboard'] === '1').length).toBe(1);
  });

  it('defaults: bundled NATS and ClickHouse; the first-install migration runs after ClickHouse exists', () => {
    const ms = own(renders['default values']!);
    const ch = find(ms, 'StatefulSet', '-clickhouse');
    expect(ch.spec.template.spec.securityContext.runAsUser).toBe(101);
    const users = find(ms, 'ConfigMap', '-clickhouse-config').data!['orderflow-users.xml']!;
    expect(users).toMatch(/<analyst>[\s\S]*<readonly>1<\/readonly>/);
    expect(users).toMatch(/<password from_env="CLICKHOUSE_ANALYST_PASSWORD"\/>/);
    expect(users).not.toMatch(/<password>[^<]+<\/password>/);
    expect(find(ms, 'Job', '-migrations').metadata.annotations!['helm.sh/hook']).toBe('post-install,pre-upgrade');
    expect(envOf(find(ms, 'Deployment', '-gateway').spec.template.spec.containers[0]).NATS_URL).toBe(
      'nats://orderflow-nats-0.orderflow-nats-headless.orderflow.svc:4222,nats://orderflow-nats-1.orderflow-nats-headless.orderflow.svc:4222,nats://orderflow-nats-2.orderflow-nats-headless.orderflow.svc:4222',
    );
    expect(ch.spec.template.spec.containers[0].image).toBe(`clickhouse/clickhouse-server:${TESTED_CLICKHOUSE_LINE}`);
    expect(ms.some((m) => m.kind === 'ServiceMonitor' || m.kind === 'Ingress')).toBe(false);
    expect(find(ms, 'Secret', '-clickhouse').data).toHaveProperty('analyst-password');
  });

  describe('ClickHouse passwords: given or an existingSecret, never generated', () => {
    it('two renders with the same values give the same Secret (a render that cannot must fail instead)', async () => {
      // Every way of leaving passwords out: each either fails or renders the same Secret twice.
      const variants: RenderOptions[] = [
        {},
        { withoutTestPasswords: true },
        { withoutTestPasswords: true, set: { 'clickhouse.auth.users.writer.password': 'x' } },
        { withoutTestPasswords: true, set: { 'clickhouse.auth.users.analyst.password': 'x' } },
      ];
      for (const v of variants) {
        const twice = await Promise.all([render(v), render(v)]).catch(() => null);
        if (twice === null) continue;
        expect(find(own(twice[0]), 'Secret', '-clickhouse'), JSON.stringify(v)).toEqual(
          find(own(twice[1]), 'Secret', '-clickhouse'),
        );
      }
      const sa = find(own(await render()), 'Secret', '-clickhouse');
      for (const role of ['migrator', 'writer', 'reader', 'analyst'])
        expect(Buffer.from(sa.data![`${role}-password`]!, 'base64').toString()).toBe(`test-${role}-password`);
    });

    it('without passwords and without existingSecret the render fails, saying how to create the Secret', async () => {
      const err = await renderError({ withoutTestPasswords: true });
      expect(err).toContain('clickhouse.auth: no ClickHouse passwords');
      expect(err).toContain(
        'kubectl -n orderflow create secret generic orderflow-clickhouse --from-literal=migrator-password=',
      );
      expect(err).toContain('clickhouse.auth.existingSecret');
      // Every role's password is needed; the analyst's with the bundled ClickHouse (it creates the analyst).
      const three = {
        'clickhouse.auth.users.migrator.password': 'm',
        'clickhouse.auth.users.writer.password': 'w',
        'clickhouse.auth.users.reader.password': 'r',
      };
      expect(await renderError({ withoutTestPasswords: true, set: three })).toContain(
        'no ClickHouse passwords for clickhouse.auth.users.analyst.password.',
      );
      expect(
        await renderError({
          withoutTestPasswords: true,
          set: { ...three, 'clickhouse.auth.users.reader.password': '' },
        }),
      ).toContain(
        'no ClickHouse passwords for clickhouse.auth.users.reader.password, clickhouse.auth.users.analyst.password.',
      );
      await render({
        withoutTestPasswords: true,
        set: { ...three, 'clickhouse.bundled.enabled': false, 'clickhouse.url': 'http://ch:8123' },
      });
    });

    it('existingSecret: every reference names it and the chart renders no Secret of its own', async () => {
      const ms = own(await render({ withoutTestPasswords: true, set: { 'clickhouse.auth.existingSecret': 'my-ch' } }));
      expect(ms.filter((m) => m.kind === 'Secret' && m.metadata.name.includes('clickhouse'))).toEqual([]);
      const refs = containers(ms).flatMap(({ container }) =>
        (container.env ?? []).filter((e: any) => /CLICKHOUSE.*PASSWORD/.test(e.name)),
      );
      expect(refs.length).toBeGreaterThanOrEqual(4);
      for (const e of refs) expect(e.valueFrom.secretKeyRef.name, e.name).toBe('my-ch');
    });
  });

  it('long-polling allowed: sticky sessions on the Service and the Ingress; a chart-made token Secret', () => {
    const ms = own(renders['every option on']!);
    expect(find(ms, 'Service', '-gateway').spec.sessionAffinity).toBe('ClientIP');
    expect(find(ms, 'Ingress', '-gateway').metadata.annotations!['nginx.ingress.kubernetes.io/affinity']).toBe(
      'cookie',
    );
    expect(envOf(find(ms, 'Deployment', '-gateway').spec.template.spec.containers[0]).GATEWAY_AUTH_TOKEN).toBe(
      'secret:orderflow-gateway-auth/token',
    );
    const sim = find(ms, 'Deployment', '-collector-sim-okx');
    expect(envOf(sim.spec.template.spec.containers[0])).toMatchObject({
      COLLECTOR_WS_URL: 'ws://sim:9105/ws/v5/business',
      COLLECTOR_INSTRUMENTS: 'BTC-USDT:0.1:0.00000001',
    });
    const binance = envOf(find(ms, 'Deployment', '-collector-binance').spec.template.spec.containers[0]);
    expect(binance).toMatchObject({ COLLECTOR_BACKFILL_MINUTES: '30', PUBLISH_MAX_BATCH_TRADES: '250' });
    expect(binance.COLLECTOR_WS_URL).toBeUndefined();
    expect(ms.filter((m) => m.kind === 'ServiceMonitor')).toHaveLength(4);
  });

  it('an external NATS and ClickHouse: their URLs, egress to them only', async () => {
    const ms = own(
      await render({
        set: {
          'nats.enabled': false,
          'externalNats.url': 'nats://nats.messaging:4222',
          'clickhouse.bundled.enabled': false,
          'clickhouse.url': 'https://ch.example.com:8443',
        },
      }),
    );
    const env = envOf(find(ms, 'StatefulSet', '-aggregator').spec.template.spec.containers[0]);
    expect(env).toMatchObject({
      NATS_URL: 'nats://nats.messaging:4222',
      CLICKHOUSE_URL: 'https://ch.example.com:8443',
    });
    const agg = find(ms, 'NetworkPolicy', '-aggregator');
    expect(agg.spec.egress.map((r: any) => r.ports.map((p: any) => p.port)).sort()).toEqual([[4222], [8443]]);
    expect(find(ms, 'Job', '-migrations').metadata.annotations!['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(ms.some((m) => m.metadata.name.endsWith('-nats'))).toBe(false);
    expect(await validateManifests(ms)).toEqual([]);
  });

  it('an external NATS cluster: its comma-separated URLs reach every service unchanged, egress to each port', async () => {
    const url = 'nats://nats-0.messaging:4222, nats://nats-1.messaging:4222,tls://nats-2.messaging:4223';
    const ms = own(await render({ values: { nats: { enabled: false }, externalNats: { url } } }));
    const withNats = containers(ms).filter((c) => envOf(c.container).NATS_URL !== undefined);
    expect(withNats.length).toBeGreaterThanOrEqual(3);
    for (const { owner, container } of withNats) expect(envOf(container).NATS_URL, owner.metadata.name).toBe(url);
    for (const component of ['collector', 'aggregator', 'gateway']) {
      const egress = find(ms, 'NetworkPolicy', `-${component}`).spec.egress;
      expect(
        egress[0].ports.map((p: any) => p.port),
        component,
      ).toEqual([4222, 4223]);
    }
    expect(await validateManifests(ms)).toEqual([]);
  });

  it('shard count: replicas and AGG_SHARDS follow aggregator.shards everywhere; migrations off -> the aggregator migrates', async () => {
    const ms = own(await render({ set: { 'aggregator.shards': 7, 'clickhouse.migrations.enabled': false } }));
    const sts = find(ms, 'StatefulSet', '-aggregator');
    expect(sts.spec.replicas).toBe(7);
    expect(envOf(sts.spec.template.spec.containers[0])).toMatchObject({ AGG_SHARDS: '7', AGG_MIGRATE: '1' });
    expect(envOf(find(ms, 'Deployment', '-gateway').spec.template.spec.containers[0]).AGG_SHARDS).toBe('7');
    expect(ms.some((m) => m.kind === 'Job')).toBe(false);
  });

  it('rejects values that would break the platform, naming the problem', async () => {
    const twice = {
      collector: {
        exchanges: [
          { id: 'binance', symbols: ['BTCUSDT'] },
          { id: 'binance', symbols: ['ETHUSDT'] },
        ],
      },
    };
    const sim = { collector: { exchanges: [{ id: 'sim-binance', symbols: ['BTCUSDT'] }] } };
    const values: [Record<string, unknown>, RegExp][] = [
      [twice, /listed twice/],
      [sim, /needs wsUrl and restUrl/],
      [
        { collector: { exchanges: [{ id: 'binance', symbols: ['BTCUSDT'], env: { COLLECTOR_EXCHANGE: 'okx' } }] } },
        /COLLECTOR_EXCHANGE/,
      ],
      [{ collector: { exchanges: [{ id: 'binance', symbols: [] }] } }, /symbols/],
    ];
    const cases: [Record<string, string | number | boolean>, RegExp][] = [
      [{ 'aggregator.shards': 0 }, /aggregator\.shards/],
      [{ 'aggregator.shards': 1025 }, /aggregator\.shards/],
      [{ 'collector.exchanges[0].id': 'kraken' }, /collector\.exchanges\.0\.id/],
      [{ 'collector.exchanges[0].symbols[0]': 'BTC/USDT' }, /symbols/],
      [{ 'aggregator.env.AGG_SHARD_INDEX': '1' }, /AGG_SHARD_INDEX/],
      [{ 'gateway.env.AGG_SHARDS': '3' }, /AGG_SHARDS/],
      [{ 'clickhouse.bundled.enabled': false }, /clickhouse/],
      [{ 'nats.enabled': false }, /externalNats\.url is required/],
      [{ 'image.tag': 'latest' }, /image\.tag/],
      [{ 'jetstream.trades.replicas': 2 }, /replicas/],
      // Three copies need three servers.
      [
        { 'nats.config.cluster.enabled': false },
        /jetstream\.trades\.replicas \(3\) is more than the bundled NATS servers \(1\)/,
      ],
      [
        { 'nats.config.cluster.replicas': 1, 'jetstream.trades.replicas': 5 },
        /jetstream\.trades\.replicas \(5\) is more than the bundled NATS servers \(1\)/,
      ],
      [{ 'nats.enabled': false, 'externalNats.url': 'http://nats:4222' }, /externalNats\.url/],
      [{ 'containerSecurityContext.readOnlyRootFilesystem': false }, /readOnlyRootFilesystem/],
      [{ 'collector.resources.limits': null as unknown as string }, /limits|memory/],
      [{ 'gateway.nosuchkey': 1 }, /nosuchkey|additional/i],
    ];
    const errors = await Promise.all(cases.map(([set]) => renderError({ set })));
    errors.forEach((err, i) => expect(err, JSON.stringify(cases[i]![0])).toMatch(cases[i]![1]));
    values.push([
      { nats: { enabled: false }, externalNats: { url: 'nats://a:4222,,nats://b:4222' } },
      /externalNats\.url/,
    ]);
    const valueErrors = await Promise.all(values.map(([v]) => renderError({ values: v })));
    valueErrors.forEach((err, i) => expect(err, JSON.stringify(values[i]![0])).toMatch(values[i]![1]));
  });

  it(`runs the ClickHouse line the suites test (${TESTED_CLICKHOUSE_LINE}): the bundled default and k8s/clickhouse`, () => {
    const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));
    expect(values.clickhouse.bundled.image).toMatchObject({
      repository: 'clickhouse/clickhouse-server',
      tag: TESTED_CLICKHOUSE_LINE,
    });
    const images = ['clickhouse/clickhouse-installation.yaml', 'clickhouse/clickhouse-keeper.yaml'].flatMap((f) =>
      parseAllDocuments(readFileSync(join(REPO_ROOT, 'k8s', f), 'utf8')).flatMap((d) =>
        (d.toJS()?.spec?.templates?.podTemplates ?? []).flatMap((t: any) =>
          t.spec.containers.map((c: any) => c.image as string),
        ),
      ),
    );
    expect(images.length).toBe(2);
    for (const image of images)
      expect(image).toMatch(
        new RegExp(`^clickhouse/clickhouse-(server|keeper):${TESTED_CLICKHOUSE_LINE.replace('.', '\\.')}(\\.|$)`),
      );
  });

  it(
    `the tested line is the one chdb embeds (${existsSync(CHDB_LOCK) ? 'scripts/chdb/package-lock.json' : 'scripts/chdb/package-lock.json absent: skipped'})`,
    { skip: !existsSync(CHDB_LOCK), meta: { skipReason: `${CHDB_LOCK} is missing (npm test installs chdb there)` } },
    () => {
      const lock = JSON.parse(readFileSync(CHDB_LOCK, 'utf8'));
      // chdb's native library is versioned by the ClickHouse it embeds (26.7.3-stable.1).
      const libs = Object.entries(lock.packages as Record<string, { version: string }>).filter(([k]) =>
        /node_modules\/@chdb\/lib-/.test(k),
      );
      expect(libs.length).toBeGreaterThan(0);
      for (const [k, { version }] of libs)
        expect(version.split('.').slice(0, 2).join('.'), k).toBe(TESTED_CLICKHOUSE_LINE);
    },
  );

  it('NOTES.txt: the NATS URLs, the ClickHouse image and the tested versions, honestly', async () => {
    const text = notes(renders['default values']!);
    const gwEnv = envOf(
      find(own(renders['default values']!), 'Deployment', '-gateway').spec.template.spec.containers[0],
    );
    expect(text).toContain(`NATS: ${gwEnv.NATS_URL}`);
    expect(text).toContain('3 server(s), TRADES stream replicas 3');
    expect(text).toContain(`image clickhouse/clickhouse-server:${TESTED_CLICKHOUSE_LINE}`);
    expect(text).not.toContain('not the tested');
    const tested = text.slice(text.indexOf('Tested versions:')).replace(/\s+/g, ' ');
    for (const v of [
      'ClickHouse 26.7 (chdb 3.4.0)',
      'ClickHouse 18.16',
      'nats-server 2.9.10',
      `NATS chart ${NATS_CHART_VERSION}`,
      'do not install it on a cluster',
    ])
      expect(tested).toContain(v);
    const production = notes(renders['values-production.yaml']!);
    expect(production).toContain('ClickHouse: http://clickhouse-orderflow.clickhouse.svc:8123');
    expect(production).not.toContain('image clickhouse/');
    const old = notes(await render({ set: { 'clickhouse.bundled.image.tag': '25.8' } }));
    expect(old).toContain('image clickhouse/clickhouse-server:25.8');
    expect(old).toContain('(not the tested 26.7 line)');
  });

  it('accepts every exchange id of libs/contracts, and only those (plus sim-)', async () => {
    expect(REAL_EXCHANGES.length).toBeGreaterThanOrEqual(5);
    const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8'));
    const pattern = new RegExp(schema.definitions.exchange.properties.id.pattern);
    for (const id of REAL_EXCHANGES) {
      expect(pattern.test(id), id).toBe(true);
      expect(pattern.test(`sim-${id}`), `sim-${id}`).toBe(true);
    }
    expect(pattern.test('kraken')).toBe(false);
    const ms = own(
      await render({
        values: { collector: { exchanges: REAL_EXCHANGES.map((id) => ({ id, symbols: ['BTCUSDT'] })) } },
      }),
    );
    expect(ms.filter((m) => m.kind === 'Deployment' && m.metadata.name.includes('-collector-'))).toHaveLength(
      REAL_EXCHANGES.length,
    );
  });
});
