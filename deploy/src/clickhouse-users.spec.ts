/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Least privilege on the ClickHouse hop in the Helm chart and the
 * k8s/clickhouse installation: one user per role with the rights and limits of
 * libs/clickhouse/src/roles.ts (and of the decided table, spelled out again below), the analyst's
 * limits constant, no user from everywhere, `default` removed, each workload as its role, and
 * ClickHouse's egress denied by the NetworkPolicies (evaluated, not pattern-matched).
 * clickhouse-users.int.spec.ts loads the rendered users into a real ClickHouse 18.16.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseGrant, usersFromChi, usersFromXml, type UsersConfig } from './clickhouse-users.js';
import {
  PRODUCTION_VALUES,
  REPO_ROOT,
  TEST_PROBE_LABEL,
  envOf,
  find,
  podSpecs,
  removeChartCopy,
  render,
  renderError,
  type Manifest,
} from './helm.js';
import { cidrWithin, egressAllowed, parseCidr, type Destination, type Pod } from './network-policy.js';
import { parseXml } from './xml.js';

afterAll(removeChartCopy);

type ClickHouseRole = 'migrator' | 'writer' | 'reader' | 'analyst';
/** libs/clickhouse/src/roles.ts, the roles' one definition (read by path: deploy/ depends on no workspace library). */
interface Roles {
  CLICKHOUSE_ROLES: readonly ClickHouseRole[];
  ROLE_USERS: Record<ClickHouseRole, string>;
  ROLE_PROFILES: Record<ClickHouseRole, Record<string, number | string>>;
  ROLE_CONSTRAINTS: Record<ClickHouseRole, Record<string, { readonly?: true; min?: number; max?: number }>>;
  ROLE_QUOTAS: Record<
    ClickHouseRole,
    {
      durationSeconds: number;
      queries: number;
      errors: number;
      resultRows: number;
      readRows: number;
      executionTimeSeconds: number;
    } | null
  >;
  ROLE_GRANTS: Record<ClickHouseRole, readonly string[]>;
}
const { CLICKHOUSE_ROLES, ROLE_CONSTRAINTS, ROLE_GRANTS, ROLE_PROFILES, ROLE_QUOTAS, ROLE_USERS } = (await import(
  new URL('../../libs/clickhouse/src/roles.ts', import.meta.url).href
)) as Roles;

const own = (ms: Manifest[]) =>
  ms.filter((m) => !m.source.includes('/charts/') && !m.metadata.labels?.[TEST_PROBE_LABEL]);
const usersXml = (ms: Manifest[]) => find(ms, 'ConfigMap', '-clickhouse-config').data!['orderflow-users.xml']!;
const chi = () =>
  parseAllDocuments(readFileSync(join(REPO_ROOT, 'k8s/clickhouse/clickhouse-installation.yaml'), 'utf8'))[0]!.toJS();
const keeper = () =>
  parseAllDocuments(readFileSync(join(REPO_ROOT, 'k8s/clickhouse/clickhouse-keeper.yaml'), 'utf8'))[0]!.toJS();

/** The decided table, independent of roles.ts: each role's rights on <db>.* and key settings. */
const DECIDED: Record<ClickHouseRole, { grants: string[]; settings: Record<string, string> }> = {
  migrator: {
    grants: ['CREATE', 'ALTER', 'DROP', 'SELECT', 'INSERT', 'OPTIMIZE', 'TRUNCATE', 'SHOW'],
    settings: { readonly: '0', allow_ddl: '1' },
  },
  writer: { grants: ['SELECT', 'INSERT'], settings: { readonly: '0', allow_ddl: '0', max_execution_time: '60' } },
  reader: {
    grants: ['SELECT'],
    settings: {
      readonly: '2',
      allow_ddl: '0',
      max_execution_time: '30',
      max_concurrent_queries_for_user: '8',
      max_memory_usage: '2000000000',
    },
  },
  analyst: { grants: ['SELECT'], settings: { readonly: '1', result_overflow_mode: 'throw' } },
};

/** Networks a user of the platform may come from: the private ranges and loopback. */
const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', '127.0.0.0/8', '::1'];

/** A setting that limits what a query may do or costs (what a constraint must pin for the analyst). */
const isLimit = (name: string) =>
  name === 'readonly' || name === 'allow_ddl' || name.startsWith('max_') || name.endsWith('_overflow_mode');

