import { describe, expect, it } from 'vitest';
import {
  NO_OTHER_GATEWAYS,
  chooseGateway,
  needsConfig,
  parseDashboardConfig,
  takeToken,
  tokenKey,
  withoutToken,
} from './gateway.target.js';

const PAGE = 'https://dash.example';

describe("?gateway=: only the page's own origin or one the serving gateway allows", () => {
  it("without ?gateway= the page's own gateway, with no list needed", () => {
    expect(needsConfig(null, PAGE)).toBe(false);
    expect(chooseGateway(null, PAGE, NO_OTHER_GATEWAYS)).toEqual({ ok: true, baseUrl: '' });
    expect(chooseGateway('', PAGE, NO_OTHER_GATEWAYS)).toEqual({ ok: true, baseUrl: '' });
  });

  it('its own origin, however written, is allowed without the list', () => {
    for (const g of ['https://dash.example', 'https://dash.example/', 'https://DASH.example:443/x']) {
      expect(needsConfig(g, PAGE), g).toBe(false);
      expect(chooseGateway(g, PAGE, NO_OTHER_GATEWAYS), g).toEqual({ ok: true, baseUrl: PAGE });
    }
  });

  it('another origin only when the list has it (or allows any)', () => {
    const config = { allowedGateways: ['https://gw2.example'], anyGateway: false };
    expect(needsConfig('https://gw2.example', PAGE)).toBe(true);
    expect(chooseGateway('https://gw2.example/', PAGE, config)).toEqual({ ok: true, baseUrl: 'https://gw2.example' });
    const evil = chooseGateway('https://evil.example', PAGE, config);
    expect(evil).toEqual({
      ok: false,
      reason:
        "gateway https://evil.example is not allowed for this dashboard (allowed: https://dash.example, https://gw2.example; the gateway's GATEWAY_ALLOWED_ORIGINS): not connecting",
    });
    // the same host on another scheme or port is another origin
    expect(chooseGateway('http://gw2.example', PAGE, config).ok).toBe(false);
    expect(chooseGateway('https://gw2.example:8443', PAGE, config).ok).toBe(false);
    expect(chooseGateway('https://evil.example', PAGE, { allowedGateways: [], anyGateway: true })).toEqual({
      ok: true,
      baseUrl: 'https://evil.example',
    });
  });

  it('refuses what is not an http(s) origin', () => {
    for (const g of [
      'javascript:alert(1)',
      'evil.example',
      'ws://gw2.example',
      'https://user:pw@gw2.example',
      '//evil.example',
    ]) {
      const c = chooseGateway(g, PAGE, { allowedGateways: [], anyGateway: true });
      expect(c.ok, g).toBe(false);
      expect((c as { reason: string }).reason, g).toMatch(/is not an http\(s\) origin .*: not connecting$/);
    }
  });

  it('reads /dashboard-config.json strictly: anything unexpected allows no other gateway', () => {
    expect(
      parseDashboardConfig({
        allowedGateways: ['https://gw2.example', 'https://x.example/path', 7],
        anyGateway: false,
      }),
    ).toEqual({ allowedGateways: ['https://gw2.example'], anyGateway: false });
    expect(parseDashboardConfig({ anyGateway: 'yes' })).toEqual(NO_OTHER_GATEWAYS);
    expect(parseDashboardConfig(null)).toEqual(NO_OTHER_GATEWAYS);
    expect(parseDashboardConfig('<html>')).toEqual(NO_OTHER_GATEWAYS);
  });
});

describe('?token=: read once, out of the address bar, kept for the tab', () => {
  function storage() {
    const m = new Map<string, string>();
    return { m, getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
  }

  it('takes the token, rewrites the address without it (the other parameters kept in order) and keeps it in the tab', () => {
    const s = storage();
    const urls: string[] = [];
    expect(takeToken('?exchange=binance&token=s3cr%2Bt&symbol=BTCUSDT', '', s, (u) => urls.push(u))).toBe('s3cr+t');
    expect(urls).toEqual(['?exchange=binance&symbol=BTCUSDT']);
    expect(s.m.get(tokenKey(''))).toBe('s3cr+t');
    // a reload: the bar has no token, the tab still does
    expect(takeToken('?exchange=binance&symbol=BTCUSDT', '', s, (u) => urls.push(u))).toBe('s3cr+t');
    expect(urls).toHaveLength(1);
  });

  it('keeps a token per gateway, and a page without any has none', () => {
    const s = storage();
    takeToken('?gateway=https%3A%2F%2Fgw2.example&token=t2', 'https://gw2.example', s, () => undefined);
    expect(takeToken('', '', s, () => undefined)).toBeNull();
    expect(takeToken('?gateway=https%3A%2F%2Fgw2.example', 'https://gw2.example', s, () => undefined)).toBe('t2');
  });

  it('removes every token parameter, an empty one too, and works without storage', () => {
    expect(withoutToken('?token=a&token=b')).toBe('');
    const urls: string[] = [];
    expect(takeToken('?token=', '', null, (u) => urls.push(u))).toBeNull();
    expect(urls).toEqual(['']);
    expect(takeToken('?token=x', '', null, () => undefined)).toBe('x');
  });
});
