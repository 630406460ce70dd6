/**
 * SequencedFeed's start with trades stored: resume after the last stored id and catch up from
 * REST, record what REST no longer serves. REST is an in-memory history (Binance-like pages of
 * 1000 from an id; OKX-like windows of 100 ids below `after`); no sockets matter.
 */
import type { GapEvent } from '@orderflow/contracts';
import { type Instrument, type Trade, instrumentFromSteps } from '@orderflow/footprint';
import type { BinanceAggTrade } from '@orderflow/normalizers';
import { describe, expect, it } from 'vitest';
import { BinanceFeed } from './binance.feed.js';
import { OkxFeed } from './okx.feed.js';
import type { StoredTail } from './resume.js';

/** Now, in µs, once: trade i happened 10,000 - i seconds before it. */
const NOW_US = Date.now() * 1000;
const trade = (id: number): BinanceAggTrade => ({
  exchange: 'binance',
  symbol: 'BTCUSDT',
  id: String(id),
  price: 9_351_234 + (id % 7),
  quantity: 1 + (id % 5),
  side: id % 2 ? 'buy' : 'sell',
  // one trade a second, ending near now
  exchangeTimeUs: NOW_US - (10_000 - id) * 1_000_000,
  receiveTimeMs: 0,
  firstTradeId: String(id),
  lastTradeId: String(id),
});

/** History ids first..last as REST serves them. */
function history(first: number, last: number): BinanceAggTrade[] {
  return Array.from({ length: last - first + 1 }, (_, i) => trade(first + i));
}

function setUp<F extends BinanceFeed | OkxFeed>(
  make: (o: ConstructorParameters<typeof BinanceFeed>[0]) => F,
  stored: StoredTail | null,
  maxCatchUpMs = 72 * 3_600_000,
) {
  const trades: Trade[] = [];
  const gaps: GapEvent[] = [];
  const lines: string[] = [];
  const instruments = new Map<string, Instrument>([
    ['BTCUSDT', instrumentFromSteps('binance', 'BTCUSDT', '0.01', '0.00001')],
  ]);
  const feed = make({
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
    events: { deadLetter: () => undefined, gap: (g) => void gaps.push(g) },
    logger: { log: (m) => void lines.push(m), warn: (m) => void lines.push(m), error: (m) => void lines.push(m) },
    resume: { maxCatchUpMs, source: { lastStored: async () => stored } },
  });
  return { feed, trades, gaps, lines };
}

/** A Binance feed whose REST is `rest`: aggTrades from an id (1000 a page), the newest, the first since a time. */
class BinanceOnHistory extends BinanceFeed {
  rest_: BinanceAggTrade[] = [];
  requests = 0;
  protected override async fetchFrom(_symbol: string, fromId: number): Promise<BinanceAggTrade[]> {
    this.requests++;
    return this.rest_.filter((t) => Number(t.id) >= fromId).slice(0, 1000);
  }
  protected override async newestTrade(): Promise<BinanceAggTrade | null> {
    return this.rest_.at(-1) ?? null;
  }
  protected override async firstIdSince(_symbol: string, sinceMs: number): Promise<number | null> {
    const t = this.rest_.find((x) => x.exchangeTimeUs >= sinceMs * 1000);
    return t ? Number(t.id) : null;
  }
}

/**
 * An OKX feed on the same history: pages are the 100 ids below `after` (an empty page when REST's history starts above
 * them).
 */
class OkxOnHistory extends OkxFeed {
  rest_: BinanceAggTrade[] = [];
  protected override async fetchFrom(_symbol: string, fromId: number): Promise<Trade[]> {
    return this.rest_.filter((t) => Number(t.id) >= fromId && Number(t.id) < fromId + 100);
  }
  protected override async newestTrade(): Promise<Trade | null> {
    return this.rest_.at(-1) ?? null;
  }
}

const tail = (id: number): StoredTail => ({
  lastId: String(id),
  lastTimeUs: trade(id).exchangeTimeUs,
  idsAtLastTime: [String(id)],
});

async function caughtUp(feed: BinanceFeed | OkxFeed): Promise<void> {
  for (let i = 0; i < 200 && feed.status().symbols[0]!.catchUp?.active !== false; i++)
    await new Promise((r) => setTimeout(r, 10));
}

