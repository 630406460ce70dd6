import type { ClickHouseClient } from '@clickhouse/client';
import { type CandleData, type GroupingMode, type PriceLevel, TIMEFRAME_MS, type Timeframe } from '@orderflow/footprint';
import { type SummaryPart, footprintCandleFromJson, isWireCells, mergeSummaries, wireCandle } from '@orderflow/candle-views';
import type { WireFootprintCandle } from '@orderflow/contracts';
import type { InstrumentView } from '../instruments/instrument.view.js';
import type { MemberPart } from '@orderflow/candle-views';
import { RequestError } from '../request.error.js';
import { CandleCache } from './candle-cache.js';
import { CellOrderError, CellTranscoder, type TranscodedCandle } from './cell-transcoder.js';
import { IntTsvError, IntTsvParser } from './int-tsv.parser.js';
import { scaleUnits } from '../instruments/instrument.view.js';
import {
  type CandleColumns,
  QUERY_SETTINGS,
  type SqlMember,
  candleColumnsSql,
  candlesSql,
  firstLastSql,
  footprintCellsSql,
  latestMinuteSql,
  rangeLevelsSql,
  tilingTimeframe,
  timeSlices,
  wireMinutesSql,
} from './history.sql.js';

/** Candles per time slice of a cells read (HistoryService.cellRows): 6 h of 1m candles. */
export const CELL_SLICE_CANDLES = 240;
/**
 * Minutes per time slice of a read of the stored wire form (HistoryService.wireFootprint), read two
 * at a time: a day. Without FINAL, ClickHouse 18.16 sends a 432 k-cell day's 9.6 MB in one query in
 * 15-25 ms, and one query a day beat 6 h slices by 5-10 % in A/B runs (session 6; with FINAL, 6 h
 * slices had been the fastest).
 */
export const WIRE_SLICE_CANDLES = 1440;

/** A stored candle as the engine's CandleData at native ticks (missing extremes and trade times as 0), with `levels`. */
export function storedCandleData(c: HistoryCandle, timeframe: Timeframe, levels: PriceLevel[] = []): CandleData {
  return {
    timeframe,
    openTime: c.openTime,
    step: 1,
    mode: 'nearest',
    open: c.open,
    high: c.high,
    low: c.low,
    close: c.close,
    buyVolume: c.buyVolume,
    sellVolume: c.sellVolume,
    buyTrades: c.buyTrades,
    sellTrades: c.sellTrades,
    delta: c.buyVolume - c.sellVolume,
    maxDelta: c.maxDelta ?? 0,
    minDelta: c.minDelta ?? 0,
    firstTimeUs: c.firstTimeUs ?? 0,
    lastTimeUs: c.lastTimeUs ?? 0,
    onGrid: true,
    levels,
  };
}

/** A stored candle summary in a view's units, with what the schema offers beyond it. */
export interface HistoryCandle extends SummaryPart {
  openTime: number;
  /** Sum of price units x quantity units of the candle's trades (schema v2), exact; null when the schema has no notional. */
  notional: bigint | null;
  /** False when a minute of the candle lies in a gap the collector could not fill (schema v2); null when unknown. */
  complete: boolean | null;
}

/** ClickHouse answered with something that is not the expected rows (an error text in a streamed body, a schema change). */
export class HistoryError extends Error {
  override readonly name = 'HistoryError';
}

/** An integer TabSeparated field (prices, volumes, counts: all within 2^53 - 1 or refused). */
export function intField(row: readonly string[], i: number, what: string): number {
  const f = row[i];
  if (f === undefined || !/^-?\d+$/.test(f)) {
    const text = row.join('\t');
    if (/^Code: \d+/.test(text) || text.includes('DB::Exception')) throw new HistoryError(`ClickHouse: ${text.slice(0, 500)}`);
    throw new HistoryError(`${what}: expected an integer, got ${JSON.stringify(f)}`);
  }
  const n = Number(f);
  if (!Number.isSafeInteger(n)) throw new HistoryError(`${what}: ${f} is beyond 2^53 - 1 units: use a coarser range or grouping`);
  return n;
}

function members(view: InstrumentView): SqlMember[] {
  return view.members.map((m) => ({ exchange: m.exchange, symbol: m.symbol, priceFactor: m.priceFactor, quantityFactor: m.quantityFactor }));
}