/**
 * Checks one users configuration against the roles: names, profile settings and constraints,
 * quotas, grants on `db.*` (plus CLUSTER for the migrator when `cluster`), no allow_databases or
 * access_management beside the grants (ClickHouse refuses the combination).
 */
function expectRoles(cfg: UsersConfig, names: Record<ClickHouseRole, string>, db: string, cluster: boolean) {
  for (const role of CLICKHOUSE_ROLES) {
    const name = names[role];
    const user = cfg.users[name];
    expect(user, `user ${name} (${role})`).toBeDefined();
    const profile = cfg.profiles[user!.profile!];
    expect(profile, `profile of ${name}`).toBeDefined();
    expect(profile!.settings, `${role} settings`).toEqual(
      Object.fromEntries(Object.entries(ROLE_PROFILES[role]).map(([k, v]) => [k, String(v)])),
    );
    expect(profile!.settings, `${role} settings (the decided table)`).toMatchObject(DECIDED[role].settings);
    expect(profile!.constraints, `${role} constraints`).toEqual(ROLE_CONSTRAINTS[role]);
    const quota = ROLE_QUOTAS[role];
    if (quota === null) expect(user!.quota, `${role} quota`).toBe('default');
    else {
      expect(cfg.quotas[user!.quota!], `${role} quota ${user!.quota}`).toBeDefined();
      expect(cfg.quotas[user!.quota!]!.intervals, `${role} quota`).toEqual([
        {
          duration: String(quota.durationSeconds),
          queries: String(quota.queries),
          errors: String(quota.errors),
          result_rows: String(quota.resultRows),
          read_rows: String(quota.readRows),
          execution_time: String(quota.executionTimeSeconds),
        },
      ]);
    }
    const grants = user!.grants.map(parseGrant);
    const onDb = grants.filter((g) => g.on === `${db}.*`);
    expect(onDb.length, `${role}: one GRANT on ${db}.*`).toBe(1);
    expect([...onDb[0]!.privileges].sort(), `${role} grants`).toEqual([...ROLE_GRANTS[role]].sort());
    expect([...onDb[0]!.privileges].sort(), `${role} grants (the decided table)`).toEqual(
      [...DECIDED[role].grants].sort(),
    );
    const others = grants.filter((g) => g.on !== `${db}.*`);
    expect(others, `${role}: grants beyond ${db}.*`).toEqual(
      role === 'migrator' && cluster ? [{ privileges: ['CLUSTER'], on: '*.*' }] : [],
    );
    expect(Object.keys(user!.other), `${role}: nothing beside the grants`).toEqual([]);
  }
}

/** Every user's networks are private or loopback, never everything; no host names or patterns. */
function expectNetworks(cfg: UsersConfig) {
  for (const [name, u] of Object.entries(cfg.users)) {
    expect(u.networks.length, `${name} networks`).toBeGreaterThan(0);
    expect(u.hosts, `${name} hosts`).toEqual([]);
    for (const n of u.networks) {
      expect(parseCidr(n).prefix, `${name} ${n}`).toBeGreaterThan(0);
      expect(
        PRIVATE.some((p) => cidrWithin(n, p)),
        `${name} network ${n} is private or loopback`,
      ).toBe(true);
    }
  }
}

