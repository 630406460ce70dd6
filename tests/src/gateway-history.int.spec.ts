/**
 * The gateway's history cache against the real stack (own nats-server and ClickHouse, the
 * aggregator and the gateway in-process): footprint candles served again from memory are exactly
 * what ClickHouse holds, and late trades that change an old candle (a backfill, an exchange's late
 * print) are seen on the next request: the cache keys a candle on its stored trade count.
 */
import { consumerName, loadAggregatorConfig, startAggregatorApp } from '@orderflow/aggregator';
import { type Trade, instrumentFromSteps } from '@orderflow/footprint';
import { loadGatewayConfig, startGatewayApp } from '@orderflow/gateway';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClickHouseServer,
  type Recording,
  ensureTradeStreams,
  publish,
  startClickHouse,
  waitAllAcked,
} from './aggregator-support.js';
import type { CandlesResponse, FootprintResponse } from '@orderflow/contracts';
import { UNLIMITED_HTTP, referenceLines } from './gateway-support.js';
import { metricsOf, profileOfLevels } from './oracles/profile.js';
import { type Cleanup, connectTo, runCleanup, startNatsWithStore, waitFor } from './support.js';

const DB = 'gwcache';
const quiet = !process.env['SYSTEM_TEST_LOGS'];
const T0 = Date.UTC(2024, 2, 1);

/** A small deterministic PRNG (mulberry32), so that a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` trades in each of the given minutes (ids from `firstId`), prices around 1000.00 in 0.01 ticks. */
function trades(minutes: number[], n: number, firstId: number, seed: number): Trade[] {
  const r = rng(seed);
  const out: Trade[] = [];
  let id = firstId;
  for (const m of minutes) {
    for (let i = 0; i < n; i++) {
      const us = (T0 + m * 60_000) * 1000 + Math.floor((i * 60_000_000) / n) + Math.floor(r() * 1000);
      out.push({
        exchange: 'binance',
        symbol: 'CACHEUSDT',
        id: String(id++),
        price: 100_000 + Math.floor(r() * 60),
        quantity: 1 + Math.floor(r() * 50_000),
        side: r() < 0.5 ? 'buy' : 'sell',
        exchangeTimeUs: us,
        receiveTimeMs: Math.floor(us / 1000),
      });
    }
  }
  return out.sort((a, b) => a.exchangeTimeUs - b.exchangeTimeUs);
}

