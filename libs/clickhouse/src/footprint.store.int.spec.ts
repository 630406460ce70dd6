/**
 * FootprintStore against a real ClickHouse (the Debian 18.16 here, a private server) with a real
 * recording: 149,944 Binance LTCUSDT trades over two UTC days, with 25 real id gaps.
 *
 * Every expected value comes from the engine (FootprintSeries, rollUp) or from BigInt arithmetic
 * over its levels, or from an independent SQL aggregation of the raw trades; never from the
 * store or the views under test.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { GapEvent } from '@orderflow/contracts';
import {
  type CandleData,
  type FootprintCandle,
  TIMEFRAMES,
  TIMEFRAME_MS,
  type Timeframe,
  buildProfile,
  formatFixed,
  pocAndValueArea,
  rollUp,
} from '@orderflow/footprint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClickHouse } from './clickhouse.connection.js';
import { FootprintStore, type IngestedTrade } from './footprint.store.js';
import { migrate } from './migrations.js';
import { LTC, type Recording, ingestSeqOf, loadLtc, minutesOf, needsLtc } from './testing/recordings.js';
import { SAME_TEXT_SETTINGS } from './testing/engine.js';

const SERVICES_URL = new URL('../../../scripts/lib/services.mjs', import.meta.url).href;
interface Server {
  url: string;
  stop(): Promise<void>;
}

const DB = 'of_store';
const WHERE = `exchange = '${LTC.exchange}' AND symbol = '${LTC.symbol}'`;
/** 18.16 pushes a timeframe filter into the UNION ALL branches only with this setting. */
const VIEW_SETTINGS = { enable_optimize_predicate_expression: 1, ...SAME_TEXT_SETTINGS } as const;
const SECONDS: Record<Timeframe, number> = Object.fromEntries(
  TIMEFRAMES.map((tf) => [tf, TIMEFRAME_MS[tf] / 1000]),
) as Record<Timeframe, number>;

/** Exact notional (sum of price * volume over the levels) and VWAP truncated to 8 decimals of a price unit. */
function notionalOf(c: CandleData | FootprintCandle): bigint {
  const levels = 'toData' in c ? c.sortedLevels() : c.levels;
  return levels.reduce((s, l) => s + BigInt(l.price) * BigInt(l.buyVolume + l.sellVolume), 0n);
}
function vwapOf(c: CandleData | FootprintCandle): string {
  return formatFixed((notionalOf(c) * 10n ** 8n) / BigInt(c.buyVolume + c.sellVolume), 8);
}

/** The analyst views' rows as the engine says they must be (TabSeparated text). */
function engineFootprintTsv(candles: readonly FootprintCandle[]): string {
  return candles
    .flatMap((c) =>
      c
        .sortedLevels()
        .map(
          (l) =>
            [
              c.openTime / 1000,
              l.price,
              l.buyVolume,
              l.sellVolume,
              l.buyTrades,
              l.sellTrades,
              l.buyVolume - l.sellVolume,
              l.buyVolume + l.sellVolume,
            ].join('\t') + '\n',
        ),
    )
    .join('');
}
function engineCandlesTsv(candles: readonly FootprintCandle[]): string {
  return candles
    .map(
      (c) =>
        [
          c.openTime / 1000,
          c.open,
          c.high,
          c.low,
          c.close,
          c.buyVolume,
          c.sellVolume,
          c.buyTrades,
          c.sellTrades,
          c.trades,
          c.delta,
          c.volume,
          c.maxDelta,
          c.minDelta,
          notionalOf(c),
          vwapOf(c),
        ].join('\t') + '\n',
    )
    .join('');
}

const FOOTPRINT_VIEW = (tf: Timeframe) =>
  `SELECT toUInt32(bucket), price, buy_volume, sell_volume, buy_trades, sell_trades, delta, volume FROM ${DB}.footprint WHERE ${WHERE} AND timeframe = '${tf}' ORDER BY bucket, price`;
const CANDLES_VIEW = (tf: Timeframe) =>
  `SELECT toUInt32(bucket), open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, trades, delta, volume, max_delta, min_delta, notional, vwap FROM ${DB}.candles WHERE ${WHERE} AND timeframe = '${tf}' ORDER BY bucket`;

