import { describe, expect, it } from 'vitest';
import { silentLogger } from './logger.js';
import { connectNats, natsConnectionOptions } from './nats.connection.js';
import { getFreePortForTest } from './testing/ports.js';

describe('connectNats', () => {
  it('reconnects forever with a jittered wait', () => {
    const o = natsConnectionOptions({
      servers: 'nats://a:4222, nats://b:4222',
      name: 'collector',
      user: 'u',
      pass: 'p',
    });
    expect(o).toMatchObject({
      servers: ['nats://a:4222', 'nats://b:4222'],
      name: 'collector',
      user: 'u',
      pass: 'p',
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      reconnectJitter: 500,
    });
    expect(natsConnectionOptions({ servers: ['nats://a:4222'], name: 'x', token: 't' }).token).toBe('t');
  });

  it('refuses incomplete or conflicting credentials', () => {
    expect(() => natsConnectionOptions({ servers: '', name: 'x' })).toThrow(/no NATS server URL/);
    expect(() => natsConnectionOptions({ servers: 'nats://a', name: 'x', user: 'u' })).toThrow(
      /user and pass go together/,
    );
    expect(() => natsConnectionOptions({ servers: 'nats://a', name: 'x', user: 'u', pass: 'p', token: 't' })).toThrow(
      /either a token or user\/pass/,
    );
  });

  it('retries the first connection and gives up after firstConnectTimeoutMs, naming the server', async () => {
    const port = await getFreePortForTest();
    const warnings: string[] = [];
    await expect(
      connectNats({
        servers: `nats://127.0.0.1:${port}`,
        name: 'x',
        firstConnectTimeoutMs: 600,
        logger: { ...silentLogger, warn: (m) => void warnings.push(m) },
      }),
    ).rejects.toThrow(new RegExp(`NATS nats://127.0.0.1:${port}: could not connect in \\d+ attempts`));
    expect(warnings.length).toBeGreaterThan(0);
  });
});