describe('the ClickHouse users of the chart', () => {
  const renders: Record<string, Manifest[]> = {};
  beforeAll(async () => {
    const [defaults, production, cluster, noJob] = await Promise.all([
      render(),
      render({ valuesFiles: [PRODUCTION_VALUES] }),
      render({ set: { 'clickhouse.migrations.cluster': 'orderflow' } }),
      render({ set: { 'clickhouse.migrations.enabled': false } }),
    ]);
    Object.assign(renders, {
      defaults: own(defaults),
      production: own(production),
      cluster: own(cluster),
      noJob: own(noJob),
    });
  });

  it('the bundled ClickHouse has one user per role, with the rights, limits and quotas of the roles', () => {
    const cfg = usersFromXml(parseXml(usersXml(renders['defaults']!)));
    expect(Object.keys(cfg.users).sort()).toEqual(Object.values(ROLE_USERS).sort());
    expectRoles(cfg, ROLE_USERS, 'orderflow', false);
    // ON CLUSTER statements need CLUSTER, given only when migrations.cluster is set
    expectRoles(usersFromXml(parseXml(usersXml(renders['cluster']!))), ROLE_USERS, 'orderflow', true);
  });

  it("the analyst's limits, and readonly itself, are constant; the reader's may only go down", () => {
    const cfg = usersFromXml(parseXml(usersXml(renders['defaults']!)));
    const analyst = cfg.profiles[cfg.users['analyst']!.profile!]!;
    const limits = Object.keys(analyst.settings).filter(isLimit);
    expect(limits).toEqual(
      expect.arrayContaining([
        'readonly',
        'max_execution_time',
        'max_result_rows',
        'result_overflow_mode',
        'max_memory_usage',
      ]),
    );
    for (const s of limits) expect(analyst.constraints[s], `analyst ${s}`).toEqual({ readonly: true });
    const reader = cfg.profiles[cfg.users['orderflow_reader']!.profile!]!;
    for (const s of Object.keys(reader.settings).filter(isLimit)) {
      const c = reader.constraints[s];
      expect(c, `reader ${s}`).toBeDefined();
      if (!c!.readonly) expect(c!.max, `reader ${s} max`).toBeLessThanOrEqual(Number(reader.settings[s]));
    }
    expect(reader.constraints['readonly']).toEqual({ readonly: true });
  });

  it('no user from everywhere: the pod networks (private ranges by default), the analyst also from loopback', async () => {
    const cfg = usersFromXml(parseXml(usersXml(renders['defaults']!)));
    expectNetworks(cfg);
    for (const role of ['migrator', 'writer', 'reader'] as const)
      expect(cfg.users[ROLE_USERS[role]]!.networks).toEqual([
        '10.0.0.0/8',
        '172.16.0.0/12',
        '192.168.0.0/16',
        'fc00::/7',
      ]);
    expect(cfg.users['analyst']!.networks).toEqual([
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      'fc00::/7',
      '::1',
      '127.0.0.1',
    ]);
    // narrowed to the cluster's pod CIDR
    const narrow = usersFromXml(
      parseXml(usersXml(own(await render({ values: { clickhouse: { auth: { networks: ['10.244.0.0/16'] } } } })))),
    );
    expect(narrow.users['orderflow_reader']!.networks).toEqual(['10.244.0.0/16']);
    // everything is refused by the schema
    for (const everything of ['::/0', '0.0.0.0/0', '0::/00'])
      expect(await renderError({ values: { clickhouse: { auth: { networks: [everything] } } } })).toMatch(
        /clickhouse\.auth\.networks\.0/,
      );
  });

  it("`default` is removed; every user's password comes from the Secret, its role's key", () => {
    const ms = renders['defaults']!;
    const cfg = usersFromXml(parseXml(usersXml(ms)));
    expect(cfg.removed).toEqual(['default']);
    expect(cfg.users['default']).toBeUndefined();
    const env = envOf(find(ms, 'StatefulSet', '-clickhouse').spec.template.spec.containers[0]);
    for (const role of CLICKHOUSE_ROLES) {
      const u = cfg.users[ROLE_USERS[role]]!;
      expect(u.otherPasswords, role).toEqual([]);
      expect(env[u.passwordFromEnv!], `${role}: ${u.passwordFromEnv}`).toBe(
        `secret:orderflow-clickhouse/${role}-password`,
      );
    }
    expect(Object.keys(find(ms, 'Secret', '-clickhouse').data!).sort()).toEqual([
      'analyst-password',
      'migrator-password',
      'reader-password',
      'writer-password',
    ]);
  });

  it('each workload connects as its role: the aggregator the writer, the gateway the reader, the migrations the migrator', () => {
    const expected = { '-aggregator': 'writer', '-gateway': 'reader', '-migrations': 'migrator' } as const;
    for (const [name, secret] of [
      ['defaults', 'orderflow-clickhouse'],
      ['production', 'orderflow-clickhouse'],
    ] as const) {
      const ms = renders[name]!;
      const users = podSpecs(ms).filter(({ pod }) =>
        (pod.containers[0].env ?? []).some((e: any) => e.name === 'CLICKHOUSE_USER'),
      );
      expect(users.map(({ owner }) => owner.metadata.name.replace(/^orderflow/, '')).sort(), name).toEqual(
        Object.keys(expected).sort(),
      );
      for (const { owner, pod } of users) {
        const role = expected[owner.metadata.name.replace(/^orderflow/, '') as keyof typeof expected];
        const env = envOf(pod.containers[0]);
        expect(env.CLICKHOUSE_USER, `${name} ${owner.metadata.name}`).toBe(ROLE_USERS[role]);
        expect(env.CLICKHOUSE_PASSWORD, `${name} ${owner.metadata.name}`).toBe(`secret:${secret}/${role}-password`);
        // the Job migrates as itself; the aggregator migrates nothing
        expect(env.CLICKHOUSE_MIGRATIONS_USER, `${name} ${owner.metadata.name}`).toBeUndefined();
      }
    }
    // without the Job the aggregator migrates at start, over a connection of the migrator
    const agg = envOf(find(renders['noJob']!, 'StatefulSet', '-aggregator').spec.template.spec.containers[0]);
    expect(agg).toMatchObject({
      AGG_MIGRATE: '1',
      CLICKHOUSE_USER: 'orderflow_writer',
      CLICKHOUSE_MIGRATIONS_USER: 'orderflow_migrator',
      CLICKHOUSE_MIGRATIONS_PASSWORD: 'secret:orderflow-clickhouse/migrator-password',
    });
  });

  it('two roles may not share a user or a password key', async () => {
    expect(await renderError({ set: { 'clickhouse.auth.users.reader.username': 'orderflow_writer' } })).toContain(
      'clickhouse.auth.users: writer and reader have the same username "orderflow_writer"',
    );
    expect(await renderError({ set: { 'clickhouse.auth.users.analyst.passwordKey': 'reader-password' } })).toContain(
      'clickhouse.auth.users: reader and analyst have the same passwordKey "reader-password"',
    );
    expect(await renderError({ set: { 'clickhouse.auth.users.reader.username': 'default' } })).toMatch(
      /clickhouse\.auth\.users\.reader\.username/,
    );
  });

  it("the gateway's query timeout fits the reader's max_execution_time (30 s, constant above)", async () => {
    await render({ values: { gateway: { env: { GATEWAY_QUERY_TIMEOUT_MS: 30000 } } } });
    expect(await renderError({ values: { gateway: { env: { GATEWAY_QUERY_TIMEOUT_MS: 30001 } } } })).toContain(
      "gateway.env.GATEWAY_QUERY_TIMEOUT_MS (30001) is above 30000: the gateway's ClickHouse user (clickhouse.auth.users.reader) may run a query for 30 s at most",
    );
  });

  it("the bundled ClickHouse's egress: DNS only (no replica, no internet, no cluster service)", () => {
    const nps = renders['defaults']!.filter((m) => m.kind === 'NetworkPolicy');
    const ch: Pod = {
      namespace: 'orderflow',
      labels: find(renders['defaults']!, 'StatefulSet', '-clickhouse').spec.template.metadata.labels,
    };
    const pod = (labels: Record<string, string>, namespace = 'orderflow') => ({ pod: { namespace, labels } });
    const allowed = (d: Destination) => egressAllowed(nps as any, ch, d);
    expect(allowed({ ...pod({ 'k8s-app': 'kube-dns' }, 'kube-system'), port: 53, protocol: 'UDP' })).toBe(true);
    expect(allowed({ ...pod({ 'k8s-app': 'kube-dns' }, 'kube-system'), port: 53, protocol: 'TCP' })).toBe(true);
    const denied: Destination[] = [
      { ip: '169.254.169.254', port: 80 }, // the cloud's metadata endpoint
      { ip: '10.96.0.1', port: 443 }, // the Kubernetes API
      { ip: '1.1.1.1', port: 443 },
      { ip: '2606:4700::1111', port: 443 },
      { ...pod({ 'app.kubernetes.io/name': 'nats', 'app.kubernetes.io/instance': 'orderflow' }), port: 4222 },
      { ...pod({ ...ch.labels }), port: 8123 },
      {
        ...pod({
          'app.kubernetes.io/name': 'orderflow',
          'app.kubernetes.io/instance': 'orderflow',
          'app.kubernetes.io/component': 'gateway',
        }),
        port: 8080,
        portName: 'http',
      },
      { ...pod({ 'k8s-app': 'kube-dns' }, 'kube-system'), port: 443 },
    ];
    for (const d of denied) expect(allowed(d), JSON.stringify(d)).toBe(false);
  });
});

