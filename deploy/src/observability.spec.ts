/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The chart's Grafana dashboard (grafana.dashboards) and alert rules (prometheusRule): rendered with
 * helm and validated against their API schemas; the dashboard JSON checked as Grafana reads it; the
 * rules checked and unit-tested with promtool (Debian's prometheus package: scripts/setup.sh
 * installs it for npm test). That every metric name they read is exported by the running services
 * is checked by tests/src/observability.int.spec.ts.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  DEPLOY_DIR,
  chartForRendering,
  helm,
  removeChartCopy,
  render,
  renderError,
  testPasswordArgs,
  type Manifest,
} from './helm.js';
import { validateManifests } from './k8s-validate.js';
import {
  DASHBOARDS_DIR,
  EXTERNAL_METRICS,
  OBSERVABILITY_ON,
  dashboardFiles,
  dashboardQueries,
  metricNames,
  namesUsed,
  panelsOf,
  renderObservability,
  ruleQueries,
} from './observability.js';

const run = promisify(execFile);

/** promtool (Debian's prometheus package), or undefined. */
const PROMTOOL = (() => {
  if (process.env['PROMTOOL_BIN']) return process.env['PROMTOOL_BIN'];
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, 'promtool'), constants.X_OK);
      return join(dir, 'promtool');
    } catch {
      /* keep looking */
    }
  }
  return undefined;
})();
/** npm test's set-up (ORDERFLOW_TEST_SETUP=1) installs promtool: there its absence is a failure, not a skip. */
const PROMTOOL_REQUIRED = process.env['ORDERFLOW_TEST_SETUP'] === '1';

const ALERTS = [
  'OrderflowCollectorDisconnected',
  'OrderflowUnfilledGaps',
  'OrderflowClickHouseWritesFailing',
  'OrderflowConsumerLagGrowing',
  'OrderflowClientUpdateLatencyHigh',
  'OrderflowServiceRestarting',
];

const rulesOf = (rule: Manifest): any[] => rule.spec.groups.flatMap((g: any) => g.rules);
const byAlert = (rule: Manifest): Record<string, any> => Object.fromEntries(rulesOf(rule).map((r) => [r.alert, r]));

const tmp = mkdtempSync(join(tmpdir(), 'orderflow-observability-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  removeChartCopy();
});

