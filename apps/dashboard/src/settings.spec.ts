import { describe, expect, it } from 'vitest';
import { DEFAULTS, quantityUnits, ratioOf, settingsFromQuery, settingsToQuery } from './settings.js';

describe('settings', () => {
  it('round-trips through the query string and ignores invalid values', () => {
    const s = { ...DEFAULTS, exchange: 'merged', symbol: 'BTC-USDT', timeframe: '5m' as const, ticks: 50, mode: 'delta' as const, imbalancePercent: 250, profileMode: 'session' as const };
    expect(settingsFromQuery(`?${settingsToQuery(s)}`)).toEqual(s);
    expect(settingsFromQuery('?tf=7m&ticks=-1&mode=nope&imbalance=x')).toEqual(DEFAULTS);
  });
  it('turns the imbalance percent into the engine\'s ratio and quantities into units', () => {
    expect(ratioOf(300)).toBe('3');
    expect(ratioOf(250)).toBe('2.5');
    expect(ratioOf(0)).toBe('');
    expect(quantityUnits('1.5', 5)).toBe(150_000);
    expect(quantityUnits('2', 0)).toBe(2);
    expect(quantityUnits('abc', 5)).toBeNull();
    expect(quantityUnits('0', 5)).toBeNull();
  });
});