describe('k8s/clickhouse: the Altinity installation', () => {
  it('has the same users, profiles, quotas and grants as the roles; CLUSTER for its ON CLUSTER migrations', () => {
    const cfg = usersFromChi(chi().spec.configuration);
    const prod = parse(readFileSync(PRODUCTION_VALUES, 'utf8'));
    expect(Object.keys(cfg.users).sort()).toEqual(Object.values(ROLE_USERS).sort());
    expectRoles(cfg, ROLE_USERS, 'orderflow', true);
    expectNetworks(cfg);
    for (const role of CLICKHOUSE_ROLES) {
      // the Secret the installation reads, with the chart's keys (values-production.yaml uses the chart's defaults)
      expect(cfg.users[ROLE_USERS[role]]!.passwordFromEnv, role).toBe(
        `secret:${prod.clickhouse.auth.existingSecret}/${role}-password`,
      );
      expect(cfg.users[ROLE_USERS[role]]!.otherPasswords, role).toEqual([]);
    }
  });

  it('its NetworkPolicy: ClickHouse reaches its replicas, the Keeper and DNS only; the Keeper its peers and DNS', () => {
    const nps = parseAllDocuments(readFileSync(join(REPO_ROOT, 'k8s/clickhouse/networkpolicy.yaml'), 'utf8')).map((d) =>
      d.toJS(),
    );
    const installation = chi();
    const chk = keeper();
    const chLabels = {
      'clickhouse.altinity.com/chi': installation.metadata.name,
      'clickhouse.altinity.com/app': 'chop',
    };
    const keeperLabels = {
      'clickhouse-keeper.altinity.com/chk': chk.metadata.name,
      'clickhouse-keeper.altinity.com/app': 'chop',
    };
    const ch: Pod = { namespace: 'clickhouse', labels: chLabels };
    const kp: Pod = { namespace: 'clickhouse', labels: keeperLabels };
    const at = (
      labels: Record<string, string>,
      port: number,
      namespace = 'clickhouse',
      protocol: 'TCP' | 'UDP' = 'TCP',
    ): Destination => ({ pod: { namespace, labels }, port, protocol });
    const keeperPort = Number(chk.spec.configuration.settings['keeper_server/tcp_port']);
    const raftPort = Number(chk.spec.configuration.settings['keeper_server/raft_configuration/server/port']);
    // the installation talks to the Keeper on the port the Keeper listens on
    expect(installation.spec.configuration.zookeeper.nodes.map((n: any) => n.port)).toEqual([keeperPort]);
    const dns = [
      at({ 'k8s-app': 'kube-dns' }, 53, 'kube-system', 'UDP'),
      at({ 'k8s-app': 'kube-dns' }, 53, 'kube-system', 'TCP'),
    ];
    for (const d of [at(chLabels, 9009), at(chLabels, 9000), at(chLabels, 8123), at(keeperLabels, keeperPort), ...dns])
      expect(egressAllowed(nps, ch, d), JSON.stringify(d)).toBe(true);
    for (const d of [at(keeperLabels, raftPort), at(keeperLabels, keeperPort), ...dns])
      expect(egressAllowed(nps, kp, d), `keeper ${JSON.stringify(d)}`).toBe(true);
    const denied: Destination[] = [
      { ip: '169.254.169.254', port: 80 },
      { ip: '10.96.0.1', port: 443 },
      { ip: '52.216.0.1', port: 443 }, // an S3 endpoint
      { ip: '1.1.1.1', port: 80 },
      at(keeperLabels, raftPort),
      at(chLabels, 9363),
      at({ 'app.kubernetes.io/name': 'nats', 'app.kubernetes.io/instance': 'orderflow' }, 4222, 'orderflow'),
      at({ 'clickhouse.altinity.com/chi': 'another' }, 8123),
      at(chLabels, 8123, 'orderflow'), // a pod of another namespace with the same labels
    ];
    for (const d of denied) expect(egressAllowed(nps, ch, d), JSON.stringify(d)).toBe(false);
    for (const d of [{ ip: '1.1.1.1', port: 443 }, at(chLabels, 8123)])
      expect(egressAllowed(nps, kp, d), `keeper ${JSON.stringify(d)}`).toBe(false);
  });
});
