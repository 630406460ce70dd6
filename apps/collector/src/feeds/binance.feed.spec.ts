import type { DeadLetter, GapEvent } from '@orderflow/contracts';
import { type Instrument, type Trade, instrumentFromSteps } from '@orderflow/footprint';
import { describe, expect, it } from 'vitest';
import { BinanceFeed } from './binance.feed.js';

/** BinanceFeed with its frame handler reachable, fed by hand: no sockets, no REST. */
class TestFeed extends BinanceFeed {
  frame(text: string): void {
    this.onFrame(text, 1_735_689_600_000);
  }
}

function setUp() {
  const trades: Trade[] = [];
  const gaps: GapEvent[] = [];
  const dead: DeadLetter[] = [];
  const instruments = new Map<string, Instrument>([
    ['BTCUSDT', instrumentFromSteps('binance', 'BTCUSDT', '0.01', '0.00001')],
  ]);
  const feed = new TestFeed({
    exchange: 'binance',
    market: 'spot',
    wsUrl: 'ws://127.0.0.1:9',
    restUrl: 'http://127.0.0.1:9',
    instruments,
    startupBackfillMinutes: 0,
    plannedReconnectMs: 60_000,
    idleTimeoutMs: 60_000,
    restWeightPerMinute: 6000,
    sink: { add: (_i, t) => void trades.push(t), saturated: false, onceDrained: async () => undefined },
    events: { deadLetter: (d) => void dead.push(d), gap: (g) => void gaps.push(g) },
    logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
  });
  return { feed, trades, gaps, dead };
}

const frame = (a: number, f: number, l: number) =>
  `{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1735689600100,"s":"BTCUSDT","a":${a},"p":"93512.34000000","q":"0.01000000","f":${f},"l":${l},"T":1735689600099,"m":true,"M":true}}`;

describe('BinanceFeed frame handling', () => {
  it('records a break in the underlying trade ids (f != previous l + 1) while aggregate ids are contiguous', async () => {
    const { feed, trades, gaps } = setUp();
    await feed.start(); // opens no socket that matters: the test feeds frames by hand
    feed.frame(frame(1, 10, 12));
    feed.frame(frame(2, 13, 13)); // contiguous
    feed.frame(frame(3, 16, 16)); // 14..15 missing underneath
    await feed.stop();
    expect(trades.map((t) => t.id)).toEqual(['1', '2', '3']);
    expect(gaps).toMatchObject([
      {
        symbol: 'BTCUSDT',
        fromId: '14',
        toId: '15',
        missing: 2,
        status: 'unfilled',
        reason: 'underlying trade ids: f != previous l + 1',
      },
    ]);
    // the missing trades happened between the two trades around them (both at T here)
    expect(gaps[0]).toMatchObject({ fromTimeUs: 1735689600099000, toTimeUs: 1735689600099000 });
  });

  it('counts, logs and dead-letters a malformed frame, and goes on', async () => {
    const { feed, trades, dead } = setUp();
    await feed.start();
    feed.frame(frame(1, 1, 1));
    feed.frame('{"e":"aggTrade"');
    feed.frame(frame(2, 2, 2));
    await feed.stop();
    expect(trades.map((t) => t.id)).toEqual(['1', '2']);
    expect(dead).toMatchObject([{ exchange: 'binance', code: 'MALFORMED_JSON', raw: '{"e":"aggTrade"' }]);
    expect(feed.status().counters.malformed).toEqual({ MALFORMED_JSON: 1 });
  });
});