/** The raw trades, each trade id once (lowest ingest_seq), with its bucket: written here independently of the store. */
const DEDUPED_TRADES = (tf: Timeframe) => `SELECT t.1 AS seq, t.2 AS price, t.3 AS qty, t.4 AS side,
       toDateTime(intDiv(intDiv(t.5, 1000000), ${SECONDS[tf]}) * ${SECONDS[tf]}, 'UTC') AS b
FROM
(
    SELECT trade_id, argMin(tuple(ingest_seq, price, quantity, side, exchange_time_us), ingest_seq) AS t
    FROM ${DB}.trades
    WHERE ${WHERE}
    GROUP BY trade_id
)`;
const FOOTPRINT_FROM_TRADES = (tf: Timeframe) => `SELECT toUInt32(b), price,
       sumIf(toDecimal128(qty, 0), side = 'b') AS bv, sumIf(toDecimal128(qty, 0), side = 's') AS sv,
       countIf(side = 'b'), countIf(side = 's'), bv - sv, bv + sv
FROM (${DEDUPED_TRADES(tf)})
GROUP BY b, price
ORDER BY b, price`;
const CANDLES_FROM_TRADES = (
  tf: Timeframe,
) => `SELECT toUInt32(b), argMin(price, seq), max(price), min(price), argMax(price, seq),
       sumIf(toDecimal128(qty, 0), side = 'b') AS bv, sumIf(toDecimal128(qty, 0), side = 's') AS sv,
       countIf(side = 'b'), countIf(side = 's'), count(), bv - sv, bv + sv,
       arrayReduce('max', arrayCumSum(arrayMap(x -> x.2, arraySort(groupArray(tuple(seq, if(side = 'b', toInt64(qty), -toInt64(qty))))))) AS running),
       arrayReduce('min', running),
       sum(toDecimal128(price, 0) * toDecimal128(qty, 0)) AS notional, toDecimal128(notional, 8) / (bv + sv)
FROM (${DEDUPED_TRADES(tf)})
GROUP BY b
ORDER BY b`;

