/* eslint-disable @typescript-eslint/no-explicit-any */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { CHART_DIR, PRODUCTION_VALUES, REPO_ROOT } from './helm.js';

const K8S = join(REPO_ROOT, 'k8s');
const docs = (file: string): any[] =>
  parseAllDocuments(readFileSync(join(K8S, file), 'utf8'))
    .map((d) => {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return d.toJS();
    })
    .filter(Boolean);

/** The stream layout of libs/contracts (read as text: deploy/ imports no workspace library). */
function contractsStreams(): Record<string, string[]> {
  const src = readFileSync(join(REPO_ROOT, 'libs/contracts/src/subjects.ts'), 'utf8');
  const str = (name: string) => new RegExp(`export const ${name} = '([^']+)'`).exec(src)![1]!;
  const list = (name: string) =>
    [...new RegExp(`export const ${name} = \\[([^\\]]+)\\]`).exec(src)![1]!.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
  return { [str('TRADES_STREAM')]: [str('TRADES_SUBJECTS')], [str('EVENTS_STREAM')]: list('EVENTS_SUBJECTS') };
}

/** Stream spec fields of NACK's jetstream.nats.io/v1beta2 Stream that these resources may use. */
const NACK_STREAM_FIELDS = new Set([
  'name',
  'description',
  'subjects',
  'storage',
  'replicas',
  'retention',
  'discard',
  'maxAge',
  'maxBytes',
  'maxMsgs',
  'maxMsgSize',
  'maxMsgsPerSubject',
  'maxConsumers',
  'duplicateWindow',
  'noAck',
  'placement',
  'allowDirect',
  'allowRollup',
  'denyDelete',
  'denyPurge',
  'compression',
  'metadata',
  'servers',
  'account',
  'creds',
  'nkey',
  'preventDelete',
  'preventUpdate',
]);

describe('k8s/nack/streams.yaml', () => {
  const streams = docs('nack/streams.yaml');
  const prod = parse(readFileSync(PRODUCTION_VALUES, 'utf8'));

  it('declares exactly the streams and subjects of libs/contracts', () => {
    expect(streams.every((s) => s.apiVersion === 'jetstream.nats.io/v1beta2' && s.kind === 'Stream')).toBe(true);
    expect(Object.fromEntries(streams.map((s) => [s.spec.name, s.spec.subjects]))).toEqual(contractsStreams());
  });

  it('uses only Stream fields NACK knows, with their types', () => {
    for (const s of streams) {
      for (const k of Object.keys(s.spec))
        expect(NACK_STREAM_FIELDS.has(k), `${s.metadata.name}: spec.${k}`).toBe(true);
      expect(s.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      for (const k of ['maxBytes', 'maxMsgs', 'maxMsgSize', 'replicas'])
        expect(Number.isInteger(s.spec[k]), k).toBe(true);
      for (const k of ['maxAge', 'duplicateWindow']) expect(s.spec[k], k).toMatch(/^\d+(s|m|h)$/);
    }
  });

  it('says what the collectors configure (values-production.yaml), so that neither changes the other back', () => {
    const t = prod.jetstream.trades;
    const seconds = (d: string) => Number(d.slice(0, -1)) * { s: 1, m: 60, h: 3600 }[d.at(-1) as 's' | 'm' | 'h'];
    for (const s of streams) {
      // libs/nats streamConfig: file storage, limits retention, discard old, no count or size limit per message.
      expect(s.spec).toMatchObject({
        storage: 'file',
        retention: 'limits',
        discard: 'old',
        maxMsgs: -1,
        maxMsgSize: -1,
      });
      expect(seconds(s.spec.maxAge)).toBe(t.maxAgeHours * 3600);
      expect(s.spec.maxBytes).toBe(t.maxGiB * 1024 ** 3);
      expect(seconds(s.spec.duplicateWindow)).toBe(t.duplicateWindowSeconds);
      expect(s.spec.replicas).toBe(t.replicas);
      expect(s.spec.replicas).toBe(3);
      expect(s.spec.replicas).toBeLessThanOrEqual(prod.nats.config.cluster.replicas);
    }
  });
});

describe('k8s/clickhouse', () => {
  const [chi] = docs('clickhouse/clickhouse-installation.yaml');
  const [chk] = docs('clickhouse/clickhouse-keeper.yaml');
  const prod = parse(readFileSync(PRODUCTION_VALUES, 'utf8'));
  const defaults = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));

  it('is an Altinity ClickHouseInstallation that the production values point at', () => {
    expect(chi.apiVersion).toBe('clickhouse.altinity.com/v1');
    expect(chi.kind).toBe('ClickHouseInstallation');
    const cluster = chi.spec.configuration.clusters[0];
    expect(cluster.name).toBe('orderflow');
    // Replicas > 1 needs the replicated schema (k8s/clickhouse/README.md), which needs migrations.cluster.
    if (cluster.layout.replicasCount > 1 || cluster.layout.shardsCount > 1)
      expect(prod.clickhouse.migrations.cluster).toBe(cluster.name);
    else expect(prod.clickhouse.migrations.cluster).toBe('');
    const service = chi.spec.templates.serviceTemplates[0];
    expect(prod.clickhouse.url).toBe(
      `http://${service.generateName.replace('{chi}', chi.metadata.name)}.clickhouse.svc:8123`,
    );
  });

  it('defines the users the production values name, passwords from their Secret keys only (roles: clickhouse-users.spec.ts)', () => {
    const users = chi.spec.configuration.users;
    const auth = prod.clickhouse.auth;
    for (const role of ['migrator', 'writer', 'reader', 'analyst']) {
      const { username, passwordKey } = auth.users?.[role] ?? defaults.clickhouse.auth.users[role];
      expect(users[`${username}/password`].valueFrom.secretKeyRef, role).toEqual({
        name: auth.existingSecret,
        key: passwordKey,
      });
    }
    for (const [k, v] of Object.entries(users)) if (k.endsWith('/password')) expect(typeof v, k).toBe('object');
  });

  it('runs non-root, pinned images, with resources', () => {
    for (const tpl of [chi.spec.templates.podTemplates[0], chk.spec.templates.podTemplates[0]]) {
      expect(tpl.spec.securityContext.runAsNonRoot).toBe(true);
      for (const c of tpl.spec.containers) {
        expect(c.image).toMatch(/^clickhouse\/clickhouse-(server|keeper):\d+\.\d+/);
        expect(c.resources.requests.memory).toBeDefined();
        expect(c.resources.limits.memory).toBeDefined();
      }
    }
    expect(chk.spec.configuration.clusters[0].layout.replicasCount).toBe(3);
    expect(chi.spec.configuration.zookeeper.nodes[0].host).toBe(`keeper-${chk.metadata.name}`);
  });
});
