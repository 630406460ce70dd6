import { describe, expect, it } from 'vitest';
import { ArrayTradeSource } from '../sources/source.js';
import { makeTrades } from '../testing/helpers.js';
import type { SimTrade } from '../trade.js';
import { createMarket, type Market } from './market.js';
import type { ProtocolAdapter } from './simulator.types.js';
import { TradeFlow } from './trade-flow.js';

function market(key: string): Market {
  return createMarket({
    key,
    symbol: key,
    category: 'spot',
    topic: key,
    instrument: {} as Market['instrument'],
    source: new ArrayTradeSource([]),
    historyLimit: 1000,
  });
}

/** An adapter that records what it observes and publishes, by market key. */
function recorder() {
  const observed: [string, number[]][] = [];
  const published: [string, number[]][] = [];
  const adapter = {
    observe: (m: Market, t: readonly SimTrade[]) => observed.push([m.key, t.map((x) => x.id)]),
    publish: (m: Market, t: readonly SimTrade[]) => published.push([m.key, t.map((x) => x.id)]),
  } as unknown as ProtocolAdapter;
  return { adapter, observed, published };
}

describe('TradeFlow', () => {
  it('puts every trade into history and observe, and withholds the skipped ones of the chosen market from publish', () => {
    const flow = new TradeFlow();
    const a = market('A');
    const b = market('B');
    const { adapter, observed, published } = recorder();
    const trades = makeTrades(10, { startId: 1 });
    flow.skip(4, 'A');
    flow.produce(adapter, b, trades.slice(0, 3));
    flow.produce(adapter, a, trades.slice(3, 6));
    flow.produce(adapter, a, trades.slice(6, 10));
    expect(published).toEqual([
      ['B', [1, 2, 3]],
      ['A', [8, 9, 10]],
    ]);
    expect(observed).toEqual([
      ['B', [1, 2, 3]],
      ['A', [4, 5, 6]],
      ['A', [7, 8, 9, 10]],
    ]);
    expect(a.history.size).toBe(7);
    expect(a.produced).toBe(7);
    expect({ produced: flow.produced, sent: flow.sent, skipped: flow.skipped, skipPending: flow.skipPending }).toEqual({
      produced: 10,
      sent: 6,
      skipped: 4,
      skipPending: 0,
    });
    // without a market, the next trades of any market are withheld
    flow.skip(2, undefined);
    flow.produce(adapter, b, makeTrades(3, { startId: 11 }));
    expect(published.at(-1)).toEqual(['B', [13]]);
  });
});
