/* eslint-disable @typescript-eslint/no-explicit-any */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART_DIR, PRODUCTION_VALUES, REPO_ROOT, chartForRendering, containers, envOf, find, helm, podSpecs, render, renderError, type Manifest } from './helm.js';
import { schemaSource, validateManifests } from './k8s-validate.js';

const STANDIN_LABEL = 'orderflow.io/test-stand-in';
/** The chart's own objects (not the NATS subchart's, nor the stand-in's values probe). */
const own = (ms: Manifest[]) => ms.filter((m) => !m.source.includes('/charts/') && !m.metadata.labels?.[STANDIN_LABEL]);
/** Values the NATS subchart received (from the stand-in's probe). */
function natsValues(ms: Manifest[]): any {
  const probe = ms.find((m) => m.metadata.labels?.[STANDIN_LABEL] === 'nats');
  return probe ? JSON.parse(probe.data!['values.json']!) : undefined;
}

const REAL_EXCHANGES = (() => {
  const src = readFileSync(join(REPO_ROOT, 'libs/contracts/src/exchanges.ts'), 'utf8');
  const block = /const REAL[^=]*=\s*\[([\s\S]*?)\];/.exec(src)![1]!;
  return [...block.matchAll(/id:\s*'([^']+)'/g)].map((m) => m[1]!);
})();

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
          'gateway.auth.token': 's3cret',
        },
        values: {
          collector: {
            exchanges: [
              { id: 'binance', symbols: ['BTCUSDT'], backfillMinutes: 30, env: { PUBLISH_MAX_BATCH_TRADES: 250 } },
              { id: 'sim-okx', symbols: ['BTC-USDT'], wsUrl: 'ws://sim:9105/ws/v5/business', restUrl: 'http://sim:9105', instruments: ['BTC-USDT:0.1:0.00000001'] },
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
    for (const args of [[], ['--values', PRODUCTION_VALUES]]) {
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
          expect((container.volumeMounts ?? []).some((v: any) => v.mountPath === '/tmp'), `${what}: /tmp`).toBe(true);
        }
      });

      it('runs one collector per exchange, configured for pods', () => {
        const values = name === 'values-production.yaml' ? parse(readFileSync(PRODUCTION_VALUES, 'utf8')) : parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));
        const collectors = ms().filter((m) => m.kind === 'Deployment' && m.metadata.labels?.['app.kubernetes.io/component'] === 'collector');
        if (name !== 'every option on') expect(collectors.map((c) => envOf(c.spec.template.spec.containers[0]).COLLECTOR_EXCHANGE)).toEqual(values.collector.exchanges.map((e: any) => e.id));
        for (const c of collectors) {
          const env = envOf(c.spec.template.spec.containers[0]);
          expect(c.spec.replicas).toBe(1);
          expect(c.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
          expect(env.COLLECTOR_SYMBOLS).toMatch(/^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$/);
          expect(env.COLLECTOR_HTTP_HOST).toBe('0.0.0.0');
          expect(env.COLLECTOR_HTTP_PORT).toBe('9300');
          expect(env.NATS_URL).toMatch(/^nats:\/\//);
          for (const k of ['TRADES_MAX_AGE_HOURS', 'TRADES_MAX_GIB', 'TRADES_DUPLICATE_WINDOW_SECONDS', 'TRADES_REPLICAS']) expect(env[k], k).toMatch(/^\d+$/);
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
        expect(env.CLICKHOUSE_PASSWORD).toMatch(/^secret:/);
        expect(env.CLICKHOUSE_DATABASE).toBe('orderflow');
      });

      it('runs the migrations as a hook Job before the apps, with the apps not migrating', () => {
        const job = find(ms(), 'Job', '-migrations');
        const hooks = job.metadata.annotations!['helm.sh/hook']!.split(',');
        expect(hooks).toContain('pre-upgrade');
        expect(hooks.some((h) => h === 'pre-install' || h === 'post-install')).toBe(true);
        expect(job.metadata.annotations!['helm.sh/hook-delete-policy']).toContain('before-hook-creation');
        const c = job.spec.template.spec.containers[0];
        expect([c.workingDir, ...c.command]).toEqual(['/app', 'node', 'apps/aggregator/dist/migrate.main.js']);
        const jobEnv = envOf(c);
        const aggEnv = envOf(find(ms(), 'StatefulSet', '-aggregator').spec.template.spec.containers[0]);
        for (const k of ['CLICKHOUSE_URL', 'CLICKHOUSE_USER', 'CLICKHOUSE_PASSWORD', 'CLICKHOUSE_DATABASE']) expect(jobEnv[k], k).toBe(aggEnv[k]);
        expect(aggEnv.AGG_MIGRATE).toBe('0');
        expect(job.spec.template.spec.restartPolicy).toBe('Never');
        // The Secret the hook reads exists before it: a lower-weight hook, or a Secret of the operator's.
        const secret = ms().find((m) => m.kind === 'Secret' && m.metadata.name === jobEnv.CLICKHOUSE_PASSWORD!.slice(7).split('/')[0]);
        if (secret) {
          expect(secret.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
          expect(Number(secret.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(Number(job.metadata.annotations!['helm.sh/hook-weight']));
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
          for (const [k, v] of Object.entries(deny.spec.podSelector.matchLabels)) expect(labels[k], owner.metadata.name).toBe(v);
        }
        // Ingress open to any source (no `from`, or an ipBlock) only on the gateway.
        for (const np of nps) {
          for (const rule of np.spec.ingress ?? []) {
            const open = !rule.from || rule.from.some((p: any) => p.ipBlock);
            if (open) expect(np.spec.podSelector.matchLabels['app.kubernetes.io/component'], np.metadata.name).toBe('gateway');
          }
        }
        // Egress to ClickHouse only from the aggregator, the gateway and the migration Job.
        const values = name === 'values-production.yaml' ? parse(readFileSync(PRODUCTION_VALUES, 'utf8')) : {};
        const chPort = values.clickhouse?.url ? Number(new URL(values.clickhouse.url).port) : 8123;
        const toClickhouse = nps.filter((np) => (np.spec.egress ?? []).some((r: any) => (r.ports ?? []).some((p: any) => p.port === chPort)));
        expect(toClickhouse.map((np) => np.spec.podSelector.matchLabels['app.kubernetes.io/component']).sort()).toEqual(['aggregator', 'gateway', 'migrations']);
        const chPolicy = nps.find((n) => n.metadata.name.endsWith('-clickhouse'));
        if (chPolicy) {
          const http = chPolicy.spec.ingress.find((r: any) => r.ports.some((p: any) => p.port === 'http'));
          expect(http.from.map((p: any) => p.podSelector.matchLabels['app.kubernetes.io/component']).sort()).toEqual(['aggregator', 'gateway', 'migrations']);
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
        expect(env).toMatchObject({ GATEWAY_HOST: '0.0.0.0', GATEWAY_PORT: '8080', GATEWAY_STATIC_DIR: '/app/dashboard' });
        expect(env.GATEWAY_SOCKET_POLLING).toBe(name === 'every option on' ? '1' : '0');
        expect(find(ms(), 'Service', '-gateway').spec.ports[0]).toMatchObject({ targetPort: 'http' });
        const hpa = find(ms(), 'HorizontalPodAutoscaler', '-gateway');
        expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: gw.metadata.name });
        expect(gw.spec.replicas).toBeUndefined(); // the HPA owns it
        expect(find(ms(), 'PodDisruptionBudget', '-gateway').spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
      });
    });
  }

  it('production: a JetStream cluster of 3, fsync on every write, stream replicas 3', () => {
    const ms = renders['values-production.yaml']!;
    const values = parse(readFileSync(PRODUCTION_VALUES, 'utf8'));
    expect(values.nats.enabled).toBe(true);
    expect(values.nats.config.cluster).toMatchObject({ enabled: true, replicas: 3 });
    expect(values.nats.config.jetstream).toMatchObject({ enabled: true, fileStore: { enabled: true }, merge: { sync_interval: 'always' } });
    expect(values.jetstream.trades.replicas).toBe(3);
    // What the subchart receives (the stand-in's probe; with the real chart fetched, its config).
    const received = natsValues(ms);
    if (chartForRendering().natsIsStandIn) {
      expect(received.config.jetstream.merge.sync_interval).toBe('always');
      expect(received.config.cluster.replicas).toBe(3);
    } else {
      // The real chart was fetched (helm dependency update): its server configuration and StatefulSet.
      const conf = ms.filter((m) => m.source.includes('/charts/nats/') && m.kind === 'ConfigMap').map((m) => Object.values(m.data ?? {}).join('\n')).join('\n');
      expect(conf).toMatch(/sync_interval:\s*"?always"?/);
      expect(ms.find((m) => m.source.includes('/charts/nats/') && m.kind === 'StatefulSet')!.spec.replicas).toBe(3);
    }
    for (const c of containers(own(ms)).filter((x) => x.container.name === 'collector')) expect(envOf(c.container).TRADES_REPLICAS).toBe('3');
    // The default (single server) keeps sync_interval: always too.
    const defaults = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));
    expect(defaults.nats.config.jetstream.merge.sync_interval).toBe('always');
    expect(defaults.jetstream.trades.replicas).toBe(1);
  });

  it('production: external ClickHouse from an existing Secret, ingress with TLS, ServiceMonitors', () => {
    const ms = own(renders['values-production.yaml']!);
    expect(ms.some((m) => m.kind === 'StatefulSet' && m.metadata.name.endsWith('-clickhouse'))).toBe(false);
    expect(ms.filter((m) => m.kind === 'Secret')).toEqual([]);
    const ing = find(ms, 'Ingress', '-gateway');
    expect(ing.spec.tls[0].secretName).toBe('orderflow-tls');
    expect(ing.metadata.annotations!['nginx.ingress.kubernetes.io/proxy-read-timeout']).toBe('3600');
    expect(ing.metadata.annotations!['nginx.ingress.kubernetes.io/affinity']).toBeUndefined();
    expect(ms.filter((m) => m.kind === 'ServiceMonitor').map((m) => m.metadata.name.replace(/^orderflow-/, '')).sort()).toEqual(['aggregator', 'collector', 'gateway']);
    expect(find(ms, 'Job', '-migrations').metadata.annotations!['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(envOf(find(ms, 'Deployment', '-gateway').spec.template.spec.containers[0]).GATEWAY_AUTH_TOKEN).toBe('secret:orderflow-gateway/token');
  });

  it('defaults: bundled NATS and ClickHouse; the first-install migration runs after ClickHouse exists', () => {
    const ms = own(renders['default values']!);
    const ch = find(ms, 'StatefulSet', '-clickhouse');
    expect(ch.spec.template.spec.securityContext.runAsUser).toBe(101);
    const users = find(ms, 'ConfigMap', '-clickhouse-config').data!['orderflow-users.xml']!;
    expect(users).toMatch(/<analyst>[\s\S]*<readonly>2<\/readonly>/);
    expect(users).toMatch(/<password from_env="CLICKHOUSE_ANALYST_PASSWORD"\/>/);
    expect(users).not.toMatch(/<password>[^<]+<\/password>/);
    expect(find(ms, 'Job', '-migrations').metadata.annotations!['helm.sh/hook']).toBe('post-install,pre-upgrade');
    expect(envOf(find(ms, 'Deployment', '-gateway').spec.template.spec.containers[0]).NATS_URL).toBe('nats://orderflow-nats.orderflow.svc:4222');
    expect(ms.some((m) => m.kind === 'ServiceMonitor' || m.kind === 'Ingress')).toBe(false);
    expect(find(ms, 'Secret', '-clickhouse').data).toHaveProperty('analyst-password');
  });

  it('long-polling allowed: sticky sessions on the Service and the Ingress; a chart-made token Secret', () => {
    const ms = own(renders['every option on']!);
    expect(find(ms, 'Service', '-gateway').spec.sessionAffinity).toBe('ClientIP');
    expect(find(ms, 'Ingress', '-gateway').metadata.annotations!['nginx.ingress.kubernetes.io/affinity']).toBe('cookie');
    expect(envOf(find(ms, 'Deployment', '-gateway').spec.template.spec.containers[0]).GATEWAY_AUTH_TOKEN).toBe('secret:orderflow-gateway-auth/token');
    const sim = find(ms, 'Deployment', '-collector-sim-okx');
    expect(envOf(sim.spec.template.spec.containers[0])).toMatchObject({ COLLECTOR_WS_URL: 'ws://sim:9105/ws/v5/business', COLLECTOR_INSTRUMENTS: 'BTC-USDT:0.1:0.00000001' });
    const binance = envOf(find(ms, 'Deployment', '-collector-binance').spec.template.spec.containers[0]);
    expect(binance).toMatchObject({ COLLECTOR_BACKFILL_MINUTES: '30', PUBLISH_MAX_BATCH_TRADES: '250' });
    expect(binance.COLLECTOR_WS_URL).toBeUndefined();
    expect(ms.filter((m) => m.kind === 'ServiceMonitor')).toHaveLength(4);
  });

  it('an external NATS and ClickHouse: their URLs, egress to them only', async () => {
    const ms = own(
      await render({
        set: { 'nats.enabled': false, 'externalNats.url': 'nats://nats.messaging:4222', 'clickhouse.bundled.enabled': false, 'clickhouse.url': 'https://ch.example.com:8443' },
      }),
    );
    const env = envOf(find(ms, 'StatefulSet', '-aggregator').spec.template.spec.containers[0]);
    expect(env).toMatchObject({ NATS_URL: 'nats://nats.messaging:4222', CLICKHOUSE_URL: 'https://ch.example.com:8443' });
    const agg = find(ms, 'NetworkPolicy', '-aggregator');
    expect(agg.spec.egress.map((r: any) => r.ports[0].port).sort()).toEqual([4222, 8443]);
    expect(find(ms, 'Job', '-migrations').metadata.annotations!['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(ms.some((m) => m.metadata.name.endsWith('-nats'))).toBe(false);
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
    const twice = { collector: { exchanges: [{ id: 'binance', symbols: ['BTCUSDT'] }, { id: 'binance', symbols: ['ETHUSDT'] }] } };
    const sim = { collector: { exchanges: [{ id: 'sim-binance', symbols: ['BTCUSDT'] }] } };
    const values: [Record<string, unknown>, RegExp][] = [
      [twice, /listed twice/],
      [sim, /needs wsUrl and restUrl/],
      [{ collector: { exchanges: [{ id: 'binance', symbols: ['BTCUSDT'], env: { COLLECTOR_EXCHANGE: 'okx' } }] } }, /COLLECTOR_EXCHANGE/],
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
      [{ 'containerSecurityContext.readOnlyRootFilesystem': false }, /readOnlyRootFilesystem/],
      [{ 'collector.resources.limits': null as unknown as string }, /limits|memory/],
      [{ 'gateway.nosuchkey': 1 }, /nosuchkey|additional/i],
    ];
    const errors = await Promise.all(cases.map(([set]) => renderError({ set })));
    errors.forEach((err, i) => expect(err, JSON.stringify(cases[i]![0])).toMatch(cases[i]![1]));
    const valueErrors = await Promise.all(values.map(([v]) => renderError({ values: v })));
    valueErrors.forEach((err, i) => expect(err, JSON.stringify(values[i]![0])).toMatch(values[i]![1]));
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
    const ms = own(await render({ values: { collector: { exchanges: REAL_EXCHANGES.map((id) => ({ id, symbols: ['BTCUSDT'] })) } } }));
    expect(ms.filter((m) => m.kind === 'Deployment' && m.metadata.name.includes('-collector-'))).toHaveLength(REAL_EXCHANGES.length);
  });
});
