import { sessionVwap } from '@orderflow/contracts';
import { describe, expect, it } from 'vitest';
import { SymbolState } from './symbol-state.js';
import type { IngestedTrade } from './trade-order.js';

const SCALES = { priceScale: 2, quantityScale: 3, tick: 1 };

describe('SymbolState session', () => {
  it('naked POCs: the POC of a finished session stays naked until a later trade reaches it, also across a restart', () => {
    const at = (day: number, min: number) => (Date.UTC(2024, 0, day, 10, min) + 1) * 1000;
    let id = 0;
    const t = (price: number, quantity: number, timeUs: number): IngestedTrade => ({
      exchange: 'sim',
      symbol: 'X',
      id: String(++id),
      price,
      quantity,
      side: 'buy',
      exchangeTimeUs: timeUs,
      receiveTimeMs: 0,
      ingestSeq: id,
    });
    const state = new SymbolState({ exchange: 'sim', symbol: 'X', scales: SCALES });
    state.apply([t(10000, 5, at(2, 0)), t(10001, 1, at(2, 1)), t(9999, 1, at(2, 2))]); // day 2: POC 100.00
    state.apply([t(10003, 1, at(3, 0))]); // day 3 opens above it
    expect(state.session().nakedPocs).toEqual([{ sessionStartMs: Date.UTC(2024, 0, 2), price: 10000 }]);
    state.apply([t(10001, 1, at(3, 1))]);
    expect(state.session().nakedPocs).toHaveLength(1);
    state.apply([t(10000, 1, at(3, 2))]); // traded through
    expect(state.session().nakedPocs).toEqual([]);
    // after a restart the prior sessions come from the stored daily levels
    const restored = new SymbolState({ exchange: 'sim', symbol: 'X', scales: SCALES });
    const lv = (price: number, v: number) => ({ price, buyVolume: v, sellVolume: 0, buyTrades: 1, sellTrades: 0 });
    restored.restore(
      Date.UTC(2024, 0, 4, 10, 0),
      [],
      [t(10010, 1, at(4, 1))],
      [
        { dayMs: Date.UTC(2024, 0, 1), levels: [lv(9000, 9), lv(9001, 1)] }, // POC 90.00, later covered by day 2
        { dayMs: Date.UTC(2024, 0, 2), levels: [lv(8999, 1), lv(9005, 1), lv(9500, 7)] }, // POC 95.00, naked
        { dayMs: Date.UTC(2024, 0, 3), levels: [lv(9700, 3), lv(9800, 1)] }, // POC 97.00, naked
      ],
    );
    expect(restored.session().nakedPocs).toEqual([
      { sessionStartMs: Date.UTC(2024, 0, 2), price: 9500 },
      { sessionStartMs: Date.UTC(2024, 0, 3), price: 9700 },
    ]);
  });

  it('session metrics: VWAP, CVD and POC of the UTC day', () => {
    const state = new SymbolState({ exchange: 'sim', symbol: 'X', scales: SCALES });
    const t = (id: string, price: number, quantity: number, side: 'buy' | 'sell', min: number): IngestedTrade => ({
      exchange: 'sim',
      symbol: 'X',
      id,
      price,
      quantity,
      side,
      exchangeTimeUs: (Date.UTC(2024, 0, 2, 10, min) + 1) * 1000,
      receiveTimeMs: 0,
      ingestSeq: Number(id),
    });
    state.apply([t('1', 10000, 3, 'buy', 0), t('2', 10001, 1, 'sell', 1), t('3', 10000, 2, 'sell', 2)]);
    const s = state.session();
    // vwap = (100.00*3 + 100.01*1 + 100.00*2) / 6 = 600.01 / 6 = 100.001666... -> 6 decimals half-even
    // notional = 10000*3 + 10001*1 + 10000*2 (price units x quantity units)
    expect(s).toEqual({
      startMs: Date.UTC(2024, 0, 2),
      poc: 10000,
      vah: 10000,
      val: 10000,
      vwap: '100.001667',
      notional: '60001',
      cvd: 0,
      volume: 6,
      trades: 3,
      nakedPocs: [],
    });
    expect(sessionVwap(60001n, 6, SCALES.priceScale)).toBe('100.001667');
    expect(new SymbolState({ exchange: 'sim', symbol: 'X', scales: SCALES }).session()).toMatchObject({
      vwap: null,
      notional: '0',
      volume: 0,
    });
  });
});
