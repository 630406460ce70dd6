import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART_DIR, PRODUCTION_VALUES, REPO_ROOT } from './helm.js';

/**
 * The chart's default resources are derived in docs/sizing.md (from tests/bench/sizing.bench.mjs):
 * its table "The chart's resources" is the record of what each values file sets, so a change on
 * either side without the other fails here.
 */
const SIZING = readFileSync(join(REPO_ROOT, 'docs', 'sizing.md'), 'utf8');
const VALUES_FILES: Record<string, string> = {
  'values.yaml': join(CHART_DIR, 'values.yaml'),
  'values-production.yaml': PRODUCTION_VALUES,
};

interface Row {
  file: string;
  component: string;
  cpu: string;
  memory: string;
  limit: string;
}

/** The rows of the markdown table that follows the heading "The chart's resources". */
function documentedRows(): Row[] {
  const start = SIZING.search(/^#+ The chart's resources/m);
  if (start < 0) throw new Error('docs/sizing.md has no section "The chart\'s resources"');
  const lines = SIZING.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const table: string[] = [];
  for (const l of lines.slice(first)) {
    if (!l.startsWith('|')) break;
    table.push(l);
  }
  const cells = (l: string) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim().replace(/`/g, ''));
  expect(cells(table[0]!).slice(0, 5)).toEqual([
    'values file',
    'component',
    'CPU request',
    'memory request',
    'memory limit',
  ]);
  return table.slice(2).map((l) => {
    const [file, component, cpu, memory, limit] = cells(l);
    return { file: file!, component: component!, cpu: cpu!, memory: memory!, limit: limit! };
  });
}

/** `collector`, `collector.exchanges[okx]`, `clickhouse.bundled`: where a resources block sits in the values. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function resourcesAt(values: any, component: string): any {
  let node = values;
  for (const part of component.split('.')) {
    const m = /^(\w+)\[([\w-]+)\]$/.exec(part);
    node = m ? node?.[m[1]!]?.find((e: { id?: string }) => e.id === m[2]) : node?.[part];
  }
  return node?.resources;
}

/** Every resources block of the apps' pods a values file sets (the exchanges' overrides included). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function appResourceBlocks(values: any): string[] {
  const out = ['collector', 'aggregator', 'gateway'].filter((c) => values[c]?.resources);
  for (const e of values.collector?.exchanges ?? []) if (e.resources) out.push(`collector.exchanges[${e.id}]`);
  if (values.clickhouse?.bundled?.enabled !== false && values.clickhouse?.bundled?.resources)
    out.push('clickhouse.bundled');
  return out;
}

describe('the chart resources and docs/sizing.md', () => {
  const rows = documentedRows();

  it('sets what the sizing guide derives, for every documented row', () => {
    for (const r of rows) {
      const values = parse(readFileSync(VALUES_FILES[r.file] ?? '', 'utf8'));
      const res = resourcesAt(values, r.component);
      expect(res, `${r.file} ${r.component}`).toBeDefined();
      expect(
        [String(res.requests.cpu), String(res.requests.memory), String(res.limits.memory)],
        `${r.file} ${r.component}`,
      ).toEqual([r.cpu, r.memory, r.limit]);
    }
  });

  it('documents every app resources block of the values files', () => {
    for (const [file, path] of Object.entries(VALUES_FILES)) {
      const values = parse(readFileSync(path, 'utf8'));
      const documented = rows.filter((r) => r.file === file).map((r) => r.component);
      expect(
        appResourceBlocks(values).filter((c) => !documented.includes(c)),
        file,
      ).toEqual([]);
    }
  });

  it('points from values.yaml to the guide', () => {
    expect(readFileSync(VALUES_FILES['values.yaml']!, 'utf8')).toContain('docs/sizing.md');
  });
});