describe('Grafana dashboard and alert rules in the chart', () => {
  let on: Awaited<ReturnType<typeof renderObservability>>;
  beforeAll(async () => {
    on = await renderObservability();
  });

  it('are off by default; on, they pass helm lint --strict and validate against the ConfigMap and PrometheusRule schemas', async () => {
    const values = join(tmp, 'on.json');
    writeFileSync(values, JSON.stringify(OBSERVABILITY_ON));
    const lint = await helm(['lint', '--strict', chartForRendering().dir, ...testPasswordArgs(), '--values', values]);
    expect(lint.stdout + lint.stderr).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(lint.code).toBe(0);
    const defaults = await render();
    expect(
      defaults.some((m) => m.kind === 'PrometheusRule' || m.source.endsWith('templates/grafana-dashboards.yaml')),
    ).toBe(false);
    expect(await validateManifests([on.dashboards, on.rule])).toEqual([]);
    expect(on.rule.apiVersion).toBe('monitoring.coreos.com/v1');
  });

  describe('the dashboard ConfigMap', () => {
    it('holds every file of dashboards/ unchanged, labelled for the Grafana sidecar', () => {
      const files = readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json'));
      expect(files.length).toBeGreaterThan(0);
      expect(Object.keys(on.dashboards.data!).sort()).toEqual(files.sort());
      for (const f of files)
        expect(JSON.parse(on.dashboards.data![f]!), f).toEqual(
          JSON.parse(readFileSync(join(DASHBOARDS_DIR, f), 'utf8')),
        );
      expect(on.dashboards.metadata.labels!['grafana_dashboard']).toBe('1');
      expect(on.dashboards.metadata.namespace).toBe('orderflow');
      expect(on.dashboards.metadata.annotations).toBeUndefined();
      // a ConfigMap holds at most 1 MiB
      expect(Buffer.byteLength(JSON.stringify(on.dashboards.data))).toBeLessThan(1024 * 1024);
    });

    it('takes its label, namespace, folder and extra metadata from the values', async () => {
      const { dashboards } = await renderObservability({
        values: {
          grafana: {
            dashboards: {
              label: 'dashboards.example.com/load',
              labelValue: 'yes',
              namespace: 'monitoring',
              folder: 'Trading',
              labels: { team: 'trading' },
              annotations: { note: 'x' },
            },
          },
        },
      });
      expect(dashboards.metadata.labels).toMatchObject({
        'dashboards.example.com/load': 'yes',
        team: 'trading',
        'app.kubernetes.io/instance': 'orderflow',
      });
      expect(dashboards.metadata.labels!['grafana_dashboard']).toBeUndefined();
      expect(dashboards.metadata.namespace).toBe('monitoring');
      expect(dashboards.metadata.annotations).toEqual({ grafana_folder: 'Trading', note: 'x' });
    });
  });

  describe('the dashboard', () => {
    const dashboards = [...dashboardFiles()];

    it.each(dashboards)(
      '%s: a Grafana dashboard with a data source variable, every panel on a Prometheus query, laid out without overlaps',
      (_name, d) => {
        expect(d).toMatchObject({
          uid: expect.stringMatching(/^[a-zA-Z0-9_-]{1,40}$/),
          title: expect.any(String),
          schemaVersion: expect.any(Number),
          panels: expect.any(Array),
        });
        // importable as it is: no __inputs to fill in, the data source picked in the variable
        expect(d.__inputs).toBeUndefined();
        const vars = d.templating.list;
        expect(vars.find((v: any) => v.name === 'datasource')).toMatchObject({
          type: 'datasource',
          query: 'prometheus',
        });
        for (const v of vars.filter((v: any) => v.type === 'query'))
          expect(v.datasource, v.name).toEqual({ type: 'prometheus', uid: '${datasource}' });
        const panels = panelsOf(d) as any[];
        const ids = panels.map((p) => p.id);
        expect(new Set(ids).size).toBe(ids.length);
        const cells = new Set<string>();
        for (const p of panels) {
          const { x, y, w, h } = p.gridPos;
          expect(x >= 0 && w > 0 && h > 0 && x + w <= 24, `${p.title} ${JSON.stringify(p.gridPos)}`).toBe(true);
          for (let i = x; i < x + w; i++)
            for (let j = y; j < y + h; j++) {
              expect(cells.has(`${i},${j}`), `${p.title} overlaps another panel at ${i},${j}`).toBe(false);
              cells.add(`${i},${j}`);
            }
          if (p.type === 'row') continue;
          expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
          expect(p.targets.length, p.title).toBeGreaterThan(0);
          expect(new Set(p.targets.map((t: any) => t.refId)).size, p.title).toBe(p.targets.length);
          for (const t of p.targets) {
            expect(t.datasource, p.title).toEqual(p.datasource);
            expect(t.expr, p.title).toMatch(/\S/);
          }
        }
      },
    );

    it('covers ingest, lag, gaps, ClickHouse writes, clients, update latency, errors and the processes of every service', () => {
      const used = namesUsed(dashboards.flatMap(([, d]) => dashboardQueries(d)));
      const subjects: Record<string, string[]> = {
        ingest: ['collector_trades_total', 'collector_publisher_trades_acked_total', 'aggregator_trades_applied_total'],
        lag: [
          'aggregator_consumer_pending_messages',
          'collector_publisher_buffered_trades',
          'aggregator_pending_trades',
        ],
        gaps: ['collector_gaps_total', 'collector_backfilled_trades_total'],
        'ClickHouse writes': [
          'aggregator_last_flush_seconds',
          'aggregator_flushes_total',
          'aggregator_write_failing_seconds',
        ],
        clients: ['gateway_connected_clients', 'gateway_subscriptions', 'gateway_congested_clients'],
        'update latency': ['gateway_update_delay_seconds_bucket', 'gateway_subscribe_duration_seconds_bucket'],
        errors: [
          'collector_malformed_total',
          'aggregator_rejected_total',
          'gateway_refused_requests_total',
          'gateway_messages_out_total',
        ],
        processes: ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds'],
      };
      for (const [subject, names] of Object.entries(subjects))
        for (const n of names) expect(used.has(n), `${subject}: ${n}`).toBe(true);
      for (const service of ['collector_', 'aggregator_', 'gateway_'])
        expect([...used.keys()].filter((n) => n.startsWith(service)).length, service).toBeGreaterThanOrEqual(5);
    });
  });

  describe('the PrometheusRule', () => {
    it('has the alerts deploy/README.md says to watch for, each with a severity, a summary and a description', () => {
      const rules = rulesOf(on.rule);
      expect(rules.map((r) => r.alert)).toEqual(ALERTS);
      for (const r of rules) {
        expect(r.labels.severity, r.alert).toMatch(/^(critical|warning)$/);
        expect(r.annotations.summary, r.alert).toMatch(/\S/);
        expect(r.annotations.description, r.alert).toMatch(/\S/);
      }
      const readme = readFileSync(join(DEPLOY_DIR, 'README.md'), 'utf8');
      for (const a of ALERTS) expect(readme, a).toContain(a);
    });

    it('selects the release namespace by default, the pods of the release for restarts; other values change every threshold', async () => {
      const a = byAlert(on.rule);
      expect(a.OrderflowCollectorDisconnected.expr).toBe(
        'max by (namespace, pod, exchange) (collector_connected{namespace="orderflow"}) == 0',
      );
      expect(a.OrderflowCollectorDisconnected.for).toBe('1m');
      expect(a.OrderflowServiceRestarting.expr).toContain(
        'kube_pod_container_status_restarts_total{namespace="orderflow",pod=~"(orderflow|orderflow-nats)-.+"}[15m]',
      );
      const names = new Set(ruleQueries(on.rule).flatMap((q) => metricNames(q.expr)));
      expect([...names].filter((n) => EXTERNAL_METRICS[n])).toEqual(['kube_pod_container_status_restarts_total']);

      const { rule } = await renderObservability({
        release: 'prod',
        namespace: 'markets',
        values: {
          prometheusRule: {
            labels: { release: 'kube-prometheus-stack' },
            alertLabels: { team: 'trading' },
            selector: 'namespace="markets",job=~"prod-orderflow-.+"',
            alerts: {
              collectorDisconnected: { for: '5m', severity: 'page' },
              unfilledGaps: { window: '1h' },
              clickhouseWritesFailing: { seconds: 300 },
              consumerLagGrowing: { minMessages: 250000, window: '30m', for: '20m' },
              clientUpdateLatency: { quantile: 0.95, seconds: 2, window: '10m', for: '15m' },
              serviceRestarting: { enabled: false },
            },
          },
        },
      });
      expect(rule.metadata.labels!['release']).toBe('kube-prometheus-stack');
      const b = byAlert(rule);
      expect(Object.keys(b)).toEqual(ALERTS.filter((x) => x !== 'OrderflowServiceRestarting'));
      for (const r of Object.values(b)) expect(r.labels.team, r.alert).toBe('trading');
      const sel = '{namespace="markets",job=~"prod-orderflow-.+"}';
      expect(b.OrderflowCollectorDisconnected).toMatchObject({
        expr: `max by (namespace, pod, exchange) (collector_connected${sel}) == 0`,
        for: '5m',
        labels: { severity: 'page' },
      });
      expect(b.OrderflowUnfilledGaps.expr).toContain(
        'collector_gaps_total{status="unfilled",namespace="markets",job=~"prod-orderflow-.+"}[1h]',
      );
      expect(b.OrderflowUnfilledGaps.expr).toContain('offset 1h');
      expect(b.OrderflowClickHouseWritesFailing.expr).toBe(
        `max by (namespace, pod, shard) (aggregator_write_failing_seconds${sel}) > 300`,
      );
      expect(b.OrderflowConsumerLagGrowing.expr).toContain('> 250000');
      expect(b.OrderflowConsumerLagGrowing.expr).toContain(`deriv(aggregator_consumer_pending_messages${sel}[30m])`);
      expect(b.OrderflowConsumerLagGrowing.for).toBe('20m');
      expect(b.OrderflowClientUpdateLatencyHigh.expr).toBe(
        `histogram_quantile(0.95, sum by (namespace, pod, le) (rate(gateway_update_delay_seconds_bucket${sel}[10m]))) > 2`,
      );
      expect(b.OrderflowClientUpdateLatencyHigh.for).toBe('15m');

      // the restart rule follows the release's names: the chart's full name and the NATS chart's
      const prod = byAlert((await renderObservability({ release: 'prod', namespace: 'markets' })).rule);
      expect(prod.OrderflowServiceRestarting.expr).toContain(
        '{namespace="markets",pod=~"(prod-orderflow|prod-nats)-.+"}',
      );
      const external = byAlert(
        (await renderObservability({ values: { nats: { enabled: false }, externalNats: { url: 'nats://nats:4222' } } }))
          .rule,
      );
      expect(external.OrderflowServiceRestarting.expr).toContain('pod=~"(orderflow)-.+"');
    });

    it('rejects bad thresholds and unknown keys, naming them', async () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [
          { prometheusRule: { alerts: { collectorDisconnected: { for: '1 minute' } } } },
          /prometheusRule\.alerts\.collectorDisconnected\.for/,
        ],
        [
          { prometheusRule: { alerts: { clientUpdateLatency: { quantile: 1.5 } } } },
          /prometheusRule\.alerts\.clientUpdateLatency\.quantile/,
        ],
        [
          { prometheusRule: { alerts: { clickhouseWritesFailing: { seconds: 0 } } } },
          /prometheusRule\.alerts\.clickhouseWritesFailing\.seconds/,
        ],
        [
          { prometheusRule: { alerts: { serviceRestarting: { restarts: 0 } } } },
          /prometheusRule\.alerts\.serviceRestarting\.restarts/,
        ],
        [
          { prometheusRule: { alerts: { consumerLagGrowing: { minMessages: -1 } } } },
          /prometheusRule\.alerts\.consumerLagGrowing\.minMessages/,
        ],
        [
          { prometheusRule: { alerts: { unfilledGaps: { severity: 'Page Me' } } } },
          /prometheusRule\.alerts\.unfilledGaps\.severity/,
        ],
        [{ prometheusRule: { alerts: { nosuchAlert: { enabled: true } } } }, /nosuchAlert/],
        [{ prometheusRule: { selector: '{namespace="x"}' } }, /prometheusRule\.selector/],
        [{ grafana: { dashboards: { label: 'not a label!' } } }, /grafana\.dashboards\.label/],
        [{ grafana: { dashboards: { nosuchkey: 1 } } }, /nosuchkey/],
      ];
      const errors = await Promise.all(cases.map(([values]) => renderError({ values })));
      errors.forEach((err, i) => expect(err, JSON.stringify(cases[i]![0])).toMatch(cases[i]![1]));
    });
  });

  it('metricNames reads the metric names of an expression, and only those', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (namespace, le) (rate(gateway_update_delay_seconds_bucket{namespace=~"$namespace", job="a{b}"}[$__rate_interval]))) > 0.5 and on (pod) group_left (exchange) collector_connected offset 5m or vector(1e+06)',
      ),
    ).toEqual(['collector_connected', 'gateway_update_delay_seconds_bucket']);
    expect(metricNames('sum(x:recorded:rate5m) without (le) / ignoring (code) count(y_total) unless z')).toEqual([
      'x:recorded:rate5m',
      'y_total',
      'z',
    ]);
    expect(() => metricNames('{__name__=~"collector_.*"}')).toThrow(/__name__/);
  });
});

