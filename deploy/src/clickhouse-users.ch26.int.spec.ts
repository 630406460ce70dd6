/**
 * What ClickHouse 26.7 (the bundled image's line) can check of the chart's users without loading
 * them: the test harness's current engine is chdb (ClickHouse 26.7 in-process behind the HTTP
 * interface, scripts/lib/chdb.mjs), which runs as its own `default` user and does not load a users
 * configuration. So this proves, on 26.7: every setting of the chart's profiles exists and takes
 * the profile's value; every constrained setting exists and takes its bounds; every <grants> query
 * parses as a GRANT of the privileges it names; every quota interval field is a quota limit of
 * 26.7. It does not prove the server applies them to a user (the constraints against `= DEFAULT`,
 * the grants' database scope): that needs a clickhouse-server 26.x, which the tests do not run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usersFromXml, type UsersConfig } from './clickhouse-users.js';
import { find, removeChartCopy, render } from './helm.js';
import { parseXml } from './xml.js';

interface ServicesModule {
  startClickHouse(o: { engine: 'chdb'; analyst: false }): Promise<{ url: string; stop(): Promise<void> }>;
}
const services = (await import(new URL('../../scripts/lib/services.mjs', import.meta.url).href)) as ServicesModule;

describe("the chart's ClickHouse users on ClickHouse 26.7 (chdb): names, values and grants", () => {
  let ch: { url: string; stop(): Promise<void> };
  let cfg: UsersConfig;

  async function q(query: string): Promise<{ status: number; body: string }> {
    const r = await fetch(`${ch.url}/?default_format=TSV`, { method: 'POST', body: query });
    return { status: r.status, body: (await r.text()).trim() };
  }
  const literal = (v: string) => (/^\d+$/.test(v) ? v : `'${v.replace(/'/g, "\\'")}'`);

  beforeAll(async () => {
    const [ms, server] = await Promise.all([render(), services.startClickHouse({ engine: 'chdb', analyst: false })]);
    ch = server;
    cfg = usersFromXml(parseXml(find(ms, 'ConfigMap', '-clickhouse-config').data!['orderflow-users.xml']!));
  }, 90_000);

  afterAll(async () => {
    await ch?.stop();
    removeChartCopy();
  });

  it('is ClickHouse 26.7', async () => {
    expect((await q('SELECT version()')).body).toMatch(/^26\.7\./);
  });

  it("every profile setting exists and takes the profile's value; every constraint's setting and bounds too", async () => {
    for (const [profile, { settings, constraints }] of Object.entries(cfg.profiles)) {
      for (const [name, value] of Object.entries(settings)) {
        const a = await q(`SELECT getSetting('${name}') SETTINGS ${name} = ${literal(value)}`);
        // Bool settings read back as true/false
        expect({ ...a, body: { true: '1', false: '0' }[a.body] ?? a.body }, `${profile}: ${name} = ${value}`).toEqual({
          status: 200,
          body: value,
        });
      }
      for (const [name, c] of Object.entries(constraints)) {
        expect(
          (await q(`SELECT count() FROM system.settings WHERE name = '${name}'`)).body,
          `${profile}: constraint on ${name}`,
        ).toBe('1');
        for (const bound of [c.min, c.max])
          if (bound !== undefined)
            expect((await q(`SELECT 1 SETTINGS ${name} = ${bound}`)).status, `${profile}: ${name} bound ${bound}`).toBe(
              200,
            );
      }
    }
  });

  it('every <grants> query parses as a GRANT of its privileges on its target', async () => {
    for (const [user, u] of Object.entries(cfg.users)) {
      for (const grant of u.grants) {
        const a = await q(`SELECT formatQuery('${grant} TO probe_user')`);
        expect(a, `${user}: ${grant}`).toEqual({ status: 200, body: `${grant} TO probe_user` });
      }
    }
    // the check refuses what 26.7 does not know
    expect((await q(`SELECT formatQuery('GRANT SELECTS ON orderflow.* TO probe_user')`)).status).toBe(400);
  });

  it("every quota interval field is one of 26.7's quota limits", async () => {
    const columns = (
      await q("SELECT name FROM system.columns WHERE database = 'system' AND table = 'quota_limits'")
    ).body.split('\n');
    for (const [quota, { intervals }] of Object.entries(cfg.quotas))
      for (const interval of intervals)
        for (const field of Object.keys(interval))
          expect(columns, `${quota}: ${field}`).toContain(field === 'duration' ? 'duration' : `max_${field}`);
  });
});
