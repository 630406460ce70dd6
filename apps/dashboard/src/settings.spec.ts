import { describe, expect, it } from 'vitest';
import { DEFAULTS, pageQuery, quantityUnits, ratioOf, settingsFromQuery, settingsToQuery } from './settings.js';

describe('settings', () => {
  it('round-trips through the query string and ignores invalid values', () => {
    const s = {
      ...DEFAULTS,
      exchange: 'merged',
      symbol: 'BTC-USDT',
      timeframe: '5m' as const,
      ticks: 50,
      mode: 'delta' as const,
      imbalancePercent: 250,
      profileMode: 'session' as const,
    };
    expect(settingsFromQuery(`?${settingsToQuery(s)}`)).toEqual(s);
    expect(settingsFromQuery('?tf=7m&ticks=-1&mode=nope&imbalance=x')).toEqual(DEFAULTS);
  });
  it('names no instrument unless the URL does (the page then opens a listed one), and writes none it does not have', () => {
    expect(settingsFromQuery('?tf=5m')).toMatchObject({ exchange: '', symbol: '', timeframe: '5m' });
    expect(settingsFromQuery('?exchange=bybit')).toMatchObject({ exchange: 'bybit', symbol: '' });
    expect(settingsToQuery({ ...DEFAULTS, timeframe: '5m' })).toBe('tf=5m');
    expect(settingsToQuery({ ...DEFAULTS, exchange: 'sim-binance', symbol: 'ETHUSDT' })).toBe(
      'exchange=sim-binance&symbol=ETHUSDT&tf=1m',
    );
  });
  it('keeps the page parameters that are not settings when it rewrites the URL, never a token', () => {
    const s = { ...DEFAULTS, exchange: 'merged', symbol: 'BTC-USDT' };
    expect(pageQuery(s, '?gateway=http%3A%2F%2Fgw%3A8080&token=t0k&tf=5m&symbol=X&timeframe=1h')).toBe(
      'exchange=merged&symbol=BTC-USDT&tf=1m&gateway=http%3A%2F%2Fgw%3A8080',
    );
  });
  it("turns the imbalance percent into the engine's ratio and quantities into units", () => {
    expect(ratioOf(300)).toBe('3');
    expect(ratioOf(250)).toBe('2.5');
    expect(ratioOf(0)).toBe('');
    expect(quantityUnits('1.5', 5)).toBe(150_000);
    expect(quantityUnits('2', 0)).toBe(2);
    expect(quantityUnits('abc', 5)).toBeNull();
    expect(quantityUnits('0', 5)).toBeNull();
  });
});