/* ---------------------------------------------------------------------------------------------- */
/* promtool                                                                                        */

/** Writes a PrometheusRule's spec as a rule file (the spec's `groups` is Prometheus' rule-file format). */
function ruleFile(rule: Manifest, name: string): string {
  const file = join(tmp, name);
  writeFileSync(file, stringify(rule.spec));
  return file;
}

async function promtool(args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout, stderr } = await run(PROMTOOL!, args, { cwd: tmp, maxBuffer: 16 * 1024 * 1024 });
    return { ok: true, out: stdout + stderr };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? String(e)}` };
  }
}

const NS = 'orderflow';
type Series = { series: string; values: string };
const series = (metric: string, labels: Record<string, string>, values: string): Series => ({
  series: `${metric}{${Object.entries({ namespace: NS, ...labels })
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`,
  values,
});

const UPDATE_BUCKETS = ['0.001', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '5', '+Inf'];

/**
 * Input series for every alert, each with series that must fire and series that must not (minutes
 * on a 1m interval; "a+bxn" is n+1 values from a, step b; "_" a missing sample):
 * - collector c-binance disconnected from 3m to 13m; c-bybit connected; a collector of another
 *   namespace disconnected throughout (outside the selector);
 * - c-okx: 2 unfilled gaps at 1m, restarted in place at 30m (counter back to 0), a new gap at 39m;
 *   c-binance: its first at 45m; c-bybit-new: a new pod at 55m with 2 already (a series younger
 *   than the window); filled gaps growing all along (another status);
 * - shard 0 failing to write from 6m on (60 s more each minute), shard 1 fine;
 * - lag of BTCUSDT above 10 000 and rising; ETHUSDT high and flat; SOLUSDT rising but small;
 * - gateway gw-slow with every update delay in (0.5 s, 1 s]; gw-fast within 1 ms;
 * - kube-state-metrics: a gateway container restarted at 10m; a pod of another release and one of
 *   another namespace restarting all along.
 */
function inputSeries(): Series[] {
  const out: Series[] = [
    series('collector_connected', { pod: 'c-binance', exchange: 'binance' }, '1 1 1 0x10 1x30'),
    series('collector_connected', { pod: 'c-bybit', exchange: 'bybit' }, '1x60'),
    series('collector_connected', { namespace: 'other', pod: 'c-other', exchange: 'binance' }, '0x60'),
    series('collector_gaps_total', { pod: 'c-okx', exchange: 'okx', status: 'unfilled' }, '0 2x29 0x9 1x31'),
    series('collector_gaps_total', { pod: 'c-binance', exchange: 'binance', status: 'unfilled' }, '0x44 1x25'),
    series('collector_gaps_total', { pod: 'c-binance', exchange: 'binance', status: 'filled' }, '0+1x70'),
    series('collector_gaps_total', { pod: 'c-bybit-new', exchange: 'bybit', status: 'unfilled' }, '_x55 2x15'),
    series('aggregator_write_failing_seconds', { pod: 'orderflow-aggregator-0', shard: '0' }, '0x5 60+60x54'),
    series('aggregator_write_failing_seconds', { pod: 'orderflow-aggregator-1', shard: '1' }, '0x60'),
    series(
      'aggregator_consumer_pending_messages',
      { pod: 'orderflow-aggregator-1', shard: '1', exchange: 'binance', symbol: 'BTCUSDT' },
      '12000+500x60',
    ),
    series(
      'aggregator_consumer_pending_messages',
      { pod: 'orderflow-aggregator-1', shard: '1', exchange: 'binance', symbol: 'ETHUSDT' },
      '50000x60',
    ),
    series(
      'aggregator_consumer_pending_messages',
      { pod: 'orderflow-aggregator-0', shard: '0', exchange: 'binance', symbol: 'SOLUSDT' },
      '100+10x60',
    ),
    series(
      'kube_pod_container_status_restarts_total',
      { pod: 'orderflow-gateway-7d9f-abcde', container: 'gateway', job: 'kube-state-metrics' },
      '0x10 1x50',
    ),
    series(
      'kube_pod_container_status_restarts_total',
      { pod: 'postgres-0', container: 'postgres', job: 'kube-state-metrics' },
      '0+1x60',
    ),
    series(
      'kube_pod_container_status_restarts_total',
      { namespace: 'other', pod: 'orderflow-gateway-1', container: 'gateway', job: 'kube-state-metrics' },
      '0+1x60',
    ),
  ];
  for (const le of UPDATE_BUCKETS) {
    out.push(
      series('gateway_update_delay_seconds_bucket', { pod: 'gw-slow', le }, Number(le) <= 0.5 ? '0x60' : '0+10x60'),
    );
    out.push(series('gateway_update_delay_seconds_bucket', { pod: 'gw-fast', le }, '0+10x60'));
  }
  return out;
}

type AlertTest = {
  eval_time: string;
  alertname: string;
  exp_alerts: { exp_labels: Record<string, string>; exp_annotations: Record<string, string> }[];
};
const none = (alertname: string, ...times: string[]): AlertTest[] =>
  times.map((eval_time) => ({ eval_time, alertname, exp_alerts: [] }));

const disconnected = (extra: Record<string, string> = {}, forText = '1m') => ({
  exp_labels: { severity: 'critical', namespace: NS, pod: 'c-binance', exchange: 'binance', ...extra },
  exp_annotations: {
    summary: 'Collector binance disconnected',
    description: `c-binance has had an exchange connection closed for ${forText} (collector_connected 0): trades of binance are not being collected.`,
  },
});
const gaps = (pod: string, exchange: string, extra: Record<string, string> = {}, window = '15m') => ({
  exp_labels: { severity: 'warning', namespace: NS, pod, exchange, ...extra },
  exp_annotations: {
    summary: `Trades of ${exchange} lost for good`,
    description: `${pod} recorded id gaps that REST could not fill within the last ${window} (collector_gaps_total{status="unfilled"}); each is on gaps.${exchange}.<symbol> and in ClickHouse's gap events.`,
  },
});
const writesFailing = (duration: string, extra: Record<string, string> = {}) => ({
  exp_labels: { severity: 'critical', namespace: NS, pod: 'orderflow-aggregator-0', shard: '0', ...extra },
  exp_annotations: {
    summary: 'Aggregator shard 0 cannot write to ClickHouse',
    description: `Writes of orderflow-aggregator-0 to ClickHouse have been failing for ${duration} (aggregator_write_failing_seconds); its trades wait unwritten (aggregator_pending_trades).`,
  },
});
const lag = (messages: number) => ({
  exp_labels: { severity: 'warning', namespace: NS, shard: '1', exchange: 'binance', symbol: 'BTCUSDT' },
  exp_annotations: {
    summary: 'Lag of binance BTCUSDT growing',
    description: `Shard 1 has ${messages} messages of binance BTCUSDT not yet delivered, rising over 10m for 10m (aggregator_consumer_pending_messages): it cannot keep up (more shards) or ClickHouse is slow.`,
  },
});
const slowUpdates = {
  exp_labels: { severity: 'warning', namespace: NS, pod: 'gw-slow' },
  exp_annotations: {
    summary: 'Gateway gw-slow: slow live updates',
    // p99 within the (0.5 s, 1 s] bucket, interpolated: 0.5 + 0.5 × 0.99
    description:
      'The 0.99 quantile of the delay from the aggregator publishing an update to gw-slow writing it to a client is 995ms over 5m (gateway_update_delay_seconds), above 0.5s.',
  },
};
const restarting = {
  exp_labels: { severity: 'warning', namespace: NS, pod: 'orderflow-gateway-7d9f-abcde', container: 'gateway' },
  exp_annotations: {
    summary: 'orderflow-gateway-7d9f-abcde restarting',
    description:
      'Container gateway of orderflow-gateway-7d9f-abcde restarted within the last 15m (kube_pod_container_status_restarts_total): kubectl describe pod and kubectl logs --previous tell why.',
  },
};

