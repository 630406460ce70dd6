/**
 * The local NATS users (scripts/lib/nats-accounts.mjs, as the set-up runs its nats-server): on a
 * real nats-server, each component's credentials do what the component does (the JetStream calls
 * of ensureStreams, lastStoredTrades, the aggregator's durable consumers, live updates, the
 * snapshot request/reply) and are refused everything else, with a permissions violation naming
 * the subject; the refused operation has no effect. A client without credentials, or with a wrong
 * password, is refused. The passwords are generated once into files of mode 0600 and reused.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, PermissionViolationError } from '@nats-io/transport-node';
import { TRADES_STREAM, EVENTS_STREAM, encodeTradeBatch } from '@orderflow/contracts';
import { ensureStreams, lastStoredTrades } from '@orderflow/nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Passwords {
  collector: string;
  aggregator: string;
  gateway: string;
  admin: string;
}
interface AccountsModule {
  ensureNatsPasswords(dir: string): Passwords;
}
interface ServicesModule {
  startNats(o: {
    storeDir?: string;
    accounts?: Passwords;
  }): Promise<{ url: string; port: number; stop(): Promise<void> }>;
  getFreePort(): Promise<number>;
}
const SERVICES_CLI = new URL('../../scripts/lib/services.mjs', import.meta.url).pathname;
const run = promisify(execFile);
const accounts = (await import(new URL('../../scripts/lib/nats-accounts.mjs', import.meta.url).href)) as AccountsModule;
const services = (await import(new URL('../../scripts/lib/services.mjs', import.meta.url).href)) as ServicesModule;

const HOUR = 3_600_000;

/** Resolves with the permission violation the server reports for `subject` after `action`. */
async function refused(nc: NatsConnection, subject: string, action: () => unknown): Promise<PermissionViolationError> {
  const seen = (async () => {
    for await (const s of nc.status())
      if (s.type === 'error' && s.error instanceof PermissionViolationError && s.error.subject === subject)
        return s.error;
    throw new Error('connection closed before the violation arrived');
  })();
  try {
    await action();
  } catch {
    // a refused request also times out or fails; the violation is what this waits for
  }
  await nc.flush();
  return await Promise.race([
    seen,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no permissions violation for ${subject}`)), 3000),
    ),
  ]);
}

describe('local NATS users and their permissions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-nats-accounts-'));
  let pw: Passwords;
  let server: { url: string; stop(): Promise<void> };
  const open: NatsConnection[] = [];
  const as = async (user: keyof Passwords) => {
    const nc = await connect({ servers: server.url, user, pass: pw[user], name: `test-${user}` });
    open.push(nc);
    return nc;
  };

  beforeAll(async () => {
    pw = accounts.ensureNatsPasswords(join(dir, 'secrets'));
    server = await services.startNats({ storeDir: join(dir, 'nats'), accounts: pw });
  });
  afterAll(async () => {
    await Promise.all(open.map((nc) => nc.close()));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates each password once, readable by the owner only, and reuses it', () => {
    for (const name of ['collector', 'aggregator', 'gateway', 'admin'] as const) {
      expect(statSync(join(dir, 'secrets', `nats-${name}.password`)).mode & 0o777, name).toBe(0o600);
      expect(pw[name]).toMatch(/^[a-z][a-z0-9]{31}$/);
    }
    expect(new Set(Object.values(pw)).size).toBe(4);
    expect(accounts.ensureNatsPasswords(join(dir, 'secrets'))).toEqual(pw);
  });

  it('refuses a client without credentials or with a wrong password', async () => {
    await expect(connect({ servers: server.url, name: 'anonymous' })).rejects.toThrow(/Authorization Violation/i);
    await expect(connect({ servers: server.url, user: 'collector', pass: pw.gateway })).rejects.toThrow(
      /Authorization Violation/i,
    );
  });

  it('collector: ensures its streams, publishes trades and events, reads its last batch; nothing else', async () => {
    const nc = await as('collector');
    const made = await ensureStreams(nc, {
      maxAgeMs: HOUR,
      maxBytes: 64 << 20,
      duplicateWindowMs: 60_000,
      storage: 'file',
    });
    expect(made.map((s) => `${s.stream} ${s.action}`)).toEqual([
      `${TRADES_STREAM} created`,
      `${EVENTS_STREAM} created`,
    ]);
    // an update of the limits (ensureStreams on a changed configuration)
    expect(
      (
        await ensureStreams(nc, { maxAgeMs: 2 * HOUR, maxBytes: 64 << 20, duplicateWindowMs: 60_000, storage: 'file' })
      ).map((s) => s.action),
    ).toEqual(['updated', 'updated']);
    const js = jetstream(nc);
    const batch = encodeTradeBatch({
      exchange: 'binance',
      symbol: 'BTCUSDT',
      priceScale: 2,
      quantityScale: 5,
      trades: [
        {
          exchange: 'binance',
          symbol: 'BTCUSDT',
          id: '7',
          price: 100,
          quantity: 3,
          side: 'buy',
          exchangeTimeUs: 1_000_000,
          receiveTimeMs: 1001,
        },
      ],
    });
    await js.publish('trades.binance.BTCUSDT', batch, { msgID: 'binance.BTCUSDT.7-7' });
    await js.publish('gaps.binance.BTCUSDT', '{}');
    await js.publish('deadletter.binance', '{}');
    const tail = await lastStoredTrades(await jetstreamManager(nc), 'binance', 'BTCUSDT');
    expect(tail?.last.id).toBe('7');

    expect((await refused(nc, 'live.>', () => nc.subscribe('live.>'))).operation).toBe('subscription');
    expect((await refused(nc, 'trades.>', () => nc.subscribe('trades.>'))).operation).toBe('subscription');
    expect(
      (await refused(nc, 'live.binance.BTCUSDT.1m', () => nc.publish('live.binance.BTCUSDT.1m', '{}'))).operation,
    ).toBe('publish');
    expect(
      (await refused(nc, 'orderflow.agg.0.snapshot', () => nc.publish('orderflow.agg.0.snapshot', '{}'))).operation,
    ).toBe('publish');
    for (const api of [
      `$JS.API.STREAM.DELETE.${TRADES_STREAM}`,
      `$JS.API.STREAM.PURGE.${TRADES_STREAM}`,
      `$JS.API.STREAM.DELETE.${EVENTS_STREAM}`,
      `$JS.API.CONSUMER.CREATE.${TRADES_STREAM}.spy.trades.>`,
      '$JS.API.STREAM.CREATE.OTHER',
      '$JS.API.STREAM.LIST',
    ])
      expect((await refused(nc, api, () => nc.publish(api, '{}'))).operation, api).toBe('publish');
  });

  it('aggregator: consumes TRADES and the gap events through its durables, publishes live updates, answers snapshots; nothing else', async () => {
    const nc = await as('aggregator');
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    expect((await jsm.streams.info(TRADES_STREAM, { subjects_filter: 'trades.>' })).state.subjects).toEqual({
      'trades.binance.BTCUSDT': 1,
    });
    await jsm.consumers.add(TRADES_STREAM, {
      durable_name: 'agg_binance_BTCUSDT',
      filter_subject: 'trades.binance.BTCUSDT',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_deliver: -1,
    });
    await jsm.consumers.update(TRADES_STREAM, 'agg_binance_BTCUSDT', { max_ack_pending: 500 });
    const trades = await (
      await js.consumers.get(TRADES_STREAM, 'agg_binance_BTCUSDT')
    ).fetch({ max_messages: 1, expires: 1000 });
    for await (const m of trades) {
      m.working();
      await m.ackAck();
    }
    expect((await jsm.consumers.info(TRADES_STREAM, 'agg_binance_BTCUSDT')).num_ack_pending).toBe(0);
    await jsm.consumers.add(EVENTS_STREAM, {
      durable_name: 'agg_gaps',
      filter_subject: 'gaps.>',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
    });
    const gaps = await (await js.consumers.get(EVENTS_STREAM, 'agg_gaps')).fetch({ max_messages: 1, expires: 1000 });
    let n = 0;
    for await (const m of gaps) {
      n++;
      await m.ackAck();
    }
    expect(n).toBe(1);
    await js.publish('deadletter.binance', '{}');
    nc.publish('live.binance.BTCUSDT.1m', '{}');
    // the snapshot responder answers a gateway's request
    nc.subscribe('orderflow.agg.0.snapshot', { callback: (_e, m) => void m.respond('{"v":1}') });
    await nc.flush();
    const gw = await as('gateway');
    expect((await gw.request('orderflow.agg.0.snapshot', '{}', { timeout: 2000 })).string()).toBe('{"v":1}');

    expect(
      (await refused(nc, 'trades.binance.BTCUSDT', () => nc.publish('trades.binance.BTCUSDT', '{}'))).operation,
    ).toBe('publish');
    expect((await refused(nc, 'gaps.binance.BTCUSDT', () => nc.publish('gaps.binance.BTCUSDT', '{}'))).operation).toBe(
      'publish',
    );
    for (const api of [
      `$JS.API.STREAM.DELETE.${TRADES_STREAM}`,
      `$JS.API.STREAM.PURGE.${TRADES_STREAM}`,
      `$JS.API.STREAM.UPDATE.${TRADES_STREAM}`,
      `$JS.API.CONSUMER.DELETE.${TRADES_STREAM}.agg_binance_BTCUSDT`,
      `$JS.API.CONSUMER.DELETE.${EVENTS_STREAM}.agg_gaps`,
      `$JS.API.STREAM.MSG.DELETE.${TRADES_STREAM}`,
      `$JS.API.CONSUMER.CREATE.${EVENTS_STREAM}.spy.deadletter.>`,
    ])
      expect((await refused(nc, api, () => nc.publish(api, '{}'))).operation, api).toBe('publish');
    expect((await refused(nc, 'trades.>', () => nc.subscribe('trades.>'))).operation).toBe('subscription');
  });

  it('gateway: follows live updates and requests snapshots; nothing else', async () => {
    const nc = await as('gateway');
    const agg = await as('aggregator');
    const live = nc.subscribe('live.>', { max: 1 });
    await nc.flush();
    agg.publish('live.binance.BTCUSDT.1m', '{"seq":1}');
    for await (const m of live) expect(m.string()).toBe('{"seq":1}');

    expect(
      (await refused(nc, 'trades.binance.BTCUSDT', () => nc.publish('trades.binance.BTCUSDT', '{}'))).operation,
    ).toBe('publish');
    expect(
      (await refused(nc, 'live.binance.BTCUSDT.1m', () => nc.publish('live.binance.BTCUSDT.1m', '{}'))).operation,
    ).toBe('publish');
    expect(
      (await refused(nc, 'orderflow.agg.*.snapshot', () => nc.subscribe('orderflow.agg.*.snapshot'))).operation,
    ).toBe('subscription');
    expect((await refused(nc, 'trades.>', () => nc.subscribe('trades.>'))).operation).toBe('subscription');
    for (const api of [
      '$JS.API.INFO',
      `$JS.API.STREAM.INFO.${TRADES_STREAM}`,
      `$JS.API.STREAM.DELETE.${TRADES_STREAM}`,
      `$JS.API.STREAM.MSG.GET.${TRADES_STREAM}`,
      `$JS.API.CONSUMER.DELETE.${TRADES_STREAM}.agg_binance_BTCUSDT`,
    ])
      expect((await refused(nc, api, () => nc.publish(api, '{}'))).operation, api).toBe('publish');
  });

  it('the refused calls changed nothing: the streams, their messages and the durables are all there', async () => {
    const jsm = await jetstreamManager(await as('admin'));
    expect((await jsm.streams.info(TRADES_STREAM)).state.messages).toBe(1);
    expect((await jsm.streams.info(EVENTS_STREAM)).state.messages).toBe(3);
    expect((await jsm.consumers.info(TRADES_STREAM, 'agg_binance_BTCUSDT')).name).toBe('agg_binance_BTCUSDT');
    expect((await jsm.consumers.info(EVENTS_STREAM, 'agg_gaps')).name).toBe('agg_gaps');
    expect(await jsm.streams.names().next()).toEqual([TRADES_STREAM, EVENTS_STREAM].sort());
  });

  it('the set-up (services.mjs ensure) starts its own server with the users and passwords in secrets/, and says when a server it did not start is used', async () => {
    const data = join(dir, 'setup');
    const port = await services.getFreePort();
    const env = {
      ...process.env,
      ORDERFLOW_DATA_DIR: data,
      NATS_HOST: '127.0.0.1',
      NATS_PORT: String(port),
      NATS_URL: '',
      ORDERFLOW_STARTED_FILE: '',
    };
    try {
      const { stdout } = await run('node', [SERVICES_CLI, 'ensure', 'nats'], { env });
      expect(stdout).toMatch(/users collector, aggregator, gateway and admin/);
      const url = `nats://127.0.0.1:${port}`;
      await expect(connect({ servers: url, name: 'anonymous' })).rejects.toThrow(/Authorization Violation/i);
      const pass = readFileSync(join(data, 'secrets', 'nats-gateway.password'), 'utf8').trim();
      const nc = await connect({ servers: url, user: 'gateway', pass });
      expect(await refused(nc, 'trades.x.y', () => nc.publish('trades.x.y', '{}'))).toBeInstanceOf(
        PermissionViolationError,
      );
      await nc.close();
      // again: the server it started is left alone, without a warning
      expect((await run('node', [SERVICES_CLI, 'ensure', 'nats'], { env })).stdout).not.toMatch(/WARNING/);
    } finally {
      await run('node', [SERVICES_CLI, 'stop'], { env });
    }
    const foreign = await services.startNats({ storeDir: join(dir, 'foreign') });
    try {
      const { stdout } = await run('node', [SERVICES_CLI, 'ensure', 'nats'], {
        env: { ...env, NATS_PORT: String(foreign.port) },
      });
      expect(stdout).toContain(
        `WARNING the set-up did not start the server on 127.0.0.1:${foreign.port}: the platform's NATS users and permissions (scripts/lib/nats-accounts.mjs) are not in force there`,
      );
    } finally {
      await foreign.stop();
    }
  });
});
