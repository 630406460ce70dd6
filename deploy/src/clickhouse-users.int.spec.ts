/**
 * The chart's ClickHouse users loaded into a real ClickHouse 18.16 (the Debian package), started on
 * spare ports with a directory of its own, the way the bundled pod loads them: the image's
 * users.xml (a `default` user without password from ::/0) with the rendered users.d file beside
 * it, the passwords in the environment for from_env, taken from the rendered Secret.
 *
 * One transformation, because 18.16 refuses the file otherwise ("Unknown setting constraints"):
 * the profiles' <constraints> are taken out. 18.16 ignores <grants> (it has no GRANT; 23.5 and
 * later read them). What this therefore proves on 18.16: the file loads; from_env passwords;
 * `default` is removed; a network refuses other addresses; each profile's readonly / allow_ddl
 * and limits (the reader's 8 queries at a time, the analyst's result rows); the quotas named by the
 * users exist (a user whose quota is missing cannot log in). Not proven here: the grants (the
 * database scope) and the constraints, which need a current server; the tests compare those with
 * libs/clickhouse/src/roles.ts (clickhouse-users.spec.ts).
 *
 * The networks are shown with the default IPv6 range (fc00::/7) alone: 18.16 reads the prefix length
 * of an IPv4 network as that of an IPv6 one, so 10.0.0.0/8 (even 10.1.2.3/32) admits every IPv4
 * client there, 127.0.0.1 included (seen on this 18.16; an exact IPv4 address, or the
 * ::ffff:10.0.0.0/104 form, is matched correctly). The chart runs 26.7, whose IPv4 networks match
 * IPv4 clients as written; that is not proven here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { find, removeChartCopy, render, TEST_PASSWORDS, type Manifest } from './helm.js';
import { parseXml, serializeXml, type XmlElement } from './xml.js';

interface ServicesModule {
  getFreePort(): Promise<number>;
  writeClickHouseConfig(o: { dataDir: string; httpPort: number; tcpPort: number; analyst: false }): string;
  findBinary(name: string, envVar: string): string;
  waitReady(
    child: ChildProcess,
    check: () => Promise<boolean>,
    o: { timeoutMs: number; what: string; logFiles: string[] },
  ): Promise<void>;
  clickHousePing(url: string): Promise<boolean>;
  terminate(pid: number, o?: { graceMs?: number }): Promise<void>;
}
const services = (await import(new URL('../../scripts/lib/services.mjs', import.meta.url).href)) as ServicesModule;
/**
 * The platform's ClickHouse client and migration runner (libs/clickhouse, read by path: deploy/ depends on no workspace
 * library).
 */
interface ClickHouseLib {
  connectClickHouse(o: { url: string; username: string; password: string }): { close(): Promise<void> };
  migrate(ch: unknown, database: string): Promise<{ applied: number[]; skipped: number[] }>;
}
const { connectClickHouse, migrate } = (await import(
  new URL('../../libs/clickhouse/src/index.ts', import.meta.url).href
)) as ClickHouseLib;

/** The official image's users.xml: `default` without a password, from everywhere (what the chart must take away). */
const IMAGE_USERS_XML = `<clickhouse>
    <profiles>
        <default/>
        <readonly><readonly>1</readonly></readonly>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>::/0</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</clickhouse>
`;

const P = TEST_PASSWORDS.clickhouse.auth.users;

/** The users.d file of a render, without the profiles' <constraints> (18.16 refuses them). */
function usersFor18(ms: Manifest[]): string {
  const root = parseXml(find(ms, 'ConfigMap', '-clickhouse-config').data!['orderflow-users.xml']!);
  const strip = (el: XmlElement): XmlElement => ({
    ...el,
    children: el.children.filter((c) => c.name !== 'constraints').map(strip),
  });
  return serializeXml(strip(root));
}

interface Answer {
  status: number;
  body: string;
}