/**
 * The expectations with the chart's default thresholds: each alert firing, and not firing before, after and for the
 * other series.
 */
function defaultExpectations(): AlertTest[] {
  const at = (eval_time: string, alertname: string, exp_alerts: AlertTest['exp_alerts']): AlertTest => ({
    eval_time,
    alertname,
    exp_alerts,
  });
  return [
    // 0 from 3m: pending at 3m, firing after `for` 1m, resolved once connected again (14m)
    ...none('OrderflowCollectorDisconnected', '2m', '3m', '15m'),
    at('4m', 'OrderflowCollectorDisconnected', [disconnected()]),
    at('13m', 'OrderflowCollectorDisconnected', [disconnected()]),
    // each gap fires for the 15m window; c-okx's restart (2 -> 0 at 30m) is no gap; a new pod's gaps are
    at('10m', 'OrderflowUnfilledGaps', [gaps('c-okx', 'okx')]),
    ...none('OrderflowUnfilledGaps', '20m', '30m', '35m'),
    at('42m', 'OrderflowUnfilledGaps', [gaps('c-okx', 'okx')]),
    at('50m', 'OrderflowUnfilledGaps', [gaps('c-binance', 'binance'), gaps('c-okx', 'okx')]),
    at('56m', 'OrderflowUnfilledGaps', [gaps('c-binance', 'binance'), gaps('c-bybit-new', 'bybit')]),
    at('62m', 'OrderflowUnfilledGaps', [gaps('c-bybit-new', 'bybit')]),
    ...none('OrderflowUnfilledGaps', '70m'),
    // 120 s at 7m is not above 120; 180 s at 8m is
    ...none('OrderflowClickHouseWritesFailing', '5m', '7m'),
    at('8m', 'OrderflowClickHouseWritesFailing', [writesFailing('3m 0s')]),
    at('12m', 'OrderflowClickHouseWritesFailing', [writesFailing('7m 0s')]),
    // rising from 1m (two samples for deriv): pending for 10m, then firing
    ...none('OrderflowConsumerLagGrowing', '5m', '10m'),
    at('15m', 'OrderflowConsumerLagGrowing', [lag(12000 + 500 * 15)]),
    // p99 0.995 s from 1m: pending for 10m, then firing, for gw-slow only
    ...none('OrderflowClientUpdateLatencyHigh', '5m', '10m'),
    at('15m', 'OrderflowClientUpdateLatencyHigh', [slowUpdates]),
    // one restart between 10m and 11m: within the 15m window until 25m
    ...none('OrderflowServiceRestarting', '9m', '26m', '40m'),
    at('11m', 'OrderflowServiceRestarting', [restarting]),
    at('24m', 'OrderflowServiceRestarting', [restarting]),
  ];
}

