import { describe, expect, it } from 'vitest';
import { ConfigError, EnvReader } from './env.reader.js';

describe('EnvReader', () => {
  it('reads values with defaults', () => {
    const r = new EnvReader({ A: ' 5 ', L: 'BTCUSDT, ETHUSDT', U: 'wss://x.example/' });
    expect(r.int('A', 1, 0, 10)).toBe(5);
    expect(r.int('B', 7, 0, 10)).toBe(7);
    expect(r.list('L', /^[A-Z]+$/)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(r.url('U', undefined, ['wss:'])).toBe('wss://x.example');
    expect(r.oneOf('M', ['a', 'b'] as const, 'b')).toBe('b');
    r.done();
  });

  it('collects every problem, naming the variable and the allowed range', () => {
    const r = new EnvReader({ A: '11', L: 'btc usdt', U: 'http://x', M: 'c' });
    r.int('A', 1, 0, 10);
    r.list('L', /^[A-Z]+$/);
    r.url('U', undefined, ['wss:', 'ws:']);
    r.oneOf('M', ['a', 'b'] as const);
    r.string('REQ');
    let err: ConfigError | undefined;
    try {
      r.done();
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems).toEqual([
      'A must be an integer from 0 to 10, got "11"',
      'L must be a comma-separated list matching /^[A-Z]+$/, bad: btc usdt',
      'U must be a wss: or ws: URL, got "http://x"',
      'M must be one of a, b, got "c"',
      'REQ is required',
    ]);
  });
});