describe('SequencedFeed: resume after the last stored trade', () => {
  it('catches up from the id after the stored one to REST newest, every id once, and records the hole as detected then filled', async () => {
    const { feed, trades, gaps } = setUp((o) => new BinanceOnHistory({ ...o, market: 'spot' }), tail(1000));
    feed.rest_ = history(1, 5000);
    await feed.start();
    await caughtUp(feed);
    await feed.stop();
    expect(trades.map((t) => Number(t.id))).toEqual(history(1001, 5000).map((t) => Number(t.id)));
    expect(gaps.map((g) => [g.status, g.fromId, g.toId, g.missing])).toEqual([
      ['detected', '1001', '4999', 3999],
      ['filled', '1001', '4999', 3999],
    ]);
    expect(gaps[0]).toMatchObject({
      fromTimeUs: trade(1000).exchangeTimeUs,
      toTimeUs: trade(5000).exchangeTimeUs,
      reason: 'missed while the collector was stopped (after stored trade 1000)',
    });
    const s = feed.status().symbols[0]!;
    expect(s.start).toEqual({ from: 'stored', lastStoredId: '1000', lastStoredTimeUs: trade(1000).exchangeTimeUs });
    expect(s.catchUp).toMatchObject({
      reason: 'resume',
      active: false,
      fromId: '1001',
      toId: '4999',
      done: 3999,
      remaining: 0,
    });
  });

  it('nothing missed: no gap, the next live id is the one after the stored trade', async () => {
    const { feed, trades, gaps } = setUp((o) => new BinanceOnHistory({ ...o, market: 'spot' }), tail(5000));
    feed.rest_ = history(1, 5000);
    await feed.start();
    await feed.stop();
    expect(trades).toEqual([]);
    expect(gaps).toEqual([]);
    expect(feed.status().symbols[0]!.nextId).toBe('5001');
  });

  it("REST's history no longer reaches the stored id (Binance-like pages): the ids before its first are unfilled, the rest caught up", async () => {
    const { feed, trades, gaps } = setUp((o) => new BinanceOnHistory({ ...o, market: 'spot' }), tail(1000));
    feed.rest_ = history(3000, 5000);
    await feed.start();
    await caughtUp(feed);
    await feed.stop();
    expect(trades.map((t) => Number(t.id))).toEqual(history(3000, 5000).map((t) => Number(t.id)));
    expect(gaps[0]).toEqual({
      exchange: 'binance',
      symbol: 'BTCUSDT',
      fromId: '1001',
      toId: '2999',
      missing: 1999,
      fromTimeUs: trade(1000).exchangeTimeUs,
      toTimeUs: trade(3000).exchangeTimeUs,
      detectedAtMs: gaps[0]!.detectedAtMs,
      status: 'unfilled',
      reason: "resume after id 1000: binance's REST history does not reach back before id 3000",
    });
    expect(feed.status().counters).toMatchObject({ gapsUnfilled: 1, gapsFilled: 1 });
  });

  it("OKX-like paging (empty pages below REST's history): the first served id is found by bisection", async () => {
    const { feed, trades, gaps } = setUp((o) => new OkxOnHistory(o), tail(1000));
    feed.rest_ = history(123_457, 124_000);
    await feed.start();
    await caughtUp(feed);
    await feed.stop();
    expect(gaps[0]).toMatchObject({ status: 'unfilled', fromId: '1001', toId: '123456' });
    expect(trades.map((t) => Number(t.id))).toEqual(history(123_457, 124_000).map((t) => Number(t.id)));
  });

  it('older than the bound: the first id since now minus the bound is where the catch-up starts, the older ids are unfilled', async () => {
    // one trade a second: the stored trade 1000 is 9000 s old, the bound 1 h
    const { feed, trades, gaps } = setUp((o) => new BinanceOnHistory({ ...o, market: 'spot' }), tail(1000), 3_600_000);
    feed.rest_ = history(1, 10_000);
    // the bound is taken at some instant between t0 and t1: trade i is at NOW - (10,000 - i) s, so
    // the first trade since that instant minus 1 h is 6400 plus the seconds since NOW (a loaded
    // machine may take seconds between the module's load and the catch-up), give or take one
    const t0 = Date.now();
    await feed.start();
    await caughtUp(feed);
    const t1 = Date.now();
    await feed.stop();
    const first = Number(trades[0]!.id);
    expect(first).toBeGreaterThanOrEqual(6400 + Math.floor((t0 * 1000 - NOW_US) / 1e6) - 1);
    expect(first).toBeLessThanOrEqual(6400 + Math.ceil((t1 * 1000 - NOW_US) / 1e6) + 1);
    expect(gaps[0]).toMatchObject({
      status: 'unfilled',
      fromId: '1001',
      toId: String(first - 1),
      reason: 'resume after id 1000: more than 1 h behind: older trades are not fetched (COLLECTOR_RESUME_MAX_HOURS)',
    });
    expect(trades.map((t) => Number(t.id))).toEqual(history(first, 10_000).map((t) => Number(t.id)));
  });

  it('stored ids above what REST has (another history, e.g. a restarted simulator): starts as on a first run and says why', async () => {
    const { feed, trades, gaps, lines } = setUp((o) => new BinanceOnHistory({ ...o, market: 'spot' }), tail(9000));
    feed.rest_ = history(1, 500);
    await feed.start();
    await feed.stop();
    expect(trades).toEqual([]);
    expect(gaps).toEqual([]);
    expect(feed.status().symbols[0]!.start).toMatchObject({
      from: 'live',
      note: expect.stringMatching(/stored trade 9000 not resumed after: REST's newest trade \(id 500/),
    });
    expect(lines.some((l) => l.includes('starting as on a first run'))).toBe(true);
  });
});