/** Other thresholds (OTHER_THRESHOLDS) on the same series: later, or not at all; alertLabels on every alert. */
const OTHER_THRESHOLDS = {
  prometheusRule: {
    alertLabels: { team: 'trading' },
    alerts: {
      collectorDisconnected: { for: '5m' },
      unfilledGaps: { window: '5m' },
      clickhouseWritesFailing: { seconds: 300 },
      consumerLagGrowing: { minMessages: 100000 },
      clientUpdateLatency: { seconds: 2 },
      serviceRestarting: { restarts: 2 },
    },
  },
};
function otherExpectations(): AlertTest[] {
  const team = { team: 'trading' };
  const at = (eval_time: string, alertname: string, exp_alerts: AlertTest['exp_alerts']): AlertTest => ({
    eval_time,
    alertname,
    exp_alerts,
  });
  return [
    ...none('OrderflowCollectorDisconnected', '4m', '7m'),
    at('8m', 'OrderflowCollectorDisconnected', [disconnected(team, '5m')]),
    // a 5m window: c-binance's gap of 45m is over by 51m
    at('47m', 'OrderflowUnfilledGaps', [gaps('c-binance', 'binance', team, '5m')]),
    ...none('OrderflowUnfilledGaps', '51m'),
    ...none('OrderflowClickHouseWritesFailing', '8m', '10m'),
    at('11m', 'OrderflowClickHouseWritesFailing', [writesFailing('6m 0s', team)]),
    ...none('OrderflowConsumerLagGrowing', '15m', '60m'),
    ...none('OrderflowClientUpdateLatencyHigh', '15m', '60m'),
    ...none('OrderflowServiceRestarting', '11m', '25m'),
  ];
}

