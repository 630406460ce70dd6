import { describe, expect, it } from 'vitest';
import { cspDirectives } from './security.headers.js';

describe('the Content-Security-Policy', () => {
  it('allows only the gateway itself by default, and no framing', () => {
    const d = cspDirectives({ any: false, origins: [] });
    expect(d['default-src']).toEqual(["'self'"]);
    expect(d['script-src']).toEqual(["'self'"]);
    expect(d['style-src']).toEqual(["'self'"]);
    expect(d['connect-src']).toEqual(["'self'"]);
    expect(d['frame-ancestors']).toEqual(["'none'"]);
    expect(d['object-src']).toEqual(["'none'"]);
    // nothing that would let an injected script run
    expect(
      Object.values(d)
        .flat()
        .filter((v) => /unsafe|nonce|\*/.test(v)),
    ).toEqual([]);
  });

  it('lets the dashboard connect to the allowed gateways over HTTP and WebSocket', () => {
    const d = cspDirectives({ any: false, origins: ['https://gw2.example', 'http://10.0.0.5:8080'] });
    expect(d['connect-src']).toEqual([
      "'self'",
      'https://gw2.example',
      'wss://gw2.example',
      'http://10.0.0.5:8080',
      'ws://10.0.0.5:8080',
    ]);
    expect(cspDirectives({ any: true, origins: [] })['connect-src']).toEqual(["'self'", '*', 'ws:', 'wss:']);
  });

  it('allows inline styles on the OpenAPI page only, never inline scripts', () => {
    const d = cspDirectives({ any: false, origins: [] }, true);
    expect(d['style-src']).toEqual(["'self'", "'unsafe-inline'"]);
    expect(d['script-src']).toEqual(["'self'"]);
  });
});
