import { describe, expect, it } from 'vitest';
import { EnvReader } from './env.reader.js';
import { type NatsAuth, readNatsAuth, readNatsServers } from './nats.servers.js';

function read(env: Record<string, string>): { servers: string[]; problems: string[] } {
  const r = new EnvReader(env);
  const servers = readNatsServers(r);
  try {
    r.done();
    return { servers, problems: [] };
  } catch (e) {
    return { servers, problems: (e as { problems: string[] }).problems };
  }
}

describe('readNatsServers', () => {
  it('defaults to nats://NATS_HOST:NATS_PORT', () => {
    expect(read({})).toEqual({ servers: ['nats://127.0.0.1:4222'], problems: [] });
    expect(read({ NATS_HOST: 'nats.svc', NATS_PORT: '4333' })).toEqual({
      servers: ['nats://nats.svc:4333'],
      problems: [],
    });
  });

  it('takes one URL or a cluster list, trimmed, without empty items or repeats', () => {
    expect(read({ NATS_URL: 'tls://nats.example:4222' }).servers).toEqual(['tls://nats.example:4222']);
    expect(
      read({
        NATS_URL: ' nats://127.0.0.1:4301, nats://127.0.0.1:4302 ,,nats://127.0.0.1:4303,nats://127.0.0.1:4301 ',
        NATS_HOST: 'ignored',
      }),
    ).toEqual({
      servers: ['nats://127.0.0.1:4301', 'nats://127.0.0.1:4302', 'nats://127.0.0.1:4303'],
      problems: [],
    });
    expect(read({ NATS_URL: 'nats://user:secret@a:1,tls://[::1]:4222,nats://b' }).servers).toEqual([
      'nats://user:secret@a:1',
      'tls://[::1]:4222',
      'nats://b',
    ]);
  });

  it('refuses a list with any URL that is not nats: or tls:, naming the variable', () => {
    for (const bad of [
      'http://x',
      'nats://a:1,http://b:2',
      'nats://a:1,b:2',
      'nats:a',
      'nats://a:99999',
      ',',
      'nats://a:1;nats://b:2x',
    ])
      expect(read({ NATS_URL: bad }), bad).toEqual({
        servers: [],
        problems: [`NATS_URL must be nats: or tls: URLs separated by commas, got "${bad}"`],
      });
    expect(read({ NATS_PORT: '0' }).problems).toEqual(['NATS_PORT must be an integer from 1 to 65535, got "0"']);
  });
});

function readAuth(env: Record<string, string>): { auth: NatsAuth; problems: string[] } {
  const r = new EnvReader(env);
  const auth = readNatsAuth(r);
  try {
    r.done();
    return { auth, problems: [] };
  } catch (e) {
    return { auth, problems: (e as { problems: string[] }).problems };
  }
}

describe('readNatsAuth', () => {
  it('is empty without NATS_USER and NATS_PASSWORD (a server without users)', () => {
    expect(readAuth({})).toEqual({ auth: {}, problems: [] });
  });

  it('takes the user and the password', () => {
    expect(readAuth({ NATS_USER: 'collector', NATS_PASSWORD: 'p0ssw0rd-with:odd@chars' })).toEqual({
      auth: { user: 'collector', pass: 'p0ssw0rd-with:odd@chars' },
      problems: [],
    });
  });

  it('refuses one without the other, naming the missing variable and never the password', () => {
    expect(readAuth({ NATS_USER: 'gateway' })).toEqual({
      auth: {},
      problems: ['NATS_USER and NATS_PASSWORD go together: NATS_PASSWORD is missing'],
    });
    const r = readAuth({ NATS_PASSWORD: 'hunter2secret' });
    expect(r.problems).toEqual(['NATS_USER and NATS_PASSWORD go together: NATS_USER is missing']);
    expect(r.problems.join('\n')).not.toContain('hunter2secret');
  });

  it('refuses a user name with spaces or wildcards', () => {
    for (const bad of ['a b', 'agg*', 'x>'])
      expect(readAuth({ NATS_USER: bad, NATS_PASSWORD: 'pw' }).problems).toEqual([
        `NATS_USER must be 1-64 characters of A-Z a-z 0-9 _ . -, got "${bad}"`,
      ]);
  });

  it('refuses credentials in NATS_URL as well as in NATS_USER/NATS_PASSWORD', () => {
    const r = readAuth({
      NATS_URL: 'nats://a:4222,nats://u:secret@b:4222',
      NATS_USER: 'collector',
      NATS_PASSWORD: 'pw',
    });
    expect(r.problems).toEqual([
      'NATS_URL carries credentials and NATS_USER/NATS_PASSWORD are set too: give them in one place',
    ]);
    expect(readAuth({ NATS_URL: 'nats://a:4222', NATS_USER: 'collector', NATS_PASSWORD: 'pw' }).problems).toEqual([]);
  });
});
