/**
 * What every proof run must end with, whatever its fault: ClickHouse equal to the independent
 * reference (nothing lost, nothing counted twice), and the live client, and a client subscribing
 * after the run, holding exactly what ClickHouse holds.
 */
import { expect } from 'vitest';
import type { LiveClientStats, LiveComparison } from './live-client.js';
import type { Measurement } from './pipeline.js';

export function expectNothingLost(measurements: readonly Measurement[]): void {
  for (const m of measurements) {
    expect({
      symbol: m.symbol,
      lost: m.lost,
      countedTwice: m.countedTwice,
      foreign: m.foreign,
      cells: m.cellDiffs,
      candles: m.candleDiffs,
      raw: m.rawDiffs,
      volume: m.volumeDiff,
    }).toEqual({
      symbol: m.symbol,
      lost: 0,
      countedTwice: 0,
      foreign: 0,
      cells: 0,
      candles: 0,
      raw: 0,
      volume: '0',
    });
    expect(m.tradesInClickHouse).toBe(m.tradesIn);
  }
}

export function expectLiveExact(
  cmp: { live: readonly LiveComparison[]; fresh: readonly LiveComparison[] },
  stats: readonly LiveClientStats[],
  errors: readonly { code: string }[],
): void {
  // cells, every summary field, POC / value area and the gateway's HTTP history, from the client's first candle on,
  // nothing missing
  for (const [who, all] of [
    ['live client', cmp.live],
    ['new subscriber', cmp.fresh],
  ] as const)
    for (const c of all) {
      expect({
        who,
        view: c.view,
        cells: c.cellDiffs,
        candles: c.candleDiffs,
        missing: c.missingCandles,
        metrics: c.metricDiffs,
        http: c.httpDiffs,
        examples: c.examples,
      }).toEqual({
        who,
        view: c.view,
        cells: 0,
        candles: 0,
        missing: 0,
        metrics: 0,
        http: 0,
        examples: [],
      });
      expect(c.candles, `${who} ${c.view}`).toBeGreaterThan(0);
    }
  for (const s of stats) {
    // the protocol's promise: seq grows by 1 per update of a subscription (a stream resync reaches clients as `replace`
    // updates, not as a gap)
    expect({ view: s.view, gaps: s.gaps }).toEqual({ view: s.view, gaps: 0 });
    expect(s.updates, `${s.view} got updates`).toBeGreaterThan(0);
  }
  // unknown-symbol: subscribed before the aggregator saw the symbol (retried); too-slow: disconnected by the gateway,
  // connected again
  expect(errors.filter((e) => e.code !== 'unknown-symbol' && e.code !== 'too-slow')).toEqual([]);
}
