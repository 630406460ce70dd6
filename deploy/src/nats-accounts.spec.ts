/**
 * The chart's NATS users, rendered with the official NATS chart 1.3.16:
 *
 * - the users and permissions of nats.config.merge are the local set-up's
 *   (scripts/lib/nats-accounts.mjs), one definition;
 * - the passwords are in a Secret only (never in the ConfigMap), which the NATS servers' and each
 *   component's environment reference, each component its own key; the chart generates none;
 * - the rendered nats.conf, with the variables set from the Secret as the pod's environment sets
 *   them, is one nats-server accepts (`-t`), and a real nats-server 2.9.10 running its
 *   authorization block refuses each user outside its permissions.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, type NatsConnection, PermissionViolationError } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  CHART_DIR,
  type Manifest,
  TEST_NATS_PASSWORDS,
  TEST_PASSWORDS,
  chartForRendering,
  containers,
  envOf,
  removeChartCopy,
  render,
  renderError,
} from './helm.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Component = 'collector' | 'aggregator' | 'gateway';
interface AccountsModule {
  NATS_COMPONENTS: readonly Component[];
  natsAuthorization(passwords: Record<Component, string>): {
    users: { user: string; password: string; permissions: any }[];
  };
  passwordVariable(component: Component): string;
}
interface ServicesModule {
  getFreePort(): Promise<number>;
  findBinary(name: string, envVar: string): string;
}
const accounts = (await import(new URL('../../scripts/lib/nats-accounts.mjs', import.meta.url).href)) as AccountsModule;
const services = (await import(new URL('../../scripts/lib/services.mjs', import.meta.url).href)) as ServicesModule;
const run = promisify(execFile);

const COMPONENTS = accounts.NATS_COMPONENTS;
const SECRET = 'orderflow-nats-auth';
/** The password each user has in nats.conf: a reference to its variable, resolved from the environment. */
const REFERENCES = Object.fromEntries(COMPONENTS.map((c) => [c, `$${accounts.passwordVariable(c)}`])) as Record<
  Component,
  string
>;
const NATS_SERVER = (() => {
  try {
    return services.findBinary('nats-server', 'NATS_SERVER_BIN');
  } catch {
    return undefined;
  }
})();

/** nats.conf as the NATS chart writes it (JSON with unquoted `$VAR`s and sizes), those values as strings. */
function parseNatsConf(text: string): any {
  return JSON.parse(
    text.replace(/^(\s*"[^"]+":\s*)([^\s"[{][^,]*?)(,?)\s*$/gm, (all, key: string, value: string, comma: string) =>
      /^(-?\d+(\.\d+)?|true|false|null)$/.test(value) ? all : `${key}${JSON.stringify(value)}${comma}`,
    ),
  );
}

const natsConf = (ms: Manifest[]) =>
  ms.find((m) => m.kind === 'ConfigMap' && m.data?.['nats.conf'])!.data!['nats.conf']!;
const natsContainer = (ms: Manifest[]) =>
  containers(ms).find((c) => c.owner.kind === 'StatefulSet' && c.container.name === 'nats')!.container;
/** The component of a workload of this chart (its app.kubernetes.io/component label). */
const componentOf = (m: Manifest) => m.metadata.labels?.['app.kubernetes.io/component'];