/**
 * Reads history from the analyst views for a view (one instrument, or a merged sum), in the view's
 * units. Rows come as TabSeparated text: exact for Decimal128 sums, the same on 18.16 and current
 * servers (docs/design/clickhouse-storage.md §5).
 */
export class HistoryService {
  private columns: Promise<CandleColumns> | null = null;
  /** Footprint candles already read (see CandleCache), shared by HTTP history and snapshots. */
  readonly cache: CandleCache;

  /**
   * Whether native 1m cells are read in the order FINAL merges them (by key, as ClickHouse 18.16
   * sends them) instead of with ORDER BY, which costs 18.16 more than the read itself: the
   * CellTranscoder checks the order, and the first time the server does not keep it this turns
   * false for good and the slice is read again with ORDER BY.
   */
  naturalOrder = true;
  /** Native 1m candles served from their stored wire form, and those read from footprint_1m instead (wireFootprint). */
  wireMinutes = 0;
  wireFallbacks = 0;

  constructor(
    private readonly ch: ClickHouseClient,
    readonly db: string,
    private readonly timeoutMs: number,
    cacheBytes = 0,
    private readonly warn: (m: string) => void = () => undefined,
  ) {
    this.cache = new CandleCache(cacheBytes);
  }

  async ping(): Promise<boolean> {
    try {
      const r = await this.ch.ping();
      return r.success;
    } catch {
      return false;
    }
  }

  private settings(): Record<string, number> {
    return { ...QUERY_SETTINGS, max_execution_time: Math.ceil(this.timeoutMs / 1000) };
  }

  /**
   * Sends a read. A connection that broke before ClickHouse answered (the server died or was
   * restarted: behind a Service or a load balancer the next connection reaches a live replica) is
   * tried once more; a response that broke after it began is not, since its rows may have been used.
   */
  private async exec(query: string, signal?: AbortSignal) {
    const o = { query: `${query}\nFORMAT TabSeparated`, clickhouse_settings: this.settings() as never, ...(signal ? { abort_signal: signal } : {}) };
    try {
      return await this.ch.exec(o);
    } catch (e) {
      if (!isConnectionError(e) || signal?.aborted) throw e;
      return await this.ch.exec(o);
    }
  }