describe("the chart's ClickHouse users on a real ClickHouse 18.16", () => {
  let dir: string;
  let url: string;
  let server: ChildProcess;
  let usersFile: string;
  let loopbackRender: Manifest[];

  /** One query over HTTP as `user` (no user: no credentials at all, as a cross-site form post). */
  async function q(user: string | null, password: string, query: string, init: RequestInit = {}): Promise<Answer> {
    const headers: Record<string, string> = { 'content-type': 'text/plain' };
    if (user !== null) headers['authorization'] = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const r = await fetch(url, { method: 'POST', body: query, headers, ...init });
    return { status: r.status, body: (await r.text()).trim() };
  }
  const as = {
    migrator: (s: string) => q('orderflow_migrator', P.migrator.password, s),
    writer: (s: string) => q('orderflow_writer', P.writer.password, s),
    reader: (s: string) => q('orderflow_reader', P.reader.password, s),
    analyst: (s: string) => q('analyst', P.analyst.password, s),
  };
  const refused = (a: Answer, text: RegExp) => {
    expect(a.status, a.body).not.toBe(200);
    expect(a.body).toMatch(text);
  };

  beforeAll(async () => {
    // the default IPv6 range alone (see above) and, for the queries from 127.0.0.1, the loopback address
    const [defaults, loopback] = await Promise.all([
      render({ values: { clickhouse: { auth: { networks: ['fc00::/7'] } } } }),
      render({ values: { clickhouse: { auth: { networks: ['127.0.0.1'] } } } }),
    ]);
    loopbackRender = loopback;
    dir = mkdtempSync(join(tmpdir(), 'orderflow-chart-ch-'));
    const [httpPort, tcpPort] = [await services.getFreePort(), await services.getFreePort()];
    const config = services.writeClickHouseConfig({ dataDir: dir, httpPort, tcpPort, analyst: false });
    writeFileSync(join(dir, 'users.xml'), IMAGE_USERS_XML);
    usersFile = join(dir, 'users.d', 'orderflow-users.xml');
    writeFileSync(usersFile, usersFor18(defaults));
    // the pod's environment: each role's password from the Secret, for from_env
    const secret = find(defaults, 'Secret', '-clickhouse').data!;
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '' };
    for (const role of ['migrator', 'writer', 'reader', 'analyst'])
      env[`CLICKHOUSE_${role.toUpperCase()}_PASSWORD`] = Buffer.from(secret[`${role}-password`]!, 'base64').toString();
    const bin = services.findBinary('clickhouse-server', 'CLICKHOUSE_SERVER_BIN');
    server = spawn(bin, [`--config-file=${config}`], { cwd: dir, env, stdio: 'ignore' });
    url = `http://127.0.0.1:${httpPort}/`;
    await services.waitReady(server, () => services.clickHousePing(url), {
      timeoutMs: 60_000,
      what: `ClickHouse 18.16 (${url})`,
      logFiles: [join(dir, 'log', 'clickhouse-server.err.log')],
    });
  }, 90_000);

  afterAll(async () => {
    if (server?.pid) await services.terminate(server.pid, { graceMs: 10_000 });
    if (dir) rmSync(dir, { recursive: true, force: true });
    removeChartCopy();
  });

  it('loads: `default` is gone, service users are refused from an address outside their networks, the analyst from loopback is not', async () => {
    expect((await q('analyst', P.analyst.password, "SELECT version() LIKE '18.16.%'")).body).toBe('1');
    // a request naming no user (a cross-site text/plain POST from a web page) and `default` by name
    refused(await q(null, '', 'SELECT 1'), /Unknown user default/);
    refused(await q('default', '', 'SELECT 1'), /Unknown user default/);
    refused(await q('analyst', 'wrong', 'SELECT 1'), /Wrong password for user analyst/);
    for (const user of ['orderflow_migrator', 'orderflow_writer', 'orderflow_reader'] as const)
      refused(
        await q(user, P[user.replace('orderflow_', '') as 'reader'].password, 'SELECT 1'),
        new RegExp(`User ${user} is not allowed to connect from address`),
      );
  });

  describe('with the networks set to 127.0.0.1', () => {
    beforeAll(async () => {
      writeFileSync(usersFile, usersFor18(loopbackRender));
      // the server re-reads users.d within seconds of a change of its modification time, which it
      // compares in whole seconds: the first file may have been written within the same second
      const later = new Date(Date.now() + 5000);
      utimesSync(usersFile, later, later);
      const deadline = Date.now() + 30_000;
      while ((await as.reader('SELECT 1')).status !== 200) {
        if (Date.now() > deadline)
          throw new Error(`ClickHouse did not pick up ${usersFile}: ${(await as.reader('SELECT 1')).body}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }, 40_000);

    it('the migrator applies every migration of libs/clickhouse and may create and drop tables', async () => {
      const ch = connectClickHouse({ url, username: 'orderflow_migrator', password: P.migrator.password });
      try {
        const r = await migrate(ch, 'orderflow');
        expect(r.applied.length).toBeGreaterThan(0);
      } finally {
        await ch.close();
      }
      for (const s of [
        'CREATE TABLE orderflow.role_probe (x UInt32) ENGINE = MergeTree ORDER BY x',
        'ALTER TABLE orderflow.role_probe ADD COLUMN y UInt8',
        'CREATE TABLE orderflow.role_drop (x UInt8) ENGINE = Memory',
        'DROP TABLE orderflow.role_drop',
      ])
        expect(await as.migrator(s), s).toEqual({ status: 200, body: '' });
    }, 60_000);

    it('the writer inserts and reads, and cannot CREATE, ALTER or DROP', async () => {
      expect(await as.writer('INSERT INTO orderflow.role_probe (x) VALUES (1), (2)')).toEqual({
        status: 200,
        body: '',
      });
      expect((await as.writer('SELECT count() FROM orderflow.role_probe')).body).toBe('2');
      refused(
        await as.writer('CREATE TABLE orderflow.w (x UInt8) ENGINE = Memory'),
        /DDL queries are prohibited for the user/,
      );
      refused(
        await as.writer('ALTER TABLE orderflow.role_probe ADD COLUMN z UInt8'),
        /DDL queries are prohibited for the user/,
      );
      refused(await as.writer('DROP TABLE orderflow.role_probe'), /DDL queries are prohibited for the user/);
    });

    it('the reader reads (with per-query settings), cannot INSERT or CREATE, and runs at most 8 queries at a time', async () => {
      expect((await as.reader('SELECT count() FROM orderflow.role_probe SETTINGS max_execution_time = 5')).body).toBe(
        '2',
      );
      refused(
        await as.reader('INSERT INTO orderflow.role_probe (x) VALUES (3)'),
        /Cannot insert into table in readonly mode/,
      );
      refused(
        await as.reader('CREATE TABLE orderflow.r (x UInt8) ENGINE = Memory'),
        /Cannot create table in readonly mode/,
      );
      refused(await as.reader('DROP TABLE orderflow.role_probe'), /readonly mode/);
      const answers = await Promise.all(Array.from({ length: 9 }, () => as.reader('SELECT sleep(1)')));
      expect(answers.filter((a) => a.status === 200).length).toBe(8);
      refused(answers.find((a) => a.status !== 200)!, /Too many simultaneous queries for user orderflow_reader/);
    });

    it('the analyst reads and can neither change a limit, nor call a table function, nor write', async () => {
      expect((await as.analyst('SELECT count() FROM orderflow.role_probe')).body).toBe('2');
      refused(await as.analyst('SET max_result_rows = 0'), /Cannot execute SET query in readonly mode/);
      refused(
        await as.analyst('SELECT 1 SETTINGS max_execution_time = 0'),
        /Cannot execute SET query in readonly mode/,
      );
      refused(
        await as.analyst("SELECT * FROM url('http://127.0.0.1:1/', CSV, 'a String')"),
        /Table functions are forbidden in readonly mode/,
      );
      refused(
        await as.analyst("SELECT * FROM remote('127.0.0.1:9000', system.one)"),
        /Table functions are forbidden in readonly mode/,
      );
      refused(
        await as.analyst("SELECT * FROM file('/etc/passwd', CSV, 'a String')"),
        /Table functions are forbidden in readonly mode/,
      );
      refused(
        await as.analyst('INSERT INTO orderflow.role_probe (x) VALUES (4)'),
        /Cannot insert into table in readonly mode/,
      );
      refused(await as.analyst('CREATE TABLE orderflow.a (x UInt8) ENGINE = Memory'), /readonly mode/);
      // its profile's max_result_rows (1,000,000) with result_overflow_mode throw
      refused(
        await as.analyst('SELECT number FROM system.numbers LIMIT 1000001 FORMAT Null'),
        /Limit for result exceeded/,
      );
    });

    it('the migrator cleans up after the probes', async () => {
      expect(await as.migrator('DROP TABLE orderflow.role_probe')).toEqual({ status: 200, body: '' });
    });
  });
});
