import type { ClickHouseClient } from '@clickhouse/client';
import type { InstrumentView, MemberPart } from '@orderflow/candle-views';
import { type CandleColumns, HistoryReader } from '@orderflow/clickhouse';
import type { WireFootprintCandle } from '@orderflow/contracts';
import {
  type CandleData,
  type GroupingMode,
  type PriceLevel,
  TIMEFRAME_MS,
  type Timeframe,
} from '@orderflow/footprint';
import { CandleCache } from './candle-cache.js';
import { FootprintHistory } from './footprint.history.js';
import { requestRead, requestReads } from './history.errors.js';
import {
  type HistoryCandle,
  sqlMembers,
  storedCandleData,
  streamViewSummaries,
  viewSummaries,
} from './view-summaries.js';

/**
 * The gateway's history, in a view's units (one instrument, or a merged sum): ClickHouse's rows
 * (HistoryReader, libs/clickhouse) made into what the HTTP API and the live views serve, footprint
 * candles through the CandleCache, and a read's failures as request errors (history.errors.ts).
 */
export class HistoryService {
  readonly reader: HistoryReader;
  /** Footprint candles already read (see CandleCache), shared by HTTP history and snapshots. */
  readonly cache: CandleCache;
  private readonly footprints: FootprintHistory;

  constructor(
    ch: ClickHouseClient,
    db: string,
    timeoutMs: number,
    cacheBytes = 0,
    warn: (m: string) => void = () => undefined,
  ) {
    this.reader = new HistoryReader(ch, db, timeoutMs, warn);
    this.cache = new CandleCache(cacheBytes);
    this.footprints = new FootprintHistory(this.reader, this.cache);
  }

  get db(): string {
    return this.reader.db;
  }

  /** Native 1m candles served from their stored wire form, and those read from footprint_1m instead. */
  get wireMinutes(): number {
    return this.footprints.wireMinutes;
  }

  get wireFallbacks(): number {
    return this.footprints.wireFallbacks;
  }

  ping(): Promise<boolean> {
    return this.reader.ping();
  }

  /** Which optional columns the schema has (HistoryReader.candleColumns). */
  candleColumns(): Promise<CandleColumns> {
    return this.reader.candleColumns();
  }

  /**
   * Reads the schema's optional columns again (the runtime does, with the instruments: a migration may land after the
   * gateway started).
   */
  refreshColumns(): Promise<CandleColumns> {
    return this.reader.refreshColumns();
  }

  /** The newest stored minute (ms) of any member, or null. */
  async latestMinute(view: InstrumentView, signal?: AbortSignal): Promise<number | null> {
    return await this.reader.latestMinute(sqlMembers(view), signal);
  }

  /** Candle summaries of [fromMs, toMs) by open time (viewSummaries). */
  summaries(
    view: InstrumentView,
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
    signal?: AbortSignal,
    extra?: CandleColumns,
    withTimes = false,
  ): Promise<Map<number, HistoryCandle>> {
    return viewSummaries(this.reader, view, timeframe, fromMs, toMs, signal, extra, withTimes);
  }

  /** Candle summaries as ClickHouse returns them (one member), or merged (several: read whole, then merged). */
  streamSummaries(
    view: InstrumentView,
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
    signal?: AbortSignal,
    extra?: CandleColumns,
  ): AsyncGenerator<HistoryCandle> {
    return streamViewSummaries(this.reader, view, timeframe, fromMs, toMs, signal, extra);
  }

  /**
   * Footprint candles of [fromMs, toMs) at a grouping of `step` view price units, candle by candle
   * (FootprintHistory.footprint).
   */
  footprint(
    view: InstrumentView,
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
    step: number,
    mode: GroupingMode,
    signal?: AbortSignal,
  ): AsyncGenerator<WireFootprintCandle> {
    return this.footprints.footprint(view, timeframe, fromMs, toMs, step, mode, signal);
  }