  /** The TabSeparated response to `query`, whole, as the network chunks it came in. */
  async chunks(query: string, signal?: AbortSignal): Promise<Buffer[]> {
    const { stream } = await this.exec(query, signal);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    } finally {
      stream.destroy();
    }
    return chunks;
  }

  async rows(query: string, signal?: AbortSignal): Promise<string[][]> {
    // the bytes whole, then decoded at once (Buffer's UTF-8 decoder), faster than the client's streaming text decoder
    const text = Buffer.concat(await this.chunks(query, signal)).toString('utf8');
    if (text.length === 0) return [];
    return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
  }

  /** Rows as ClickHouse sends them (nothing buffered beyond a network chunk). */
  async *stream(query: string, signal?: AbortSignal): AsyncGenerator<string[]> {
    const rs = await this.ch.query({ query, format: 'TabSeparated', clickhouse_settings: this.settings() as never, ...(signal ? { abort_signal: signal } : {}) });
    const s = rs.stream();
    try {
      for await (const rows of s as AsyncIterable<{ text: string }[]>) for (const r of rows) yield r.text.split('\t');
    } finally {
      s.destroy();
    }
  }

  /**
   * Integer rows parsed from the response bytes as they arrive (IntTsvParser), a network chunk's
   * rows at a time: the path for cells, where rows are many.
   */
  async *intRows(query: string, columns: number, signal?: AbortSignal): AsyncGenerator<number[][]> {
    const { stream } = await this.exec(query, signal);
    const parser = new IntTsvParser(columns);
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        const batch: number[][] = [];
        parser.push(chunk, (r) => batch.push(r));
        if (batch.length > 0) yield batch;
      }
      parser.end();
    } catch (e) {
      throw readError(e);
    } finally {
      stream.destroy();
    }
  }

  /**
   * The cells of [fromMs, toMs) (footprintCellsSql) as integer rows ordered by bucket and price, read
   * in time slices of at most CELL_SLICE_CANDLES candles (inOrder: two at a time, handed on in order).
   * Why: ClickHouse 18.16 spends ~0.29 s on FINAL + ORDER BY for 24 h of 1m cells at 300 levels a
   * minute but 0.08 s on half of it, and two halves in parallel take 0.12 s; the first slice also
   * arrives sooner, so the gateway's own work overlaps the reading of the next.
   */
  async *cellRows(members: readonly SqlMember[], timeframe: Timeframe, fromMs: number, toMs: number, step: number, mode: GroupingMode, signal?: AbortSignal): AsyncGenerator<number[][]> {
    const slices = timeSlices(fromMs, toMs, TIMEFRAME_MS[timeframe], CELL_SLICE_CANDLES);
    if (slices.length === 1) {
      yield* this.intRows(footprintCellsSql(this.db, members, timeframe, fromMs, toMs, step, mode), 6, signal);
      return;
    }
    const read = async ([a, b]: [number, number]) => {
      const batches: number[][][] = [];
      for await (const x of this.intRows(footprintCellsSql(this.db, members, timeframe, a, b, step, mode), 6, signal)) batches.push(x);
      return batches;
    };
    for await (const batches of inOrder(slices.map((s) => () => read(s)))) yield* batches;
  }

  /**
   * Footprint candles of [fromMs, toMs) straight from the response bytes (CellTranscoder: cells as
   * JSON text, totals, POC and value area), in the same time slices as cellRows, a slice at a time.
   */
  private async *transcodedCandles(members: readonly SqlMember[], timeframe: Timeframe, fromMs: number, toMs: number, step: number, mode: GroupingMode, signal?: AbortSignal): AsyncGenerator<TranscodedCandle[]> {
    const slices = timeSlices(fromMs, toMs, TIMEFRAME_MS[timeframe], CELL_SLICE_CANDLES);
    yield* inOrder(slices.map(([a, b]) => () => this.transcodeSlice(members, timeframe, a, b, step, mode, signal)));
  }

  private async transcodeSlice(members: readonly SqlMember[], timeframe: Timeframe, fromMs: number, toMs: number, step: number, mode: GroupingMode, signal?: AbortSignal): Promise<TranscodedCandle[]> {
    const natural = this.naturalOrder;
    try {
      return await this.transcode(footprintCellsSql(this.db, members, timeframe, fromMs, toMs, step, mode, natural ? 'natural' : 'sorted'), step, signal);
    } catch (e) {
      if (!(e instanceof CellOrderError) || !natural) throw e;
      if (this.naturalOrder) this.warn(`ClickHouse does not send FINAL rows in key order (${e.message}): cells are read with ORDER BY from now on`);
      this.naturalOrder = false;
      return await this.transcode(footprintCellsSql(this.db, members, timeframe, fromMs, toMs, step, mode, 'sorted'), step, signal);
    }
  }

  private async transcode(query: string, step: number, signal?: AbortSignal): Promise<TranscodedCandle[]> {
    const out: TranscodedCandle[] = [];
    const t = new CellTranscoder(step, (c) => out.push(c));
    const { stream } = await this.exec(query, signal);
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) t.push(chunk);
      t.end();
    } catch (e) {
      throw readError(e);
    } finally {
      stream.destroy();
    }
    return out;
  }

  /** Which optional columns the schema has (v1 lacks notional and complete; footprint_1m_wire came with v3): read on first use, then as refreshColumns says. */
  candleColumns(): Promise<CandleColumns> {
    if (this.columns === null) {
      this.columns = this.readColumns();
      this.columns.catch(() => {
        this.columns = null;
      });
    }
    return this.columns;
  }

  /** Reads the schema's optional columns again (the runtime does, with the instruments: a migration may land after the gateway started); the old answer stays until the new one is in. */
  async refreshColumns(): Promise<CandleColumns> {
    const next = await this.readColumns();
    this.columns = Promise.resolve(next);
    return next;
  }

  private async readColumns(): Promise<CandleColumns> {
    const rows = await this.rows(candleColumnsSql(this.db));
    const has = (table: string, name: string) => rows.some((r) => r[0] === table && r[1] === name);
    return { notional: has('candles', 'notional'), complete: has('candles', 'complete'), wire: has('footprint_1m_wire', 'cells_json') };
  }

  /** The newest stored minute (ms) of any member, or null. */
  async latestMinute(view: InstrumentView, signal?: AbortSignal): Promise<number | null> {
    const rows = await this.rows(latestMinuteSql(this.db, members(view)), signal);
    const s = rows.length > 0 ? intField(rows[0]!, 0, 'latest minute') : 0;
    return s > 0 ? s * 1000 : null;
  }

  /**
   * Candle summaries of [fromMs, toMs) by open time. A merged view adds its members' candles
   * (see mergeSummaries; first/last trade times read from candles_1m order their opens and closes).
   */
  async summaries(view: InstrumentView, timeframe: Timeframe, fromMs: number, toMs: number, signal?: AbortSignal, extra?: CandleColumns, withTimes = false): Promise<Map<number, HistoryCandle>> {
    const cols = extra ?? { notional: false, complete: false };
    const merged = view.members.length > 1;
    const perMember = await Promise.all(
      members(view).map(async (m) => {
        const [rows, times] = await Promise.all([
          this.rows(candlesSql(this.db, m, timeframe, fromMs, toMs, cols), signal),
          merged || withTimes ? this.rows(firstLastSql(this.db, m, timeframe, fromMs, toMs), signal) : Promise.resolve([]),
        ]);
        const firstLast = new Map(times.map((r) => [intField(r, 0, 'bucket') * 1000, [intField(r, 1, 'first time'), intField(r, 2, 'last time')] as const]));
        const out = new Map<number, HistoryCandle>();
        for (const r of rows) {
          const c = summaryRow(r, m, cols, firstLast.get(intField(r, 0, 'bucket') * 1000));
          out.set(c.openTime, c);
        }
        return out;
      }),
    );
    if (!merged) return perMember[0]!;
    const times = new Set<number>();
    for (const m of perMember) for (const t of m.keys()) times.add(t);
    const out = new Map<number, HistoryCandle>();
    for (const t of [...times].sort((a, b) => a - b)) {
      const parts = perMember.map((m) => m.get(t));
      const s = mergeSummaries(parts);
      if (s === null) continue;
      let notional: bigint | null = cols.notional ? 0n : null;
      let complete: boolean | null = cols.complete ? true : null;
      for (const p of parts) {
        if (p === undefined) continue;
        if (notional !== null) notional += p.notional ?? 0n;
        if (complete !== null) complete = complete && p.complete !== false;
      }
      out.set(t, { ...s, openTime: t, notional, complete });
    }
    return out;
  }

  /** Candle summaries as ClickHouse returns them (one member), or merged (several: read whole, then merged). */
  async *streamSummaries(view: InstrumentView, timeframe: Timeframe, fromMs: number, toMs: number, signal?: AbortSignal, extra?: CandleColumns): AsyncGenerator<HistoryCandle> {
    if (view.members.length > 1) {
      yield* (await this.summaries(view, timeframe, fromMs, toMs, signal, extra)).values();
      return;
    }
    const cols = extra ?? { notional: false, complete: false };
    const m = members(view)[0]!;
    for await (const r of this.stream(candlesSql(this.db, m, timeframe, fromMs, toMs, cols), signal)) yield summaryRow(r, m, cols, undefined);
  }

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
  async *footprint(view: InstrumentView, timeframe: Timeframe, fromMs: number, toMs: number, step: number, mode: GroupingMode, signal?: AbortSignal): AsyncGenerator<WireFootprintCandle> {
    const prefix = `${view.members.map((m) => `${m.exchange}:${m.symbol}:${m.priceFactor}:${m.quantityFactor}`).join(',')}|${timeframe}|${step}|${mode}|`;
    const cols = await this.candleColumns();
    const m = members(view);
    // one instrument in its own units at native 1m ticks: the minutes' stored wire form (schema v3)
    const wire = cols.wire === true && timeframe === '1m' && step === 1 && m.length === 1 && m[0]!.priceFactor === 1 && m[0]!.quantityFactor === 1;
    const read = (a: number, b: number, summaries: Promise<Map<number, HistoryCandle>> | null) =>
      wire ? this.wireFootprint(prefix, m[0]!, a, b, mode, signal) : this.readFootprint(prefix, view, timeframe, a, b, step, mode, summaries ?? this.summaries(view, timeframe, a, b, signal), signal);
    if (!this.cache.holds(prefix)) {
      yield* read(fromMs, toMs, null);
      return;
    }
    const summaries = await this.summaries(view, timeframe, fromMs, toMs, signal);
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
   * (footprint_1m_wire: cells JSON, POC and value area), with the summaries read beside it, in time
   * slices read two at a time: no FINAL over footprint_1m and no number parsed or printed. A minute
   * whose stored form is missing (written before schema v3), of another version than its summary
   * (a write between the two reads) or not canonical cells JSON is read from footprint_1m instead
   * (readFootprint), with the rest of its slice's such minutes.
   */
  private async *wireFootprint(prefix: string, m: SqlMember, fromMs: number, toMs: number, mode: GroupingMode, signal?: AbortSignal): AsyncGenerator<WireFootprintCandle> {
    const view = { members: [m] } as unknown as InstrumentView;
    const slice = async ([a, b]: [number, number]) => {
      // the summaries without notional and completeness: a footprint candle has neither
      const [sums, wire] = await Promise.all([this.summaries(view, '1m', a, b, signal), this.chunks(wireMinutesSql(this.db, m, a, b), signal)]);
      return { sums, wire };
    };
    for await (const { sums, wire } of inOrder(timeSlices(fromMs, toMs, 60_000, WIRE_SLICE_CANDLES).map((s) => () => slice(s)))) {
      const stored = latestWireRows(wire);
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
        for await (const c of this.readFootprint(prefix, view, '1m', lo, hi, 1, mode, Promise.resolve(missing), signal)) filled.set(c.openTime, c);
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

  /** Cells of [fromMs, toMs) from ClickHouse joined to their summaries; each candle whose cells add up to its summary's trade count is cached. */
  private async *readFootprint(prefix: string, view: InstrumentView, timeframe: Timeframe, fromMs: number, toMs: number, step: number, mode: GroupingMode, summariesP: Promise<Map<number, HistoryCandle>>, signal?: AbortSignal): AsyncGenerator<WireFootprintCandle> {
    summariesP.catch(() => undefined);
    let summaries: Map<number, HistoryCandle> | null = null;
    for await (const slice of this.transcodedCandles(members(view), timeframe, fromMs, toMs, step, mode, signal)) {
      summaries ??= await summariesP;
      for (const c of slice) {
        const t = c.bucket * 1000;
        const s = summaries.get(t);
        if (s === undefined) continue; // its summary row was not written yet: the candle is being written
        const part: SummaryPart = { ...s, buyVolume: c.buyVolume, sellVolume: c.sellVolume, buyTrades: c.buyTrades, sellTrades: c.sellTrades };
        const out = footprintCandleFromJson(wireCandle(t, part, c), c.cellsJson, c.cells);
        const trades = c.buyTrades + c.sellTrades;
        if (trades === s.buyTrades + s.sellTrades) this.cache.set(prefix, trades, out);
        yield out;
      }
    }
    if (summaries === null) await summariesP;
  }

  async footprintList(view: InstrumentView, timeframe: Timeframe, fromMs: number, toMs: number, step: number, mode: GroupingMode, signal?: AbortSignal): Promise<WireFootprintCandle[]> {
    const out: WireFootprintCandle[] = [];
    for await (const c of this.footprint(view, timeframe, fromMs, toMs, step, mode, signal)) out.push(c);
    return out;
  }

  /**
   * One member's part of each candle of [fromMs, toMs) at a grouping, in the view's units, with
   * first/last trade times: what a merged live view is seeded with.
   */
  async memberParts(view: InstrumentView, member: number, timeframe: Timeframe, fromMs: number, toMs: number, step: number, mode: GroupingMode, signal?: AbortSignal): Promise<Map<number, MemberPart>> {
    const one: InstrumentView = { ...view, members: [view.members[member]!] };
    const rows: number[][] = [];
    const [sums] = await Promise.all([
      this.summaries(one, timeframe, fromMs, toMs, signal, undefined, true),
      (async () => {
        for await (const batch of this.cellRows(members(one), timeframe, fromMs, toMs, step, mode, signal)) for (const r of batch) rows.push(r);
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
  async storedLevels(exchange: string, symbol: string, timeframe: Timeframe, openTimes: readonly number[], signal?: AbortSignal): Promise<Map<number, PriceLevel[]>> {
    const out = new Map<number, PriceLevel[]>();
    if (openTimes.length === 0) return out;
    const wanted = new Set(openTimes);
    const from = openTimes.reduce((a, b) => Math.min(a, b));
    const to = openTimes.reduce((a, b) => Math.max(a, b)) + TIMEFRAME_MS[timeframe];
    for await (const batch of this.cellRows([{ exchange, symbol, priceFactor: 1, quantityFactor: 1 }], timeframe, from, to, 1, 'nearest', signal)) {
      for (const r of batch) {
        const t = r[0]! * 1000;
        if (!wanted.has(t)) continue;
        let list = out.get(t);
        if (!list) out.set(t, (list = []));
        list.push({ price: r[1]!, buyVolume: r[2]!, sellVolume: r[3]!, buyTrades: r[4]!, sellTrades: r[5]! });
      }
    }
    return out;
  }

  /** Whole native candles of one instrument over [fromMs, toMs), as the aggregator would hold them (what a resyncing live stream reads back). */
  async nativeCandles(exchange: string, symbol: string, timeframe: Timeframe, fromMs: number, toMs: number, signal?: AbortSignal): Promise<CandleData[]> {
    const m: SqlMember = { exchange, symbol, priceFactor: 1, quantityFactor: 1 };
    const one = { members: [m] } as unknown as InstrumentView;
    const levels = await this.storedRangeLevels(m, timeframe, fromMs, toMs, signal);
    const sums = await this.summaries(one, timeframe, fromMs, toMs, signal, undefined, true);
    const out: CandleData[] = [];
    for (const [t, s] of [...sums].sort((a, b) => a[0] - b[0])) out.push(storedCandleData(s, timeframe, levels.get(t) ?? []));
    return out;
  }

  private async storedRangeLevels(m: SqlMember, timeframe: Timeframe, fromMs: number, toMs: number, signal?: AbortSignal): Promise<Map<number, PriceLevel[]>> {
    const out = new Map<number, PriceLevel[]>();
    for await (const batch of this.cellRows([m], timeframe, fromMs, toMs, 1, 'nearest', signal)) {
      for (const r of batch) {
        const t = r[0]! * 1000;
        let list = out.get(t);
        if (!list) out.set(t, (list = []));
        list.push({ price: r[1]!, buyVolume: r[2]!, sellVolume: r[3]!, buyTrades: r[4]!, sellTrades: r[5]! });
      }
    }
    return out;
  }

  /** Native-price totals (view units) over [fromMs, toMs) (minute-aligned), read from the coarsest timeframe that tiles it. */
  async rangeLevels(view: InstrumentView, fromMs: number, toMs: number, signal?: AbortSignal): Promise<PriceLevel[]> {
    const out: PriceLevel[] = [];
    for await (const batch of this.intRows(rangeLevelsSql(this.db, members(view), tilingTimeframe(fromMs, toMs), fromMs, toMs), 5, signal)) {
      for (const r of batch) out.push({ price: r[0]!, buyVolume: r[1]!, sellVolume: r[2]!, buyTrades: r[3]!, sellTrades: r[4]! });
    }
    return out;
  }
}

/** A candles-view row (candlesSql's columns) in the view's units. */
function summaryRow(r: readonly string[], m: SqlMember, cols: CandleColumns, fl: readonly [number, number] | undefined): HistoryCandle {
  const pf = m.priceFactor;
  const qf = m.quantityFactor;
  let k = 11;
  let notional: bigint | null = null;
  if (cols.notional) {
    const text = r[k++] ?? '';
    if (!/^\d+$/.test(text)) throw new HistoryError(`notional: expected an integer, got ${JSON.stringify(text.slice(0, 80))}`);
    notional = BigInt(text) * BigInt(pf) * BigInt(qf);
  }
  const complete = cols.complete ? r[k] === '1' : null;
  return {
    openTime: intField(r, 0, 'bucket') * 1000,
    open: scaleUnits(intField(r, 1, 'open'), pf, 'price'),
    high: scaleUnits(intField(r, 2, 'high'), pf, 'price'),
    low: scaleUnits(intField(r, 3, 'low'), pf, 'price'),
    close: scaleUnits(intField(r, 4, 'close'), pf, 'price'),
    buyVolume: scaleUnits(intField(r, 5, 'buy volume'), qf, 'volume'),
    sellVolume: scaleUnits(intField(r, 6, 'sell volume'), qf, 'volume'),
    buyTrades: intField(r, 7, 'buy trades'),
    sellTrades: intField(r, 8, 'sell trades'),
    maxDelta: scaleUnits(intField(r, 9, 'max delta'), qf, 'delta'),
    minDelta: scaleUnits(intField(r, 10, 'min delta'), qf, 'delta'),
    firstTimeUs: fl ? fl[0] : null,
    lastTimeUs: fl ? fl[1] : null,
    notional,
    complete,
  };
}

/** Bucket start of `ms` for a timeframe. */
export function bucketOf(ms: number, timeframe: Timeframe): number {
  return ms - (ms % TIMEFRAME_MS[timeframe]);
}

/** A read's failure as the API reports it: a value beyond 2^53 - 1 is the request's (a coarser range or grouping helps), anything else unexpected in the rows is ClickHouse's. */
/** An error of the connection to ClickHouse itself (refused, reset, closed before the answer), not one ClickHouse answered with. */
export function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return ['ECONNRESET', 'ECONNREFUSED', 'EPIPE'].includes(String(code)) || (e instanceof Error && /socket hang up/.test(e.message));
}

function readError(e: unknown): unknown {
  if (e instanceof CellOrderError) return e; // the reader asks again, sorted
  if (e instanceof IntTsvError) return /beyond 2\^53/.test(e.message) ? new RequestError('bad-request', e.message) : new HistoryError(e.message);
  return e;
}

/** A minute's stored wire form (footprint_1m_wire): its cells' JSON as the bytes ClickHouse sent. */
export interface WireRow {
  version: number;
  poc: number;
  vah: number;
  val: number;
  cells: Buffer;
}

/**
 * The highest version of each minute, by open time in ms, among the footprint_1m_wire rows of a
 * TabSeparated response (wireMinutesSql: `minute_seconds, version, poc, vah, val, cells_json`, in
 * any order, a minute's versions as many as its parts not merged yet): what FINAL gives, without
 * its merge in one stream. The cells stay bytes: a view of the network chunk they came in (only a
 * row cut by a chunk's end is copied), never made text and written to the response as they are.
 * ClickHouse's escapes are left in them, so a text that needed any fails isWireCells.
 */
export function latestWireRows(chunks: readonly Buffer[]): Map<number, WireRow> {
  const out = new Map<number, WireRow>();
  const take = (b: Buffer, from: number, to: number) => {
    const f: string[] = [];
    let q = from;
    for (let k = 0; k < 5; k++) {
      const tab = b.indexOf(9, q);
      if (tab < 0 || tab > to) break;
      f.push(b.toString('latin1', q, tab));
      q = tab + 1;
    }
    // a short row (ClickHouse's error text in a streamed body, a schema change): intField says which
    if (f.length < 5) f.push(b.toString('utf8', q, to));
    const t = intField(f, 0, 'minute') * 1000;
    const row: WireRow = { version: intField(f, 1, 'version'), poc: intField(f, 2, 'poc'), vah: intField(f, 3, 'vah'), val: intField(f, 4, 'val'), cells: b.subarray(q, to) };
    const had = out.get(t);
    if (had === undefined || row.version > had.version) out.set(t, row);
  };
  // the start of a row that the previous chunks ended in
  let carry: Buffer[] = [];
  for (const b of chunks) {
    let p = 0;
    if (carry.length > 0) {
      const nl = b.indexOf(10);
      if (nl < 0) {
        carry.push(b);
        continue;
      }
      const row = Buffer.concat([...carry, b.subarray(0, nl)]);
      take(row, 0, row.length);
      carry = [];
      p = nl + 1;
    }
    for (;;) {
      const nl = b.indexOf(10, p);
      if (nl < 0) break;
      take(b, p, nl);
      p = nl + 1;
    }
    if (p < b.length) carry.push(b.subarray(p));
  }
  if (carry.length > 0) {
    const row = Buffer.concat(carry);
    take(row, 0, row.length);
  }
  return out;
}

/**
 * The results of `reads` in order, with `ahead` reads beyond the one awaited running (1: two at a
 * time). A read started ahead and then abandoned (the consumer stopped) cannot become an unhandled rejection.
 */
export async function* inOrder<T>(reads: readonly (() => Promise<T>)[], ahead = 1): AsyncGenerator<T> {
  const running: Promise<T>[] = [];
  let next = 0;
  const fill = (upTo: number) => {
    for (; next < reads.length && next <= upTo; next++) {
      const p = reads[next]!();
      p.catch(() => undefined); // still rejects for the await below
      running.push(p);
    }
  };
  for (let i = 0; i < reads.length; i++) {
    fill(i + ahead);
    yield await running.shift()!;
  }
}