describe('gateway history cache', () => {
  const stack: Cleanup = [];
  let ch: ClickHouseServer;
  let nc: NatsConnection;
  let gwUrl: string;
  let gwMetricsUrl: string;
  /** A second gateway without a history cache: every read goes to ClickHouse. */
  let bareUrl: string;
  let bareMetricsUrl: string;
  const rec: Recording = {
    exchange: 'binance',
    symbol: 'CACHEUSDT',
    instrument: instrumentFromSteps('binance', 'CACHEUSDT', '0.01', '0.00001'),
    recorded: [],
    trades: [],
  };

  beforeAll(async () => {
    ch = await startClickHouse();
    stack.push(() => ch.stop());
    const nats = await startNatsWithStore(stack);
    nc = await connectTo(nats.url);
    stack.push(() => nc.close());
    await ensureTradeStreams(nc);
    const agg = await startAggregatorApp(
      loadAggregatorConfig({
        NATS_URL: nats.url,
        CLICKHOUSE_URL: ch.url,
        CLICKHOUSE_DATABASE: DB,
        AGG_HTTP_PORT: '0',
        AGG_FLUSH_INTERVAL_MS: '200',
        AGG_DISCOVER_INTERVAL_MS: '200',
      }),
      quiet ? { logger: false } : {},
    );
    stack.push(() => agg.app.close());
    const gw = await startGatewayApp(
      loadGatewayConfig({
        NATS_URL: nats.url,
        CLICKHOUSE_URL: ch.url,
        CLICKHOUSE_DATABASE: DB,
        GATEWAY_PORT: '0',
        ...UNLIMITED_HTTP,
      }),
      quiet ? { logger: false } : {},
    );
    stack.push(() => gw.app.close());
    gwUrl = gw.url;
    gwMetricsUrl = gw.metricsUrl;
    const bare = await startGatewayApp(
      loadGatewayConfig({
        NATS_URL: nats.url,
        CLICKHOUSE_URL: ch.url,
        CLICKHOUSE_DATABASE: DB,
        GATEWAY_PORT: '0',
        GATEWAY_HISTORY_CACHE_MB: '0',
        ...UNLIMITED_HTTP,
      }),
      quiet ? { logger: false } : {},
    );
    stack.push(() => bare.app.close());
    bareUrl = bare.url;
    bareMetricsUrl = bare.metricsUrl;
  }, 180_000);
  afterAll(() => runCleanup(stack));

  /** Publishes trades and waits until ClickHouse's candles count all of them. */
  async function add(more: Trade[]): Promise<void> {
    rec.trades.push(...more);
    await publish(nc, rec, more);
    await waitAllAcked(nc, [consumerName('binance', 'CACHEUSDT')]);
    await waitFor('every trade in the candles view', async () => {
      const r = await fetch(
        `${gwUrl}/api/candles?exchange=binance&symbol=CACHEUSDT&timeframe=1d&from=${T0}&to=${T0 + 86_400_000}`,
      );
      if (r.status !== 200) return false;
      const body = (await r.json()) as CandlesResponse;
      return body.candles.reduce((n, c) => n + c.trades, 0) === rec.trades.length;
    });
  }

  async function footprintLines(timeframe: string, ticks: number): Promise<string[]> {
    const r = await fetch(
      `${gwUrl}/api/footprint?exchange=binance&symbol=CACHEUSDT&timeframe=${timeframe}&from=${T0}&to=${T0 + 3_600_000}&ticks=${ticks}`,
    );
    expect(r.status).toBe(200);
    const body = (await r.json()) as FootprintResponse;
    return body.candles.flatMap((c) => c.cells.map((x) => `${c.openTime} ${x.join(' ')}`)).sort();
  }

  async function cacheCounts(
    gateway: 'gw' | 'bare' = 'gw',
  ): Promise<{ hits: number; misses: number; wire: number; fallbacks: number }> {
    const text = await (await fetch(`${gateway === 'gw' ? gwMetricsUrl : bareMetricsUrl}/metrics`)).text();
    const get = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    return {
      hits: get('gateway_history_cache_hits_total'),
      misses: get('gateway_history_cache_misses_total'),
      wire: get('gateway_history_wire_minutes_total'),
      fallbacks: get('gateway_history_wire_fallbacks_total'),
    };
  }

  async function clickhouse(query: string): Promise<string> {
    const r = await fetch(ch.url, { method: 'POST', body: query });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`${query}: ${text}`);
    return text;
  }

  it('serves unchanged candles from memory, exactly, and reads again the ones late trades changed', async () => {
    await add(trades([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 40, 1, 7));
    const ref = (tf: string, ticks: number) =>
      referenceLines([{ rec, priceFactor: 1n, quantityFactor: 1n }], tf, BigInt(ticks)).cells;

    // cold, then warm: both equal the reference; the second read is served from the cache
    for (const [tf, ticks] of [
      ['1m', 1],
      ['1m', 10],
      ['5m', 1],
    ] as const)
      expect(await footprintLines(tf, ticks)).toEqual(ref(tf, ticks));
    const before = await cacheCounts();
    for (const [tf, ticks] of [
      ['1m', 1],
      ['1m', 10],
      ['5m', 1],
    ] as const)
      expect(await footprintLines(tf, ticks)).toEqual(ref(tf, ticks));
    const warm = await cacheCounts();
    expect(warm.hits - before.hits).toBe(10 + 10 + 2);
    expect(warm.misses - before.misses).toBe(0);

    // late trades into minutes 2 and 7 (older than the aggregator's live window by then? either way they change stored
    // candles)
    await add(trades([2, 7], 15, 10_001, 11));
    for (const [tf, ticks] of [
      ['1m', 1],
      ['1m', 10],
      ['5m', 1],
    ] as const)
      expect(await footprintLines(tf, ticks)).toEqual(ref(tf, ticks));
    const after = await cacheCounts();
    // 1m: minutes 2 and 7 read again (at both groupings), the 8 others from memory; 5m: both candles changed
    expect(after.misses - warm.misses).toBe(2 + 2 + 2);
    expect(after.hits - warm.hits).toBe(8 + 8);
    // a request for a range the cache partly holds: only the candles it lacks are read
    const partial = await fetch(
      `${gwUrl}/api/footprint?exchange=binance&symbol=CACHEUSDT&timeframe=1m&from=${T0}&to=${T0 + 600_000}&ticks=1&format=csv`,
    );
    expect(partial.status).toBe(200);
    expect((await partial.text()).trim().split('\n')).toHaveLength(1 + ref('1m', 1).length);
  }, 120_000);

  it('native 1m comes from the stored wire form, exactly; a minute whose wire form is of another version or missing is read from footprint_1m', async () => {
    const from = T0 + 20 * 60_000;
    const to = T0 + 30 * 60_000;
    await add(trades([20, 21, 22, 23, 24, 25, 26, 27, 28, 29], 60, 20_001, 13));
    const read = async () => {
      const r = await fetch(
        `${bareUrl}/api/footprint?exchange=binance&symbol=CACHEUSDT&timeframe=1m&from=${from}&to=${to}&ticks=1`,
      );
      expect(r.status).toBe(200);
      return ((await r.json()) as FootprintResponse).candles;
    };
    const ref = referenceLines([{ rec, priceFactor: 1n, quantityFactor: 1n }], '1m', 1n).cells.filter(
      (l) => Number(l.split(' ')[0]) >= from && Number(l.split(' ')[0]) < to,
    );

    const c0 = await cacheCounts('bare');
    const served = await read();
    expect(served).toHaveLength(10);
    expect(served.flatMap((c) => c.cells.map((x) => `${c.openTime} ${x.join(' ')}`)).sort()).toEqual(ref);
    for (const c of served) {
      // the stored POC and value area are the definitions' (tests/src/oracles) on the cells; the totals are the cells'
      const m = metricsOf(
        profileOfLevels(
          1n,
          c.cells.map(([price, buy, sell, buyTrades, sellTrades]) => ({
            price: BigInt(price),
            buy: BigInt(buy),
            sell: BigInt(sell),
            buyTrades,
            sellTrades,
          })),
        ),
      );
      expect([c.poc, c.vah, c.val]).toEqual([m.poc, m.valueAreaHigh, m.valueAreaLow]);
      expect([c.buyVolume, c.sellVolume, c.buyTrades, c.sellTrades]).toEqual(
        [1, 2, 3, 4].map((i) => c.cells.reduce((n, x) => n + x[i]!, 0)),
      );
    }
    const c1 = await cacheCounts('bare');
    expect([c1.wire - c0.wire, c1.fallbacks - c0.fallbacks]).toEqual([10, 0]);

    // an older version of minute 22 with other cells, in a part of its own (the read has no FINAL): the latest version
    // is still the one served
    await clickhouse(
      `INSERT INTO ${DB}.footprint_1m_wire (exchange, symbol, minute, version, poc, vah, val, cells_json) VALUES ('binance', 'CACHEUSDT', toDateTime(${(T0 + 22 * 60_000) / 1000}, 'UTC'), 1, 1, 1, 1, '[[1,1,1,1,1]]')`,
    );
    expect(await read()).toEqual(served);
    const c1b = await cacheCounts('bare');
    expect([c1b.wire - c1.wire, c1b.fallbacks - c1.fallbacks]).toEqual([10, 0]);

    // minute 21's wire form replaced by one of another version (and other cells): it is read from footprint_1m
    await clickhouse(
      `INSERT INTO ${DB}.footprint_1m_wire (exchange, symbol, minute, version, poc, vah, val, cells_json) VALUES ('binance', 'CACHEUSDT', toDateTime(${(T0 + 21 * 60_000) / 1000}, 'UTC'), 999999, 1, 1, 1, '[[1,1,1,1,1]]')`,
    );
    expect(await read()).toEqual(served);
    const c2 = await cacheCounts('bare');
    expect([c2.wire - c1b.wire, c2.fallbacks - c1b.fallbacks]).toEqual([9, 1]);

    // no wire form at all (a database written before schema v3, or the partition dropped): all from footprint_1m
    await clickhouse(`ALTER TABLE ${DB}.footprint_1m_wire DROP PARTITION 202403`);
    expect(await read()).toEqual(served);
    const c3 = await cacheCounts('bare');
    expect([c3.wire - c2.wire, c3.fallbacks - c2.fallbacks]).toEqual([0, 10]);
  }, 120_000);
});
