/**
 * A real nats-server with the platform's users (scripts/lib/nats-accounts.mjs): connectNats says
 * which user the server refused, and logs and counts every operation refused by the user's
 * permissions with its subject, while the connection stays up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { connectNats, drainNats, natsPermissionViolations, watchPermissionViolations } from './nats.connection.js';
import { type NatsServer, recordingLogger, startNats } from './testing/nats-server.js';

const PASSWORDS = {
  collector: 'pcollector0test0password',
  aggregator: 'paggregator0test0password',
  gateway: 'pgateway0test0password',
};

describe('connectNats with the platform users', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNats({ accounts: PASSWORDS });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('names the refused user, or the missing credentials, and does not retry', async () => {
    const started = Date.now();
    await expect(
      connectNats({
        servers: server.url,
        name: 'gw-test',
        user: 'gateway',
        pass: 'wrong-password',
        logger: recordingLogger(),
      }),
    ).rejects.toThrow(`NATS ${server.url}: the server refused user "gateway" for client "gw-test"`);
    await expect(connectNats({ servers: server.url, name: 'anon-test', logger: recordingLogger() })).rejects.toThrow(
      /refused no credentials \(set NATS_USER and NATS_PASSWORD\) for client "anon-test"/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('logs a refused publish and subscription with the subject, counts them, and keeps the connection', async () => {
    const log = recordingLogger();
    const nc = await connectNats({
      servers: server.url,
      name: 'gw-test',
      user: 'gateway',
      pass: PASSWORDS.gateway,
      logger: log,
    });
    try {
      const before = (op: string, subject: string) =>
        natsPermissionViolations().find((v) => v.operation === op && v.subject === subject)?.count ?? 0;
      const pubBefore = before('publish', 'trades.binance.BTCUSDT');
      nc.publish('trades.binance.BTCUSDT', '{}');
      const sub = nc.subscribe('gaps.>');
      const closed = sub.closed;
      await nc.flush();
      await expect(closed).resolves.toBeInstanceOf(Error);
      await expect.poll(() => before('publish', 'trades.binance.BTCUSDT')).toBe(pubBefore + 1);
      expect(before('subscription', 'gaps.>')).toBeGreaterThanOrEqual(1);
      const refused = log.lines.filter((l) => l.level === 'error' && l.message.startsWith('NATS: permission refused'));
      expect(refused.map((l) => l.message)).toEqual(
        expect.arrayContaining([
          'NATS: permission refused: publish to "trades.binance.BTCUSDT" for user "gateway": the server\'s permissions for this user do not allow it',
          'NATS: permission refused: subscription to "gaps.>" for user "gateway": the server\'s permissions for this user do not allow it',
        ]),
      );
      // the connection is still usable for what the user may do
      expect(nc.isClosed()).toBe(false);
      const live = nc.subscribe('live.binance.BTCUSDT.1m', { max: 1 });
      await nc.flush();
      expect(live.isClosed()).toBe(false);
      live.unsubscribe();
    } finally {
      await drainNats(nc);
    }
  });

  it("watchPermissionViolations does the same for a connection made elsewhere (a NestJS transport's)", async () => {
    const log = recordingLogger();
    const nc = await connect({ servers: server.url, user: 'collector', pass: PASSWORDS.collector });
    try {
      watchPermissionViolations(nc, log, 'collector');
      const before =
        natsPermissionViolations().find(
          (v) => v.operation === 'subscription' && v.subject === 'orderflow.agg.0.snapshot',
        )?.count ?? 0;
      nc.subscribe('orderflow.agg.0.snapshot');
      await nc.flush();
      await expect
        .poll(
          () =>
            natsPermissionViolations().find(
              (v) => v.operation === 'subscription' && v.subject === 'orderflow.agg.0.snapshot',
            )?.count ?? 0,
        )
        .toBe(before + 1);
      expect(log.lines.map((l) => l.message)).toContain(
        'NATS: permission refused: subscription to "orderflow.agg.0.snapshot" for user "collector": the server\'s permissions for this user do not allow it',
      );
    } finally {
      await nc.close();
    }
  });
});
