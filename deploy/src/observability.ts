/**
 * The chart's observability objects as data: the Grafana dashboards (dashboards/*.json, provisioned
 * by templates/grafana-dashboards.yaml) and the alert rules (templates/prometheusrule.yaml), the
 * PromQL expressions they hold, and the metric names those expressions read. Used by
 * deploy/src/observability.spec.ts and by the system test that scrapes the running services
 * (tests/src/observability.int.spec.ts, which imports this file by URL).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART_DIR, render, type Manifest, type RenderOptions } from './helm.js';

export const DASHBOARDS_DIR = join(CHART_DIR, 'dashboards');

/**
 * Metric names the dashboard or the rules read that the platform's services do not export, with
 * the exporter that does. Anything else they read must be in a scrape of a running service.
 */
export const EXTERNAL_METRICS: Readonly<Record<string, string>> = {
  kube_pod_container_status_restarts_total: 'kube-state-metrics',
};

/** A PromQL expression and where it comes from (panel, variable or alert). */
export interface Query {
  where: string;
  expr: string;
}

/** A dashboard's JSON (its shape is what the tests check). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Dashboard = any;

/** The dashboard files: name -> parsed JSON. */
export function dashboardFiles(): Map<string, Dashboard> {
  const out = new Map<string, Dashboard>();
  for (const f of readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort())
    out.set(f, JSON.parse(readFileSync(join(DASHBOARDS_DIR, f), 'utf8')));
  return out;
}

interface Panel {
  title?: string;
  type?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Panels of a dashboard, those nested in collapsed rows included. */
export function panelsOf(dashboard: { panels?: Panel[] }): Panel[] {
  return (dashboard.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}

/**
 * Every PromQL expression of a dashboard: the panels' targets and the query variables (Grafana's
 * `label_values(<series selector>, <label>)` reads the selector's metric; `label_values(<label>)`
 * reads none).
 */
export function dashboardQueries(dashboard: Dashboard): Query[] {
  const out: Query[] = [];
  for (const p of panelsOf(dashboard))
    for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}"`, expr: t.expr });
  for (const v of (dashboard.templating?.list ?? []) as {
    name: string;
    type: string;
    query?: unknown;
    definition?: string;
  }[]) {
    if (v.type !== 'query') continue;
    const text =
      typeof v.query === 'string'
        ? v.query
        : ((v.query as { query?: string } | undefined)?.query ?? v.definition ?? '');
    const labelValues = /^\s*label_values\(\s*(.+?)\s*,\s*[a-zA-Z_]\w*\s*\)\s*$/.exec(text);
    if (labelValues) out.push({ where: `variable $${v.name}`, expr: labelValues[1]! });
    else if (/^\s*query_result\(/.test(text))
      out.push({ where: `variable $${v.name}`, expr: text.replace(/^\s*query_result\((.*)\)\s*$/, '$1') });
    else if (!/^\s*label_values\(\s*[a-zA-Z_]\w*\s*\)\s*$/.test(text))
      throw new Error(`variable $${v.name}: a query this reader does not know: ${text}`);
  }
  return out;
}

/** The alert and recording rules' expressions of a rendered PrometheusRule. */
export function ruleQueries(rule: Manifest): Query[] {
  return (rule.spec.groups as { name: string; rules: { alert?: string; record?: string; expr: string }[] }[]).flatMap(
    (g) => g.rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: String(r.expr) })),
  );
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads. Grafana variables ($x, ${x}) are blanked, then
 * string literals, label matchers ({...}), ranges ([...]) and grouping label lists (by (...),
 * on (...), ...) are removed; what remains as an identifier not followed by "(" (a function or an
 * aggregation) and not a keyword is a metric name. Selecting by {__name__=...} is refused rather
 * than missed.
 */
export function metricNames(expr: string): string[] {
  if (/__name__/.test(expr)) throw new Error(`metricNames: selecting by __name__ is not supported: ${expr}`);
  const s = expr
    .replace(/\$\{[^}]*\}|\$\w+/g, '0')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/(?<![\w:.])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1]!.toLowerCase())) continue;
    names.add(m[1]!);
  }
  return [...names].sort();
}

/** Metric name -> where it is read, over a list of queries. */
export function namesUsed(queries: Query[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const q of queries) for (const n of metricNames(q.expr)) out.set(n, [...(out.get(n) ?? []), q.where]);
  return out;
}

/** The values that turn both on (grafana.dashboards.enabled, prometheusRule.enabled). */
export const OBSERVABILITY_ON = { grafana: { dashboards: { enabled: true } }, prometheusRule: { enabled: true } };

/** The chart rendered with the dashboards and the rules on (plus `values`): the ConfigMap and the PrometheusRule. */
export async function renderObservability(
  o: RenderOptions = {},
): Promise<{ manifests: Manifest[]; dashboards: Manifest; rule: Manifest }> {
  const manifests = await render({ ...o, values: deepMerge(OBSERVABILITY_ON, o.values ?? {}) });
  const one = (kind: string, test: (m: Manifest) => boolean) => {
    const hits = manifests.filter((m) => m.kind === kind && test(m));
    if (hits.length !== 1) throw new Error(`expected one ${kind}, found ${hits.length}`);
    return hits[0]!;
  };
  return {
    manifests,
    dashboards: one('ConfigMap', (m) => m.source.endsWith('templates/grafana-dashboards.yaml')),
    rule: one('PrometheusRule', () => true),
  };
}

export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      prev && v && typeof prev === 'object' && typeof v === 'object' && !Array.isArray(v)
        ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
