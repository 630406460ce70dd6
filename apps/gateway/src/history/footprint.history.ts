import {
  type InstrumentView,
  type SummaryPart,
  footprintCandleFromJson,
  isWireCells,
  wireCandle,
} from '@orderflow/candle-views';
import type { HistoryReader, SqlMember } from '@orderflow/clickhouse';
import type { WireFootprintCandle } from '@orderflow/contracts';
import { type GroupingMode, TIMEFRAME_MS, type Timeframe } from '@orderflow/footprint';
import type { CandleCache } from './candle-cache.js';
import { requestReads } from './history.errors.js';
import { type HistoryCandle, sqlMembers, viewSummaries } from './view-summaries.js';

/**
 * Footprint candles of a view from ClickHouse (HistoryReader) through the CandleCache: which
 * candles are read and which are served from the cache, and how each is made from the rows read.
 */
export class FootprintHistory {
  /** Native 1m candles served from their stored wire form, and those read from footprint_1m instead (wireFootprint). */
  wireMinutes = 0;
  wireFallbacks = 0;

  constructor(
    private readonly reader: HistoryReader,
    private readonly cache: CandleCache,
  ) {}

  /**
   * Footprint candles of [fromMs, toMs) at a grouping of `step` view price units, streamed candle by
   * candle (cells come ordered by bucket and price; summaries, one row per candle, are read first).
   * A candle's volumes and counts are those of the cells read, so each candle is self-consistent
   * even when a write lands between the two queries.
   *
   * Candles read before come from the CandleCache when their stored trade count is unchanged: the
   * summaries are read first, and cells only for the span of candles that are not cached (usually
   * the newest few). A view with nothing cached is read whole, both queries at once.
   */
  async *footprint(
    view: InstrumentView,
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
    step: number,
    mode: GroupingMode,
    signal?: AbortSignal,
  ): AsyncGenerator<WireFootprintCandle> {
    const prefix = `${view.members.map((m) => `${m.exchange}:${m.symbol}:${m.priceFactor}:${m.quantityFactor}`).join(',')}|${timeframe}|${step}|${mode}|`;
    const cols = await this.reader.candleColumns();
    const m = sqlMembers(view);
    // one instrument in its own units at native 1m ticks: the minutes' stored wire form (schema v3)
    const wire =
      cols.wire === true &&
      timeframe === '1m' &&
      step === 1 &&
      m.length === 1 &&
      m[0]!.priceFactor === 1 &&
      m[0]!.quantityFactor === 1;
    const read = (a: number, b: number, summaries: Promise<Map<number, HistoryCandle>> | null) =>
      wire
        ? this.wireFootprint(prefix, m[0]!, a, b, mode, signal)
        : this.readFootprint(
            prefix,
            view,
            timeframe,
            a,
            b,
            step,
            mode,
            summaries ?? viewSummaries(this.reader, view, timeframe, a, b, signal),
            signal,
          );
    if (!this.cache.holds(prefix)) {
      yield* read(fromMs, toMs, null);
      return;
    }
    const summaries = await viewSummaries(this.reader, view, timeframe, fromMs, toMs, signal);
    const times = [...summaries.keys()].sort((a, b) => a - b);
    const cached = new Map<number, WireFootprintCandle>();
    let lo = Infinity;
    let hi = -Infinity;
    for (const t of times) {
      const s = summaries.get(t)!;
      const c = this.cache.get(prefix, t, s.buyTrades + s.sellTrades);
      if (c !== null) cached.set(t, c);
      else {
        if (t < lo) lo = t;
        if (t > hi) hi = t;
      }
    }
    let i = 0;
    for (; i < times.length && times[i]! < lo; i++) yield cached.get(times[i]!)!;
    if (lo <= hi) {
      yield* read(lo, Math.min(toMs, hi + TIMEFRAME_MS[timeframe]), Promise.resolve(summaries));
      while (i < times.length && times[i]! <= hi) i++;
    }
    for (; i < times.length; i++) yield cached.get(times[i]!)!;
  }

  /**
   * One instrument's 1m footprints at native ticks from the minutes' stored wire form
   * (HistoryReader.wireSlices: cells JSON, POC and value area, with the summaries read beside it). A
   * minute whose stored form is missing (written before schema v3), of another version than its
   * summary (a write between the two reads) or not canonical cells JSON is read from footprint_1m
   * instead (readFootprint), with the rest of its slice's such minutes.
   */
  private async *wireFootprint(
    prefix: string,
    m: SqlMember,
    fromMs: number,
    toMs: number,
    mode: GroupingMode,
    signal?: AbortSignal,
  ): AsyncGenerator<WireFootprintCandle> {
    const view = { members: [m] } as unknown as InstrumentView;
    for await (const { summaries: sums, wire: stored } of this.reader.wireSlices(m, fromMs, toMs, signal)) {
      const out: (WireFootprintCandle | number)[] = [];
      const missing = new Map<number, HistoryCandle>();
      for (const [t, s] of sums) {
        const r = stored.get(t);
        if (r === undefined || r.version !== s.buyTrades + s.sellTrades || !isWireCells(r.cells)) {
          missing.set(t, s);
          out.push(t);
          this.wireFallbacks++;
          continue;
        }
        this.wireMinutes++;
        const c = footprintCandleFromJson(wireCandle(t, s, r), r.cells);
        this.cache.set(prefix, s.buyTrades + s.sellTrades, c);
        out.push(c);
      }
      const filled = new Map<number, WireFootprintCandle>();
      if (missing.size > 0) {
        const times = [...missing.keys()];
        const lo = Math.min(...times);
        const hi = Math.max(...times) + 60_000;
        for await (const c of this.readFootprint(prefix, view, '1m', lo, hi, 1, mode, Promise.resolve(missing), signal))
          filled.set(c.openTime, c);
      }
      for (const c of out) {
        if (typeof c !== 'number') yield c;
        else {
          // a minute whose cells are not stored yet is being written: left out, as readFootprint does
          const f = filled.get(c);
          if (f) yield f;
        }
      }
    }
  }

  /**
   * Cells of [fromMs, toMs) from ClickHouse joined to their summaries; each candle whose cells add up to its summary's
   * trade count is cached.
   */
  private async *readFootprint(
    prefix: string,
    view: InstrumentView,
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
    step: number,
    mode: GroupingMode,
    summariesP: Promise<Map<number, HistoryCandle>>,
    signal?: AbortSignal,
  ): AsyncGenerator<WireFootprintCandle> {
    summariesP.catch(() => undefined);
    let summaries: Map<number, HistoryCandle> | null = null;
    for await (const slice of requestReads(
      this.reader.transcodedCandles(sqlMembers(view), timeframe, fromMs, toMs, step, mode, signal),
    )) {
      summaries ??= await summariesP;
      for (const c of slice) {
        const t = c.bucket * 1000;
        const s = summaries.get(t);
        if (s === undefined) continue; // its summary row was not written yet: the candle is being written
        const part: SummaryPart = {
          ...s,
          buyVolume: c.buyVolume,
          sellVolume: c.sellVolume,
          buyTrades: c.buyTrades,
          sellTrades: c.sellTrades,
        };
        const out = footprintCandleFromJson(wireCandle(t, part, c), c.cellsJson, c.cells);
        const trades = c.buyTrades + c.sellTrades;
        if (trades === s.buyTrades + s.sellTrades) this.cache.set(prefix, trades, out);
        yield out;
      }
    }
    if (summaries === null) await summariesP;
  }
}