describe(
  'chart: NATS users per component',
  { skip: chartForRendering().natsIsStandIn, meta: { skipReason: chartForRendering().standInReason } },
  () => {
    let ms: Manifest[];
    beforeAll(async () => {
      ms = await render();
    });
    afterAll(() => removeChartCopy());

    it('has the users and permissions of the local set-up (scripts/lib/nats-accounts.mjs), in values and in the rendered nats.conf', () => {
      const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));
      const ours = accounts.natsAuthorization(REFERENCES);
      const asInValues = { users: ours.users.map((u) => ({ ...u, password: `<< ${u.password} >>` })) };
      expect(values.nats.config.merge.authorization).toEqual(asInValues);
      expect(parseNatsConf(natsConf(ms)).authorization).toEqual(ours);
      // who may publish what, read off the definition (not the chart)
      const pub = (c: Component) => ours.users.find((u) => u.user === c)!.permissions.publish.allow as string[];
      expect(COMPONENTS.filter((c) => pub(c).includes('trades.>'))).toEqual(['collector']);
      expect(COMPONENTS.filter((c) => pub(c).includes('live.>'))).toEqual(['aggregator']);
      expect(COMPONENTS.flatMap((c) => pub(c)).filter((s) => /DELETE|PURGE/.test(s))).toEqual([]);
    });

    it('keeps the passwords in a Secret only: the NATS servers and each component read their own key from it', () => {
      const secret = ms.find((m) => m.kind === 'Secret' && m.metadata.name === SECRET)!;
      expect(
        Object.fromEntries(Object.entries(secret.data!).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])),
      ).toEqual(TEST_NATS_PASSWORDS);
      const rendered = JSON.stringify(ms.filter((m) => m !== secret));
      for (const pw of Object.values(TEST_NATS_PASSWORDS)) expect(rendered).not.toContain(pw);
      const serverEnv = envOf(natsContainer(ms));
      for (const c of COMPONENTS) expect(serverEnv[accounts.passwordVariable(c)], c).toBe(`secret:${SECRET}/${c}`);
      const seen = new Set<string>();
      for (const { owner, container } of containers(ms)) {
        const env = envOf(container);
        const component = componentOf(owner);
        if (owner.kind === 'StatefulSet' && container.name === 'nats') continue;
        // nothing else references the NATS passwords but the component's own key
        for (const [k, v] of Object.entries(env))
          if (v?.startsWith(`secret:${SECRET}/`))
            expect(`${k}=${v}`, owner.metadata.name).toBe(`NATS_PASSWORD=secret:${SECRET}/${component}`);
        if (!(COMPONENTS as readonly string[]).includes(component ?? '') || env['NATS_URL'] === undefined) continue;
        expect({ user: env['NATS_USER'], password: env['NATS_PASSWORD'] }, owner.metadata.name).toEqual({
          user: component,
          password: `secret:${SECRET}/${component}`,
        });
        seen.add(component!);
      }
      expect([...seen].sort()).toEqual([...COMPONENTS].sort());
    });

    it('generates no password: without them the render fails with the kubectl one-liner; existingSecret renders no Secret and every reference names it', async () => {
      const error = await renderError({
        withoutTestPasswords: true,
        withoutTestNatsPasswords: true,
        values: { clickhouse: TEST_PASSWORDS.clickhouse },
      });
      expect(error).toContain(
        'global.natsAuth: no NATS passwords for global.natsAuth.passwords.collector, global.natsAuth.passwords.aggregator, global.natsAuth.passwords.gateway.',
      );
      expect(error).toContain(
        `kubectl -n orderflow create secret generic ${SECRET} --from-literal=collector="p$(openssl rand -hex 24)" --from-literal=aggregator="p$(openssl rand -hex 24)" --from-literal=gateway="p$(openssl rand -hex 24)"`,
      );
      const own = await render({
        withoutTestPasswords: true,
        withoutTestNatsPasswords: true,
        values: { clickhouse: TEST_PASSWORDS.clickhouse, global: { natsAuth: { existingSecret: 'my-nats' } } },
      });
      expect(own.filter((m) => m.kind === 'Secret' && m.metadata.name === SECRET)).toEqual([]);
      const refs = containers(own).flatMap(({ container }) =>
        Object.values(envOf(container)).filter((v) => /^secret:[^/]+\/(collector|aggregator|gateway)$/.test(v ?? '')),
      );
      expect(refs.length).toBeGreaterThanOrEqual(COMPONENTS.length * 2);
      expect(refs.filter((v) => !v.startsWith('secret:my-nats/'))).toEqual([]);
    });

    it('refuses one password for two components, and a password nats-server would read as something else', async () => {
      expect(
        await renderError({
          values: {
            global: { natsAuth: { passwords: { ...TEST_NATS_PASSWORDS, gateway: TEST_NATS_PASSWORDS.collector } } },
          },
        }),
      ).toContain(
        'global.natsAuth.passwords: collector and gateway are the same; each component needs a password of its own',
      );
      for (const bad of ['1234567890123456789', 'p=abcdefghijklmnopq', 'short1'])
        expect(
          await renderError({
            values: { global: { natsAuth: { passwords: { ...TEST_NATS_PASSWORDS, aggregator: bad } } } },
          }),
          bad,
        ).toMatch(/global\.natsAuth\.passwords\.aggregator.*(pattern|match)/is);
    });

    it('external NATS: the users of externalNats.users with the passwords of the Secret; externalNats.auth false: no credentials', async () => {
      const external = {
        nats: { enabled: false },
        externalNats: {
          url: 'nats://nats.example:4222',
          users: { collector: 'of-collector', aggregator: 'of-aggregator', gateway: 'of-gateway' },
        },
        jetstream: { trades: { replicas: 1 } },
      };
      const withUsers = await render({ values: external });
      const users = containers(withUsers)
        .filter(({ container }) => envOf(container)['NATS_URL'])
        .map(({ owner, container }) => [
          componentOf(owner),
          envOf(container)['NATS_USER'],
          envOf(container)['NATS_PASSWORD'],
        ]);
      expect(users.length).toBeGreaterThanOrEqual(3);
      for (const [component, user, password] of users)
        expect([user, password]).toEqual([`of-${component}`, `secret:${SECRET}/${component}`]);
      expect(
        await renderError({
          withoutTestPasswords: true,
          withoutTestNatsPasswords: true,
          values: { ...external, clickhouse: TEST_PASSWORDS.clickhouse },
        }),
      ).toContain('An external NATS without users: set externalNats.auth=false.');
      const none = await render({
        withoutTestPasswords: true,
        withoutTestNatsPasswords: true,
        values: {
          ...external,
          clickhouse: TEST_PASSWORDS.clickhouse,
          externalNats: { ...external.externalNats, auth: false },
        },
      });
      expect(none.filter((m) => m.kind === 'Secret' && m.metadata.name === SECRET)).toEqual([]);
      expect(
        containers(none).flatMap(({ container }) =>
          Object.keys(envOf(container)).filter((k) => k === 'NATS_USER' || k === 'NATS_PASSWORD'),
        ),
      ).toEqual([]);
    });

    describe(
      'the rendered configuration on a real nats-server',
      {
        skip: !NATS_SERVER,
        meta: {
          skipReason: "nats-server is not installed (Debian's nats-server package; scripts/setup.sh installs it)",
        },
      },
      () => {
        const dir = mkdtempSync(join(tmpdir(), 'orderflow-chart-nats-'));
        /** The pod's environment: each variable from its Secret key, as Kubernetes sets it. */
        let podEnv: Record<string, string>;
        let server: ChildProcess | undefined;
        let url = '';
        const open: NatsConnection[] = [];

        beforeAll(() => {
          const secret = ms.find((m) => m.kind === 'Secret' && m.metadata.name === SECRET)!;
          podEnv = { SERVER_NAME: 'orderflow-nats-0' };
          for (const [name, ref] of Object.entries(envOf(natsContainer(ms)))) {
            const m = /^secret:([^/]+)\/(.+)$/.exec(ref ?? '');
            if (m)
              podEnv[name] = Buffer.from(
                ms.find((x) => x.kind === 'Secret' && x.metadata.name === m[1])!.data![m[2]!]!,
                'base64',
              ).toString();
          }
          expect(secret).toBeDefined();
        });
        afterAll(async () => {
          await Promise.all(open.map((nc) => nc.close()));
          server?.kill('SIGTERM');
          rmSync(dir, { recursive: true, force: true });
        });

        it("nats-server -t accepts the whole nats.conf with the pod's environment (sync_interval, a 2.10 key, aside on older servers)", async () => {
          const { stdout: version } = await run(NATS_SERVER!, ['--version']);
          const [major, minor] = /v(\d+)\.(\d+)/.exec(version)!.slice(1).map(Number) as [number, number];
          const text =
            major * 100 + minor >= 210
              ? natsConf(ms)
              : natsConf(ms)
                  .split('\n')
                  .filter((l) => !/^\s*"sync_interval":/.test(l))
                  .join('\n');
          const file = join(dir, 'nats.conf');
          writeFileSync(file, text);
          const ok = await run(NATS_SERVER!, ['-t', '-c', file], { env: { ...process.env, ...podEnv } });
          expect(ok.stdout + ok.stderr).toMatch(/is valid/);
          // without the environment the passwords are unresolved: the conf holds none of its own
          await expect(
            run(NATS_SERVER!, ['-t', '-c', file], { env: { ...process.env, SERVER_NAME: 'x' } }),
          ).rejects.toMatchObject({ stderr: expect.stringMatching(/NATS_COLLECTOR_PASSWORD/) });
        });

        it('each user is refused outside its permissions; a client without credentials is refused', async () => {
          // the rendered authorization block, its password references left to the environment
          const authorization = JSON.stringify(
            { authorization: parseNatsConf(natsConf(ms)).authorization },
            null,
            1,
          ).replace(/"(\$[A-Z_]+)"/g, '$1');
          const conf = join(dir, 'auth.conf');
          writeFileSync(conf, authorization.slice(1, -1));
          const port = await services.getFreePort();
          mkdirSync(join(dir, 'js'));
          server = spawn(
            NATS_SERVER!,
            ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'js'), '-c', conf],
            { env: { ...process.env, ...podEnv }, stdio: 'ignore' },
          );
          url = `nats://127.0.0.1:${port}`;
          const as = async (user: Component) => {
            for (let i = 0; ; i++) {
              try {
                const nc = await connect({
                  servers: url,
                  user,
                  pass: podEnv[accounts.passwordVariable(user)]!,
                  name: `chart-${user}`,
                });
                open.push(nc);
                return nc;
              } catch (e) {
                if (i > 100 || /Authorization/i.test((e as Error).message)) throw e;
                await new Promise((r) => setTimeout(r, 50));
              }
            }
          };
          const collector = await as('collector');
          const aggregator = await as('aggregator');
          const gateway = await as('gateway');
          await expect(connect({ servers: url, name: 'anonymous' })).rejects.toThrow(/Authorization Violation/i);

          const api = async (nc: NatsConnection, subject: string, body: unknown) =>
            JSON.parse((await nc.request(subject, JSON.stringify(body), { timeout: 3000 })).string());
          expect(
            (
              await api(collector, '$JS.API.STREAM.CREATE.TRADES', {
                name: 'TRADES',
                subjects: ['trades.>'],
                storage: 'memory',
              })
            ).error,
          ).toBeUndefined();
          expect((await api(collector, 'trades.binance.BTCUSDT', {})).stream).toBe('TRADES');
          expect(
            (
              await api(aggregator, '$JS.API.CONSUMER.CREATE.TRADES.agg_binance_BTCUSDT.trades.binance.BTCUSDT', {
                stream_name: 'TRADES',
                config: {
                  durable_name: 'agg_binance_BTCUSDT',
                  filter_subject: 'trades.binance.BTCUSDT',
                  ack_policy: 'explicit',
                },
              })
            ).error,
          ).toBeUndefined();
          const live = gateway.subscribe('live.>', { max: 1 });
          await gateway.flush();
          aggregator.publish('live.binance.BTCUSDT.1m', 'u');
          for await (const m of live) expect(m.string()).toBe('u');

          const refusals: [NatsConnection, string, () => unknown][] = [
            [collector, 'live.>', () => collector.subscribe('live.>')],
            [collector, '$JS.API.STREAM.DELETE.TRADES', () => collector.publish('$JS.API.STREAM.DELETE.TRADES')],
            [collector, '$JS.API.STREAM.PURGE.TRADES', () => collector.publish('$JS.API.STREAM.PURGE.TRADES')],
            [aggregator, 'trades.binance.BTCUSDT', () => aggregator.publish('trades.binance.BTCUSDT', '{}')],
            [
              aggregator,
              '$JS.API.CONSUMER.DELETE.TRADES.agg_binance_BTCUSDT',
              () => aggregator.publish('$JS.API.CONSUMER.DELETE.TRADES.agg_binance_BTCUSDT'),
            ],
            [gateway, 'trades.binance.BTCUSDT', () => gateway.publish('trades.binance.BTCUSDT', '{}')],
            [gateway, '$JS.API.STREAM.INFO.TRADES', () => gateway.publish('$JS.API.STREAM.INFO.TRADES')],
            [gateway, '$JS.API.STREAM.DELETE.TRADES', () => gateway.publish('$JS.API.STREAM.DELETE.TRADES')],
          ];
          for (const [nc, subject, act] of refusals) {
            const seen = (async () => {
              for await (const s of nc.status())
                if (s.type === 'error' && s.error instanceof PermissionViolationError && s.error.subject === subject)
                  return s.error;
              return null;
            })();
            act();
            await nc.flush();
            const violation = await Promise.race([seen, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
            expect(violation, subject).toBeInstanceOf(PermissionViolationError);
          }
          // nothing was deleted
          expect((await api(collector, '$JS.API.STREAM.INFO.TRADES', {})).state.messages).toBe(1);
        });
      },
    );
  },
);