describe('FootprintStore on ClickHouse with a real recording', needsLtc, () => {
  let server: Server;
  let ch: ClickHouseClient;
  let store: FootprintStore;
  let rec: Recording;
  let minutes: CandleData[];
  const tsv = async (query: string) =>
    (await ch.query({ query, format: 'TabSeparated', clickhouse_settings: VIEW_SETTINGS })).text();
  /** Merges off: "before merges" means it (each part as inserted); on again to OPTIMIZE. */
  const merges = async (on: boolean) => ch.command({ query: `SYSTEM ${on ? 'START' : 'STOP'} MERGES` });
  const optimizeAll = async () => {
    await merges(true);
    const tables = await tsv(`SELECT name FROM system.tables WHERE database = '${DB}' AND engine LIKE '%MergeTree'`);
    for (const t of tables.trim().split('\n')) await ch.command({ query: `OPTIMIZE TABLE ${DB}.${t} FINAL` });
  };

  beforeAll(async () => {
    server = await ((await import(SERVICES_URL)) as { startClickHouse(o: object): Promise<Server> }).startClickHouse({
      analyst: false,
    });
    ch = connectClickHouse({ url: server.url });
    await migrate(ch, DB);
    store = new FootprintStore(ch, DB);
    await merges(false);
    rec = loadLtc();
    minutes = minutesOf(rec.trades);
  }, 90_000);
  afterAll(async () => {
    await ch?.close();
    await server?.stop();
  });

  it('stores every 1m candle and reads back exactly the final versions, after higher-version rewrites, retries and stale replays', async () => {
    expect(rec.trades.length).toBe(149_944);
    expect(minutes.length).toBeGreaterThan(1800);
    // what a writer that lost every third trade had written for a quarter of the minutes: lower versions
    const lossy = minutesOf(rec.trades.filter((_, i) => i % 3 !== 0));
    const stale = lossy.filter((c) => (c.openTime / 60_000) % 4 === 0);
    const staleVersion = new Map(stale.map((c) => [c.openTime, c.buyTrades + c.sellTrades]));
    expect(
      minutes.filter((c) => (staleVersion.get(c.openTime) ?? Infinity) < c.buyTrades + c.sellTrades).length,
    ).toBeGreaterThan(400);
    const inBatches = async (cs: CandleData[], size: number) => {
      for (let i = 0; i < cs.length; i += size)
        await store.insertMinutes(LTC.exchange, LTC.symbol, cs.slice(i, i + size));
    };
    await inBatches(stale, 100); // first written from the lossy stream
    await inBatches(minutes, 500); // rewritten at higher versions (and all the other minutes)
    await inBatches(minutes, 700); // a retry, other batch boundaries
    await inBatches(stale, 300); // the stale versions once more, late
    expect(await store.loadMinutes(LTC.exchange, LTC.symbol, 0, 4_102_444_800_000)).toEqual(minutes);
    // [from, to) by openTime
    const a = minutes[10]!.openTime;
    const b = minutes[20]!.openTime;
    expect(await store.loadMinutes(LTC.exchange, LTC.symbol, a, b)).toEqual(minutes.slice(10, 20));
    expect(await store.loadMinutes(LTC.exchange, LTC.symbol, a + 1, b + 1)).toEqual(minutes.slice(11, 21));
    expect(await store.loadMinutes(LTC.exchange, LTC.symbol, b, a)).toEqual([]);
    expect(await store.loadMinutes(LTC.exchange, 'OTHER', 0, 4_102_444_800_000)).toEqual([]);
    // the notional the writer computed for each minute, as BigInt math over the engine's levels says
    const notionals = await tsv(
      `SELECT toUInt32(minute), argMax(notional, version) FROM ${DB}.candles_1m WHERE ${WHERE} GROUP BY minute ORDER BY minute`,
    );
    expect(notionals).toBe(minutes.map((c) => `${c.openTime / 1000}\t${notionalOf(c)}\n`).join(''));
    // the wire form kept for each minute's final version (footprint_1m_wire): its levels as JSON and the engine's POC
    // and value area
    const wire = await tsv(
      `SELECT toUInt32(minute), version, poc, vah, val, cells_json FROM ${DB}.footprint_1m_wire FINAL WHERE ${WHERE} ORDER BY minute`,
    );
    expect(wire).toBe(
      minutes
        .map((c) => {
          const m = pocAndValueArea(buildProfile([c]))!;
          const cells = JSON.stringify(
            c.levels.map((l) => [l.price, l.buyVolume, l.sellVolume, l.buyTrades, l.sellTrades]),
          );
          return `${c.openTime / 1000}\t${c.buyTrades + c.sellTrades}\t${m.poc}\t${m.valueAreaHigh}\t${m.valueAreaLow}\t${cells}\n`;
        })
        .join(''),
    );
  });

  it('keeps {db}.footprint and {db}.candles equal at every timeframe to the engine’s rollUp (vwap and notional exact), before and after merges', async () => {
    const check = async (when: string) => {
      for (const tf of TIMEFRAMES) {
        const engine = rollUp(minutes, tf);
        expect(engine.length).toBeGreaterThan(1);
        expect(await tsv(FOOTPRINT_VIEW(tf)), `footprint ${tf} ${when}`).toBe(engineFootprintTsv(engine));
        expect(await tsv(CANDLES_VIEW(tf)), `candles ${tf} ${when}`).toBe(engineCandlesTsv(engine));
      }
    };
    await check('as inserted');
    await optimizeAll();
    await check('after OPTIMIZE FINAL');
    expect(await store.loadMinutes(LTC.exchange, LTC.symbol, 0, 4_102_444_800_000)).toEqual(minutes);
    // a vwap spelled out: the 1d candle of 2025-06-22
    const day = rollUp(minutes, '1d')[1]!;
    expect(
      await tsv(
        `SELECT notional, vwap FROM ${DB}.candles WHERE ${WHERE} AND timeframe = '1d' AND bucket = toDateTime('2025-06-22 00:00:00', 'UTC')`,
      ),
    ).toBe(`${notionalOf(day)}\t${vwapOf(day)}\n`);
  });

  it('loadDailyLevels: the 1d levels of each session, equal to the engine’s roll-up', async () => {
    const days = rollUp(minutes, '1d');
    expect(days.length).toBeGreaterThan(1);
    const got = await store.loadDailyLevels(LTC.exchange, LTC.symbol, 0, 4_102_444_800_000);
    expect(got).toEqual(days.map((d) => ({ dayMs: d.openTime, levels: d.toData().levels })));
    expect(
      await store.loadDailyLevels(LTC.exchange, LTC.symbol, days[1]!.openTime, days[1]!.openTime + 86_400_000),
    ).toEqual([{ dayMs: days[1]!.openTime, levels: days[1]!.toData().levels }]);
  });

  it('equals a direct SQL aggregation of the raw trades, some of them ingested twice', async () => {
    await merges(false);
    const t = rec.trades;
    for (let i = 0; i < t.length; i += 20_000) await store.insertTrades(t.slice(i, i + 20_000));
    // a re-publish of 2,000 trades (later stream sequence), and archive copies of 50 (other µs)
    const later = t.length + 1000;
    await store.insertTrades(t.slice(40_000, 42_000).map((x, i) => ({ ...x, ingestSeq: ingestSeqOf(later + i) })));
    await store.insertTrades(
      t
        .slice(90_000, 90_050)
        .map((x, i) => ({ ...x, exchangeTimeUs: x.exchangeTimeUs + 321, ingestSeq: ingestSeqOf(later + 5000 + i) })),
    );
    const raw = await tsv(`SELECT count(), uniqExact(trade_id) FROM ${DB}.trades WHERE ${WHERE}`);
    expect(raw).toBe(`${t.length + 2050}\t${t.length}\n`);
    for (const tf of TIMEFRAMES) {
      const fromTrades = await tsv(FOOTPRINT_FROM_TRADES(tf));
      expect(fromTrades, `footprint ${tf}`).toBe(await tsv(FOOTPRINT_VIEW(tf)));
      expect(fromTrades.split('\n').length).toBeGreaterThan(10);
      expect(await tsv(CANDLES_FROM_TRADES(tf)), `candles ${tf}`).toBe(await tsv(CANDLES_VIEW(tf)));
    }
  }, 120_000); // the whole recording through SQL at 7 timeframes: ~20-30 s alone, more beside other suites

  it('loadTrades returns each trade id once, as first ingested, in ingest order, before and after merges', async () => {
    const t = rec.trades;
    const from = t[40_500]!.exchangeTimeUs;
    const to = t[44_000]!.exchangeTimeUs;
    const want = t.filter((x) => x.exchangeTimeUs >= from && x.exchangeTimeUs < to);
    expect(want.length).toBeGreaterThan(3000);
    expect(await store.loadTrades(LTC.exchange, LTC.symbol, from, to)).toEqual(want); // 40,500..41,999 were ingested twice
    const archived = t.slice(90_000, 90_050);
    const archivedFrom = archived[0]!.exchangeTimeUs;
    const archivedTo = archived.at(-1)!.exchangeTimeUs + 1;
    const wantArchived = t.filter((x) => x.exchangeTimeUs >= archivedFrom && x.exchangeTimeUs < archivedTo);
    expect(await store.loadTrades(LTC.exchange, LTC.symbol, archivedFrom, archivedTo)).toEqual(wantArchived);

    // a copy ingested later whose time lies inside the range, of a trade whose first ingest lies
    // outside it, is not in the range (and the other way round)
    const edgeFrom = t[100_000]!.exchangeTimeUs + 1;
    const edgeTo = t[100_100]!.exchangeTimeUs;
    const before = t.filter((x) => x.exchangeTimeUs < edgeFrom).at(-1)!;
    const inside = t.filter((x) => x.exchangeTimeUs >= edgeFrom && x.exchangeTimeUs < edgeTo)[5]!;
    await store.insertTrades([
      { ...before, exchangeTimeUs: edgeFrom + 7, ingestSeq: ingestSeqOf(t.length + 9000) },
      { ...inside, exchangeTimeUs: edgeTo + 7, ingestSeq: ingestSeqOf(t.length + 9001) },
    ]);
    const wantEdge = t.filter((x) => x.exchangeTimeUs >= edgeFrom && x.exchangeTimeUs < edgeTo);
    expect(wantEdge).toContain(inside);
    expect(wantEdge).not.toContain(before);
    expect(await store.loadTrades(LTC.exchange, LTC.symbol, edgeFrom, edgeTo)).toEqual(wantEdge);

    // ids that need escaping, another symbol, and a first ingest that arrives after a later one
    const odd: IngestedTrade[] = ['tab\there', 'line\nbreak', 'back\\slash', "quote'd", 'ümlaut-🚀', 'cr\rx'].map(
      (id, i) => ({
        ...t[0]!,
        symbol: 'ESCAPES',
        id,
        exchangeTimeUs: t[0]!.exchangeTimeUs + i,
        ingestSeq: 100 + i,
      }),
    );
    await store.insertTrades(odd.map((x) => ({ ...x, price: x.price + 1, ingestSeq: x.ingestSeq + 50 })));
    await store.insertTrades([...odd].reverse());
    expect(await store.loadTrades(LTC.exchange, 'ESCAPES', 0, 4_102_444_800_000_000)).toEqual(odd);

    await merges(true);
    await ch.command({ query: `OPTIMIZE TABLE ${DB}.trades FINAL` });
    expect(await tsv(`SELECT count() FROM ${DB}.trades WHERE ${WHERE}`)).toBe(`${t.length}\n`);
    expect(await store.loadTrades(LTC.exchange, LTC.symbol, from, to)).toEqual(want);
    expect(await store.loadTrades(LTC.exchange, LTC.symbol, edgeFrom, edgeTo)).toEqual(wantEdge);
    expect(await store.loadTrades(LTC.exchange, 'ESCAPES', 0, 4_102_444_800_000_000)).toEqual(odd);
  });

  it('marks exactly the buckets that overlap a gap whose latest status is unfilled incomplete, at every timeframe', async () => {
    expect(rec.gaps.length).toBe(25);
    const base = 1_750_700_000_000;
    const events: GapEvent[] = [];
    const latest: GapEvent['status'][] = [];
    rec.gaps.forEach((g, i) => {
      const ev = (status: GapEvent['status'], dt: number): GapEvent => ({
        exchange: LTC.exchange,
        symbol: LTC.symbol,
        ...g,
        detectedAtMs: base + i * 10 + dt,
        status,
        reason: `${status}\tafter "REST"\n(${i})`,
      });
      const story: GapEvent[] =
        i % 4 === 0
          ? [ev('detected', 0), ev('unfilled', 5)]
          : i % 4 === 1
            ? [ev('filled', 7), ev('unfilled', 5), ev('detected', 0)] // arrives out of order: filled is the latest
            : i % 4 === 2
              ? [ev('detected', 0)]
              : [ev('detected', 0), ev('filled', 3)];
      latest.push(i % 4 === 0 ? 'unfilled' : i % 4 === 2 ? 'detected' : 'filled');
      events.push(...story);
    });
    // an unfilled gap without times marks nothing; a retry of some events changes nothing
    events.push({
      exchange: LTC.exchange,
      symbol: LTC.symbol,
      fromId: '1',
      toId: '2',
      missing: 2,
      detectedAtMs: base,
      status: 'unfilled',
      reason: 'no times',
    });
    await store.insertGaps(events.filter((_, i) => i % 2 === 0));
    await store.insertGaps(events.filter((_, i) => i % 2 === 1));
    await store.insertGaps(events.slice(0, 10));

    const status = await tsv(
      `SELECT from_id, status, reason FROM ${DB}.gap_status WHERE ${WHERE} AND from_id != '1' ORDER BY toUInt64(from_id)`,
    );
    expect(status).toBe(
      rec.gaps.map((g, i) => `${g.fromId}\t${latest[i]}\t${latest[i]}\\tafter "REST"\\n(${i})\n`).join(''),
    );

    const unfilled = rec.gaps.filter((_, i) => latest[i] === 'unfilled');
    const others = rec.gaps.filter((_, i) => latest[i] !== 'unfilled');
    for (const tf of TIMEFRAMES) {
      const lenUs = TIMEFRAME_MS[tf] * 1000;
      const overlaps = (startMs: number, gaps: typeof unfilled) =>
        gaps.some((g) => startMs * 1000 <= g.toTimeUs && g.fromTimeUs < startMs * 1000 + lenUs);
      const buckets = rollUp(minutes, tf).map((c) => c.openTime);
      const want = buckets.map((s) => `${s / 1000}\t${overlaps(s, unfilled) ? 0 : 1}\n`).join('');
      expect(
        await tsv(
          `SELECT toUInt32(bucket), complete FROM ${DB}.candles WHERE ${WHERE} AND timeframe = '${tf}' ORDER BY bucket`,
        ),
        `complete ${tf}`,
      ).toBe(want);
      // not vacuous: some buckets are incomplete; some touch only filled or detected gaps and stay complete
      if (tf !== '1d') expect(buckets.filter((s) => overlaps(s, unfilled)).length, tf).toBeGreaterThan(0);
      if (tf === '1m' || tf === '5m')
        expect(buckets.filter((s) => overlaps(s, others) && !overlaps(s, unfilled)).length, tf).toBeGreaterThan(0);
    }
    // the largest gap (629 ids, 18:48-18:59 on 2025-06-22) becoming unfilled later turns its buckets incomplete
    const big = rec.gaps.reduce((m, g) => (g.missing > m.missing ? g : m));
    expect(big.missing).toBe(629);
    const bigAt = rec.gaps.indexOf(big);
    expect(latest[bigAt]).not.toBe('unfilled');
    const q = `SELECT count() FROM ${DB}.candles WHERE ${WHERE} AND timeframe = '1m' AND complete = 0 AND bucket >= toDateTime('2025-06-22 18:48:00', 'UTC') AND bucket <= toDateTime('2025-06-22 18:59:00', 'UTC')`;
    expect(await tsv(q)).toBe('0\n');
    await store.insertGaps([
      {
        exchange: LTC.exchange,
        symbol: LTC.symbol,
        ...big,
        detectedAtMs: base + 10_000,
        status: 'unfilled',
        reason: 'given up',
      },
    ]);
    const minutesInBig = minutes.filter(
      (c) => c.openTime * 1000 <= big.toTimeUs && big.fromTimeUs < c.openTime * 1000 + 60_000_000,
    ).length;
    expect(minutesInBig).toBe(2); // the minutes of the last trade before and the first after: nothing traded in between
    expect(await tsv(q)).toBe(`${minutesInBig}\n`);
  });

  it('latestTimeUs: the newest stored trade or 1m candle of a symbol', async () => {
    const t = rec.trades;
    expect(await store.latestTimeUs(LTC.exchange, LTC.symbol)).toBe(t.at(-1)!.exchangeTimeUs);
    expect(await store.latestTimeUs(LTC.exchange, 'NOTHING')).toBeNull();
    const some = minutes.slice(0, 30);
    await store.insertMinutes(LTC.exchange, 'LATEST', some);
    expect(await store.latestTimeUs(LTC.exchange, 'LATEST')).toBe(some.at(-1)!.lastTimeUs);
    const later = t.find((x) => x.exchangeTimeUs > some.at(-1)!.lastTimeUs + 7_200_000_000)!; // hours later
    await store.insertTrades([
      { ...t[0]!, symbol: 'LATEST' },
      { ...later, symbol: 'LATEST' },
    ]);
    expect(await store.latestTimeUs(LTC.exchange, 'LATEST')).toBe(later.exchangeTimeUs);
    await store.insertTrades([
      { ...t[5]!, symbol: 'ONLYTRADES' },
      { ...t[3]!, symbol: 'ONLYTRADES' },
    ]);
    expect(await store.latestTimeUs(LTC.exchange, 'ONLYTRADES')).toBe(t[5]!.exchangeTimeUs);
    await expect(store.latestTimeUs(LTC.exchange, 'LA TEST')).rejects.toThrow(/symbol "LA TEST"/);
  });

  it('upserts instruments: the latest row wins, an unchanged row writes nothing, a scale change is refused', async () => {
    const ltc = { exchange: LTC.exchange, symbol: LTC.symbol, priceScale: 2, quantityScale: 3, tick: 1 };
    const btc = { exchange: 'binance-futures', symbol: 'BTCUSDT', priceScale: 1, quantityScale: 3, tick: 1 };
    await store.upsertInstruments([ltc, btc]);
    expect(await store.loadInstruments()).toEqual([ltc, btc]);
    await store.upsertInstruments([ltc]);
    expect(await tsv(`SELECT count() FROM ${DB}.instruments`)).toBe('2\n');
    await store.upsertInstruments([{ ...btc, tick: 5 }]);
    await store.upsertInstruments([{ ...btc, tick: 2 }]); // the same second: written one second later still
    expect(await store.loadInstruments()).toEqual([ltc, { ...btc, tick: 2 }]);
    expect(await tsv(`SELECT count() FROM ${DB}.instruments`)).toBe('4\n');
    await expect(store.upsertInstruments([{ ...ltc, quantityScale: 4 }])).rejects.toThrow(
      /instrument binance LTCUSDT is stored with price scale 2 and quantity scale 3; 2 and 4 would give the same trades other units/,
    );
    await merges(true);
    await ch.command({ query: `OPTIMIZE TABLE ${DB}.instruments FINAL` });
    expect(await store.loadInstruments()).toEqual([ltc, { ...btc, tick: 2 }]);
  });
});