function testFile(rules: string, tests: AlertTest[], name: string): string {
  const file = join(tmp, name);
  writeFileSync(
    file,
    stringify(
      {
        rule_files: [rules],
        evaluation_interval: '1m',
        tests: [{ interval: '1m', input_series: inputSeries(), alert_rule_test: tests }],
      },
      { lineWidth: 0 },
    ),
  );
  return file;
}

describe(
  `promtool ${PROMTOOL ?? '(missing)'}: the rendered alert rules`,
  {
    skip: !PROMTOOL && !PROMTOOL_REQUIRED,
    meta: {
      skipReason:
        "promtool is not installed (Debian's prometheus package; scripts/setup.sh installs it with ORDERFLOW_TEST_SETUP=1)",
    },
  },
  () => {
    it("promtool is installed (npm test installs Debian's prometheus package in scripts/setup.sh)", () => {
      expect(
        PROMTOOL,
        "promtool is not on PATH: with ORDERFLOW_TEST_SETUP=1, scripts/setup.sh installs Debian's prometheus package",
      ).toBeDefined();
    });

    it('promtool check rules: the default and other values', async () => {
      const { rule } = await renderObservability();
      const other = await renderObservability({ values: OTHER_THRESHOLDS });
      for (const [name, r] of [
        ['default', rule],
        ['other', other.rule],
      ] as const) {
        const res = await promtool(['check', 'rules', ruleFile(r, `check-${name}.yaml`)]);
        expect(res.out, name).toContain(`SUCCESS: ${ALERTS.length} rules found`);
        expect(res.ok, res.out).toBe(true);
      }
    });

    it('promtool test rules: every alert fires on what it watches for, and not otherwise (default thresholds)', async () => {
      const { rule } = await renderObservability();
      ruleFile(rule, 'rules-default.yaml');
      const tests = defaultExpectations();
      // every alert is tested both firing and not firing
      for (const a of ALERTS) {
        expect(
          tests.some((t) => t.alertname === a && t.exp_alerts.length > 0),
          `${a} firing`,
        ).toBe(true);
        expect(
          tests.some((t) => t.alertname === a && t.exp_alerts.length === 0),
          `${a} not firing`,
        ).toBe(true);
      }
      const res = await promtool(['test', 'rules', testFile('rules-default.yaml', tests, 'test-default.yaml')]);
      expect(res.out).toContain('SUCCESS');
      expect(res.ok, res.out).toBe(true);
    });

    it('promtool test rules: other thresholds from the values change when (and whether) each alert fires', async () => {
      const { rule } = await renderObservability({ values: OTHER_THRESHOLDS });
      ruleFile(rule, 'rules-other.yaml');
      const res = await promtool([
        'test',
        'rules',
        testFile('rules-other.yaml', otherExpectations(), 'test-other.yaml'),
      ]);
      expect(res.out).toContain('SUCCESS');
      expect(res.ok, res.out).toBe(true);
    });

    it('the test fails when an expectation is wrong (the harness can fail)', async () => {
      const { rule } = await renderObservability();
      ruleFile(rule, 'rules-wrong.yaml');
      const wrong = [...none('OrderflowClickHouseWritesFailing', '8m')];
      const res = await promtool(['test', 'rules', testFile('rules-wrong.yaml', wrong, 'test-wrong.yaml')]);
      expect(res.ok).toBe(false);
      expect(res.out).toMatch(/FAILED/);
    });

    it("promtool check rules: every dashboard query is valid PromQL (Grafana's variables substituted)", async () => {
      const sub = (e: string) =>
        e.replace(/\$__rate_interval|\$__range|\$__interval/g, '5m').replace(/\$\{?\w+\}?/g, '.*');
      const queries = [...dashboardFiles()].flatMap(([, d]) => dashboardQueries(d));
      expect(queries.length).toBeGreaterThan(20);
      const file = join(tmp, 'dashboard-queries.yaml');
      writeFileSync(
        file,
        stringify({
          groups: [
            {
              name: 'dashboard',
              rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: sub(q.expr) })),
            },
          ],
        }),
      );
      const res = await promtool(['check', 'rules', file]);
      expect(res.out).toContain(`SUCCESS: ${queries.length} rules found`);
      expect(res.ok, res.out).toBe(true);
    });
  },
);