  async footprintList(
    view: InstrumentView,
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
    step: number,
    mode: GroupingMode,
    signal?: AbortSignal,
  ): Promise<WireFootprintCandle[]> {
    const out: WireFootprintCandle[] = [];
    for await (const c of this.footprint(view, timeframe, fromMs, toMs, step, mode, signal)) out.push(c);
    return out;
  }

  /**
   * One member's part of each candle of [fromMs, toMs) at a grouping, in the view's units, with
   * first/last trade times: what a merged live view is seeded with.
   */
  async memberParts(
    view: InstrumentView,
    member: number,
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
    step: number,
    mode: GroupingMode,
    signal?: AbortSignal,
  ): Promise<Map<number, MemberPart>> {
    const one: InstrumentView = { ...view, members: [view.members[member]!] };
    const rows: number[][] = [];
    const [sums] = await Promise.all([
      this.summaries(one, timeframe, fromMs, toMs, signal, undefined, true),
      (async () => {
        for await (const batch of requestReads(
          this.reader.cellRows(sqlMembers(one), timeframe, fromMs, toMs, step, mode, signal),
        ))
          for (const r of batch) rows.push(r);
      })(),
    ]);
    const out = new Map<number, MemberPart>();
    for (const r of rows) {
      const t = r[0]! * 1000;
      const s = sums.get(t);
      if (s === undefined) continue;
      let p = out.get(t);
      if (!p) {
        const { openTime: _t, notional: _n, complete: _c, ...summary } = s;
        out.set(t, (p = { summary, levels: new Map() }));
      }
      p.levels.set(r[1]!, [r[1]!, r[2]!, r[3]!, r[4]!, r[5]!]);
    }
    return out;
  }

  /**
   * The stored native levels of one instrument's candles of `timeframe` that open at `openTimes`,
   * by open time: what an owner's snapshot (which carries only the levels ClickHouse may not have
   * yet) is overlaid on. Must be read after the snapshot was taken (libs/contracts live.ts).
   */
  async storedLevels(
    exchange: string,
    symbol: string,
    timeframe: Timeframe,
    openTimes: readonly number[],
    signal?: AbortSignal,
  ): Promise<Map<number, PriceLevel[]>> {
    if (openTimes.length === 0) return new Map();
    const from = openTimes.reduce((a, b) => Math.min(a, b));
    const to = openTimes.reduce((a, b) => Math.max(a, b)) + TIMEFRAME_MS[timeframe];
    return await requestRead(
      this.reader.levels(
        { exchange, symbol, priceFactor: 1, quantityFactor: 1 },
        timeframe,
        from,
        to,
        new Set(openTimes),
        signal,
      ),
    );
  }

  /**
   * Whole native candles of one instrument over [fromMs, toMs), as the aggregator would hold them (what a resyncing
   * live stream reads back).
   */
  async nativeCandles(
    exchange: string,
    symbol: string,
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
    signal?: AbortSignal,
  ): Promise<CandleData[]> {
    const m = { exchange, symbol, priceFactor: 1, quantityFactor: 1 };
    const levels = await requestRead(this.reader.levels(m, timeframe, fromMs, toMs, undefined, signal));
    const sums = await this.reader.summaries(
      m,
      timeframe,
      fromMs,
      toMs,
      { notional: false, complete: false },
      true,
      signal,
    );
    const out: CandleData[] = [];
    for (const [t, s] of [...sums].sort((a, b) => a[0] - b[0]))
      out.push(storedCandleData(s, timeframe, levels.get(t) ?? []));
    return out;
  }

  /**
   * Native-price totals (view units) over [fromMs, toMs) (minute-aligned), read from the coarsest timeframe that tiles
   * it.
   */
  rangeLevels(view: InstrumentView, fromMs: number, toMs: number, signal?: AbortSignal): Promise<PriceLevel[]> {
    return requestRead(this.reader.rangeLevels(sqlMembers(view), fromMs, toMs, signal));
  }
}
