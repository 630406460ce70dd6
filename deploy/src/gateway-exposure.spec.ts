/**
 * The gateway's exposure in the chart: an Ingress only with the gateway's token
 * (the values schema, and the template for renders that skip the schema), TLS with HSTS at the
 * Ingress, /metrics and /status on a "metrics" port that the ServiceMonitor scrapes, the
 * NetworkPolicy opens to metricsFrom only and the Ingress never routes; the HTTP API's fair-use
 * limits and the trusted proxy in the gateway's environment.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Manifest,
  chartForRendering,
  find,
  helm,
  removeChartCopy,
  render,
  renderError,
  testPasswordArgs,
} from './helm.js';

afterAll(removeChartCopy);

const TOKEN = 'a-token-of-thirty-two-characters';
const INGRESS = { 'gateway.ingress.enabled': true, 'gateway.ingress.tlsSecretName': 'orderflow-tls' };

function env(m: Manifest): Record<string, unknown> {
  return Object.fromEntries(
    (m.spec.template.spec.containers[0].env as { name: string; value?: string; valueFrom?: unknown }[]).map((e) => [
      e.name,
      e.value ?? e.valueFrom,
    ]),
  );
}

describe('chart: the gateway exposed through an Ingress', () => {
  it('without a token the render fails on the values schema (if ingress.enabled then auth.existingSecret or auth.token)', async () => {
    const schemaRefusal = (err: string) => {
      expect(err).toContain("values don't meet the specifications of the schema");
      expect(err).toContain('- gateway: Must validate "then" as "if" was valid');
      expect(err).toContain('- gateway.auth: Must validate at least one schema (anyOf)');
    };
    schemaRefusal(await renderError({ set: INGRESS }));
    // an empty token or Secret name is none
    schemaRefusal(
      await renderError({ set: { ...INGRESS, 'gateway.auth.token': '', 'gateway.auth.existingSecret': '' } }),
    );
    // a token the gateway would refuse at start (16-256 printable characters)
    expect(await renderError({ set: { ...INGRESS, 'gateway.auth.token': 'short' } })).toContain(
      '- gateway.auth.token: Does not match pattern',
    );
  });

  it('without a token the template itself fails when the schema is skipped, saying how to create the Secret', async () => {
    const args = [
      'template',
      'orderflow',
      chartForRendering().dir,
      '--namespace',
      'orderflow',
      ...testPasswordArgs(),
      '--skip-schema-validation',
    ];
    for (const [k, v] of Object.entries(INGRESS)) args.push('--set', `${k}=${v}`);
    const r = await helm(args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'gateway.ingress.enabled exposes the gateway outside the cluster, so it needs its token',
    );
    expect(r.stderr).toContain(
      'kubectl -n orderflow create secret generic orderflow-gateway-auth --from-literal=token=',
    );
  });

  it('HSTS needs TLS at the Ingress: without tlsSecretName the render fails, unless hsts is turned off', async () => {
    const noTls = { 'gateway.ingress.enabled': true, 'gateway.auth.token': TOKEN };
    expect(await renderError({ set: noTls })).toContain(
      'gateway.ingress.hsts.enabled needs TLS at the Ingress: set gateway.ingress.tlsSecretName',
    );
    const ing = find(await render({ set: { ...noTls, 'gateway.ingress.hsts.enabled': false } }), 'Ingress', '-gateway');
    expect(ing.spec.tls).toBeUndefined();
    expect(ing.metadata.annotations!['nginx.ingress.kubernetes.io/force-ssl-redirect']).toBeUndefined();
  });

  describe('with a token', () => {
    let ms: Manifest[];
    it('renders: the Ingress routes only the "http" port, over TLS with HTTPS forced', async () => {
      ms = await render({ set: { ...INGRESS, 'gateway.auth.token': TOKEN, 'serviceMonitor.enabled': true } });
      const ing = find(ms, 'Ingress', '-gateway');
      const backends = (
        ing.spec.rules as {
          http: {
            paths: { path: string; backend: { service: { name: string; port: { name?: string; number?: number } } } }[];
          };
        }[]
      ).flatMap((r) => r.http.paths.map((p) => p.backend.service));
      expect(backends).toEqual([{ name: 'orderflow-gateway', port: { name: 'http' } }]);
      expect(ing.spec.tls).toEqual([{ hosts: ['orderflow.example.com'], secretName: 'orderflow-tls' }]);
      expect(ing.metadata.annotations).toMatchObject({
        'nginx.ingress.kubernetes.io/ssl-redirect': 'true',
        'nginx.ingress.kubernetes.io/force-ssl-redirect': 'true',
      });
      // the header itself comes from the controller's ConfigMap unless a snippet is asked for
      expect(ing.metadata.annotations!['nginx.ingress.kubernetes.io/configuration-snippet']).toBeUndefined();
      expect(env(find(ms, 'Deployment', '-gateway')).GATEWAY_AUTH_TOKEN).toEqual({
        secretKeyRef: { name: 'orderflow-gateway-auth', key: 'token' },
      });
    });

    it('serves /metrics on the "metrics" port of the Pod and the Service, which the ServiceMonitor scrapes', () => {
      const dep = find(ms, 'Deployment', '-gateway');
      const c = dep.spec.template.spec.containers[0];
      expect(c.ports).toEqual([
        { name: 'http', containerPort: 8080, protocol: 'TCP' },
        { name: 'metrics', containerPort: 9600, protocol: 'TCP' },
      ]);
      expect(env(dep)).toMatchObject({
        GATEWAY_PORT: '8080',
        GATEWAY_METRICS_HOST: '0.0.0.0',
        GATEWAY_METRICS_PORT: '9600',
      });
      // the probes stay on the public port, which keeps /health/*
      expect(c.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      const svc = find(ms, 'Service', '-gateway');
      expect(svc.spec.ports.map((p: { name: string; targetPort: string }) => [p.name, p.targetPort])).toEqual([
        ['http', 'http'],
        ['metrics', 'metrics'],
      ]);
      const sm = find(ms, 'ServiceMonitor', '-gateway');
      expect(sm.spec.endpoints.map((e: { port: string; path: string }) => [e.port, e.path])).toEqual([
        ['metrics', '/metrics'],
      ]);
    });

    it('the NetworkPolicy opens "http" to clients and "metrics" to metricsFrom only', () => {
      const np = find(ms, 'NetworkPolicy', '-gateway');
      const rules = np.spec.ingress as { ports: { port: string }[]; from?: unknown[] }[];
      expect(rules.map((r) => [r.ports.map((p) => p.port), r.from ?? 'anywhere'])).toEqual([
        [['http'], 'anywhere'],
        [['metrics'], [{ namespaceSelector: {} }]],
      ]);
    });

    it('sets the fair-use limits, and trusts X-Forwarded-For of one proxy hop (the Ingress controller)', () => {
      expect(env(find(ms, 'Deployment', '-gateway'))).toMatchObject({
        GATEWAY_HTTP_MAX_CONCURRENT_PER_CLIENT: '4',
        GATEWAY_HTTP_RATE_PER_MINUTE: '120',
        GATEWAY_HTTP_BURST: '30',
        GATEWAY_HTTP_MAX_CONCURRENT: '16',
        GATEWAY_TRUST_PROXY: '1',
      });
    });
  });

  it('without an Ingress: no token needed, nothing trusted in X-Forwarded-For, metrics still on their own port', async () => {
    const ms = await render();
    expect(ms.some((m) => m.kind === 'Ingress')).toBe(false);
    const e = env(find(ms, 'Deployment', '-gateway'));
    expect(e.GATEWAY_TRUST_PROXY).toBeUndefined();
    expect(e.GATEWAY_AUTH_TOKEN).toBeUndefined();
    expect(e.GATEWAY_METRICS_PORT).toBe('9600');
  });

  it('hsts.snippet sets the header on the Ingress itself, with the values given', async () => {
    const ing = find(
      await render({
        set: {
          ...INGRESS,
          'gateway.auth.existingSecret': 'gw',
          'gateway.ingress.hsts.snippet': true,
          'gateway.ingress.hsts.maxAgeSeconds': 63072000,
        },
      }),
      'Ingress',
      '-gateway',
    );
    expect(ing.metadata.annotations!['nginx.ingress.kubernetes.io/configuration-snippet']!.trim()).toBe(
      'more_set_headers "Strict-Transport-Security: max-age=63072000; includeSubDomains";',
    );
  });
});
