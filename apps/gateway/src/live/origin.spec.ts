import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../config/gateway.config.js';
import { normalizeOrigin, parseAllowedOrigins, refusedOrigin } from './origin.js';

const none = { any: false, origins: [] };

describe('Socket.IO Origin allowlist', () => {
  it('allows a request without Origin (not a browser page)', () => {
    expect(refusedOrigin(undefined, 'gw.example:8080', none)).toBeNull();
    expect(refusedOrigin(undefined, undefined, none)).toBeNull();
  });

  it("allows the gateway's own origin: Origin equal to the Host with http or https", () => {
    expect(refusedOrigin('http://127.0.0.1:8080', '127.0.0.1:8080', none)).toBeNull();
    expect(refusedOrigin('https://gw.example', 'gw.example', none)).toBeNull();
    expect(refusedOrigin('http://gw.example', 'GW.example', none)).toBeNull();
    // a default port written in Host
    expect(refusedOrigin('https://gw.example', 'gw.example:443', none)).toBeNull();
    expect(refusedOrigin('http://[::1]:8080', '[::1]:8080', none)).toBeNull();
  });

  it('refuses another origin, another port of the same host, null, and a Host that is not a host', () => {
    expect(refusedOrigin('https://evil.example', 'gw.example', none)).toMatch(
      /^Origin https:\/\/evil\.example is not allowed/,
    );
    expect(refusedOrigin('http://127.0.0.1:8081', '127.0.0.1:8080', none)).not.toBeNull();
    expect(refusedOrigin('https://gw.example:8443', 'gw.example', none)).not.toBeNull();
    expect(refusedOrigin('null', 'gw.example', none)).toMatch(/not an http\(s\) origin/);
    expect(refusedOrigin('file://', 'gw.example', none)).not.toBeNull();
    expect(refusedOrigin('https://evil.example', undefined, none)).not.toBeNull();
    expect(refusedOrigin('http://x', 'evil@x', none)).not.toBeNull();
    expect(refusedOrigin('http://x', 'x/path', none)).not.toBeNull();
    expect(refusedOrigin(['http://gw.example', 'http://gw.example'], 'gw.example', none)).not.toBeNull();
  });

  it('allows configured origins exactly, and any origin with *', () => {
    const { allowed, problems } = parseAllowedOrigins(
      ' https://Dash.Example , http://localhost:5173/,https://dash.example',
    );
    expect(problems).toEqual([]);
    expect(allowed).toEqual({ any: false, origins: ['https://dash.example', 'http://localhost:5173'] });
    expect(refusedOrigin('https://dash.example', 'gw.internal:8080', allowed)).toBeNull();
    expect(refusedOrigin('http://localhost:5173', 'gw.internal:8080', allowed)).toBeNull();
    expect(refusedOrigin('http://dash.example', 'gw.internal:8080', allowed)).not.toBeNull();
    expect(refusedOrigin('https://dash.example.evil', 'gw.internal:8080', allowed)).not.toBeNull();
    const star = parseAllowedOrigins('*').allowed;
    expect(star.any).toBe(true);
    expect(refusedOrigin('https://evil.example', 'gw.example', star)).toBeNull();
  });

  it('normalizes origins and refuses what is not one', () => {
    expect(normalizeOrigin('HTTPS://A.example:443')).toBe('https://a.example');
    expect(normalizeOrigin('https://a.example/path')).toBeNull();
    expect(normalizeOrigin('https://u@a.example')).toBeNull();
    expect(normalizeOrigin('ftp://a.example')).toBeNull();
    expect(normalizeOrigin('a.example')).toBeNull();
    expect(parseAllowedOrigins('https://a.example/app,ws://b').problems).toEqual([
      'GATEWAY_ALLOWED_ORIGINS must be * or http(s) origins (scheme://host[:port], no path) separated by commas, got "https://a.example/app"',
      'GATEWAY_ALLOWED_ORIGINS must be * or http(s) origins (scheme://host[:port], no path) separated by commas, got "ws://b"',
    ]);
  });

  it('is read from GATEWAY_ALLOWED_ORIGINS (default: none besides its own) and a bad entry stops the start', () => {
    expect(loadGatewayConfig({}).allowedOrigins).toEqual({ any: false, origins: [] });
    expect(loadGatewayConfig({ GATEWAY_ALLOWED_ORIGINS: 'https://dash.example' }).allowedOrigins).toEqual({
      any: false,
      origins: ['https://dash.example'],
    });
    expect(() => loadGatewayConfig({ GATEWAY_ALLOWED_ORIGINS: 'dash.example' })).toThrow(
      /GATEWAY_ALLOWED_ORIGINS must be/,
    );
  });
});
