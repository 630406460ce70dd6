import type { ClickHouseClient } from '@clickhouse/client';
import { type GroupingMode, type PriceLevel, TIMEFRAME_MS, type Timeframe } from '@orderflow/footprint';
import { CellOrderError, CellTranscoder, type TranscodedCandle } from './cell-transcoder.js';
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
import { inOrder } from './in-order.js';
import { IntTsvError, IntTsvParser } from './int-tsv.parser.js';
import { HistoryError, type StoredCandle, UnitsOverflowError, intField, storedCandleRow } from './stored-candle.js';
import { type WireRow, latestWireRows } from './wire-rows.js';

/** Candles per time slice of a cells read (HistoryReader.cellRows): 6 h of 1m candles. */
export const CELL_SLICE_CANDLES = 240;
/**
 * Minutes per time slice of a read of the stored wire form (HistoryReader.wireSlices), read two at
 * a time: a day. Without FINAL, ClickHouse 18.16 sends a 432 k-cell day's 9.6 MB in one query in
 * 15-25 ms, and one query a day beat 6 h slices by 5-10 % in A/B runs (with FINAL, 6 h slices had
 * been the fastest).
 */
export const WIRE_SLICE_CANDLES = 1440;

/** The summaries read without notional and completeness (a footprint candle has neither). */
const PLAIN: CandleColumns = { notional: false, complete: false };

/**
 * One slice of a read of the stored wire form: the minutes' summaries, and the latest stored wire form of each minute
 * that has one.
 */
export interface WireSlice {
  summaries: Map<number, StoredCandle>;
  wire: Map<number, WireRow>;
}

/**
 * Reads history from the analyst views and tables: SQL from history.sql.ts, rows as TabSeparated
 * text (exact for Decimal128 sums, the same on 18.16 and current servers,
 * docs/design/clickhouse-storage.md §5), decoded into candles, cells and levels. Prices and volumes
 * of cells are in the units the members' factors give; candle summaries are in each instrument's
 * own units.
 */
export class HistoryReader {
  private columns: Promise<CandleColumns> | null = null;

  /**
   * Whether native 1m cells are read in the order FINAL merges them (by key, as ClickHouse 18.16
   * sends them) instead of with ORDER BY, which costs 18.16 more than the read itself: the
   * CellTranscoder checks the order, and the first time the server does not keep it this turns
   * false for good and the slice is read again with ORDER BY.
   */
  naturalOrder = true;

  constructor(
    private readonly ch: ClickHouseClient,
    readonly db: string,
    private readonly timeoutMs: number,
    private readonly warn: (m: string) => void = () => undefined,
  ) {}

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
    const o = {
      query: `${query}\nFORMAT TabSeparated`,
      clickhouse_settings: this.settings() as never,
      ...(signal ? { abort_signal: signal } : {}),
    };
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
    const rs = await this.ch.query({
      query,
      format: 'TabSeparated',
      clickhouse_settings: this.settings() as never,
      ...(signal ? { abort_signal: signal } : {}),
    });
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
  async *cellRows(
    members: readonly SqlMember[],
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
    step: number,
    mode: GroupingMode,
    signal?: AbortSignal,
  ): AsyncGenerator<number[][]> {
    const slices = timeSlices(fromMs, toMs, TIMEFRAME_MS[timeframe], CELL_SLICE_CANDLES);
    if (slices.length === 1) {
      yield* this.intRows(footprintCellsSql(this.db, members, timeframe, fromMs, toMs, step, mode), 6, signal);
      return;
    }
    const read = async ([a, b]: [number, number]) => {
      const batches: number[][][] = [];
      for await (const x of this.intRows(footprintCellsSql(this.db, members, timeframe, a, b, step, mode), 6, signal))
        batches.push(x);
      return batches;
    };
    for await (const batches of inOrder(slices.map((s) => () => read(s)))) yield* batches;
  }

  /**
   * Footprint candles of [fromMs, toMs) straight from the response bytes (CellTranscoder: cells as
   * JSON text, totals, POC and value area), in the same time slices as cellRows, a slice at a time.
   */
  async *transcodedCandles(
    members: readonly SqlMember[],
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
    step: number,
    mode: GroupingMode,
    signal?: AbortSignal,
  ): AsyncGenerator<TranscodedCandle[]> {
    const slices = timeSlices(fromMs, toMs, TIMEFRAME_MS[timeframe], CELL_SLICE_CANDLES);
    yield* inOrder(
      slices.map(
        ([a, b]) =>
          () =>
            this.transcodeSlice(members, timeframe, a, b, step, mode, signal),
      ),
    );
  }

  private async transcodeSlice(
    members: readonly SqlMember[],
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
    step: number,
    mode: GroupingMode,
    signal?: AbortSignal,
  ): Promise<TranscodedCandle[]> {
    const natural = this.naturalOrder;
    try {
      return await this.transcode(
        footprintCellsSql(this.db, members, timeframe, fromMs, toMs, step, mode, natural ? 'natural' : 'sorted'),
        step,
        signal,
      );
    } catch (e) {
      if (!(e instanceof CellOrderError) || !natural) throw e;
      if (this.naturalOrder)
        this.warn(
          `ClickHouse does not send FINAL rows in key order (${e.message}): cells are read with ORDER BY from now on`,
        );
      this.naturalOrder = false;
      return await this.transcode(
        footprintCellsSql(this.db, members, timeframe, fromMs, toMs, step, mode, 'sorted'),
        step,
        signal,
      );
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

  /**
   * Which optional columns the schema has (v1 lacks notional and complete; footprint_1m_wire came with v3): read on
   * first use, then as refreshColumns says.
   */
  candleColumns(): Promise<CandleColumns> {
    if (this.columns === null) {
      this.columns = this.readColumns();
      this.columns.catch(() => {
        this.columns = null;
      });
    }
    return this.columns;
  }

  /**
   * Reads the schema's optional columns again (a migration may land after the reader's first use); the old answer stays
   * until the new one is in.
   */
  async refreshColumns(): Promise<CandleColumns> {
    const next = await this.readColumns();
    this.columns = Promise.resolve(next);
    return next;
  }

  private async readColumns(): Promise<CandleColumns> {
    const rows = await this.rows(candleColumnsSql(this.db));
    const has = (table: string, name: string) => rows.some((r) => r[0] === table && r[1] === name);
    return {
      notional: has('candles', 'notional'),
      complete: has('candles', 'complete'),
      wire: has('footprint_1m_wire', 'cells_json'),
    };
  }

  /** The newest stored minute (ms) of any of the members, or null. */
  async latestMinute(members: readonly SqlMember[], signal?: AbortSignal): Promise<number | null> {
    const rows = await this.rows(latestMinuteSql(this.db, members), signal);
    const s = rows.length > 0 ? intField(rows[0]!, 0, 'latest minute') : 0;
    return s > 0 ? s * 1000 : null;
  }

  /**
   * One instrument's candle summaries of [fromMs, toMs) by open time, in its own units, with the
   * columns `cols` names; `withTimes`: with the first and last trade times read from candles_1m.
   */
  async summaries(
    m: SqlMember,
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
    cols: CandleColumns,
    withTimes: boolean,
    signal?: AbortSignal,
  ): Promise<Map<number, StoredCandle>> {
    const [rows, times] = await Promise.all([
      this.rows(candlesSql(this.db, m, timeframe, fromMs, toMs, cols), signal),
      withTimes ? this.rows(firstLastSql(this.db, m, timeframe, fromMs, toMs), signal) : Promise.resolve([]),
    ]);
    const firstLast = new Map(
      times.map((r) => [
        intField(r, 0, 'bucket') * 1000,
        [intField(r, 1, 'first time'), intField(r, 2, 'last time')] as const,
      ]),
    );
    const out = new Map<number, StoredCandle>();
    for (const r of rows) {
      const c = storedCandleRow(r, cols, firstLast.get(intField(r, 0, 'bucket') * 1000));
      out.set(c.openTime, c);
    }
    return out;
  }

  /**
   * One instrument's candle summaries of [fromMs, toMs), in its own units, as ClickHouse sends them (without trade
   * times).
   */
  async *streamSummaries(
    m: SqlMember,
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
    cols: CandleColumns,
    signal?: AbortSignal,
  ): AsyncGenerator<StoredCandle> {
    for await (const r of this.stream(candlesSql(this.db, m, timeframe, fromMs, toMs, cols), signal))
      yield storedCandleRow(r, cols, undefined);
  }

  /**
   * One instrument's 1m summaries and stored wire forms (footprint_1m_wire: cells JSON, POC and
   * value area) of [fromMs, toMs), in time slices of WIRE_SLICE_CANDLES minutes read two at a time,
   * both reads of a slice at once: no FINAL over footprint_1m and no number parsed or printed.
   */
  async *wireSlices(m: SqlMember, fromMs: number, toMs: number, signal?: AbortSignal): AsyncGenerator<WireSlice> {
    const slice = async ([a, b]: [number, number]): Promise<WireSlice> => {
      const [summaries, wire] = await Promise.all([
        this.summaries(m, '1m', a, b, PLAIN, false, signal),
        this.chunks(wireMinutesSql(this.db, m, a, b), signal),
      ]);
      return { summaries, wire: latestWireRows(wire) };
    };
    yield* inOrder(timeSlices(fromMs, toMs, 60_000, WIRE_SLICE_CANDLES).map((s) => () => slice(s)));
  }

  /** Native levels of one instrument's candles of [fromMs, toMs) by open time (only those `wanted`, when given). */
  async levels(
    m: SqlMember,
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
    wanted?: ReadonlySet<number>,
    signal?: AbortSignal,
  ): Promise<Map<number, PriceLevel[]>> {
    const out = new Map<number, PriceLevel[]>();
    for await (const batch of this.cellRows([m], timeframe, fromMs, toMs, 1, 'nearest', signal)) {
      for (const r of batch) {
        const t = r[0]! * 1000;
        if (wanted !== undefined && !wanted.has(t)) continue;
        let list = out.get(t);
        if (!list) out.set(t, (list = []));
        list.push({ price: r[1]!, buyVolume: r[2]!, sellVolume: r[3]!, buyTrades: r[4]!, sellTrades: r[5]! });
      }
    }
    return out;
  }

  /**
   * Native-price totals (in the members' factors' units) over [fromMs, toMs) (minute-aligned), read from the coarsest
   * timeframe that tiles it.
   */
  async rangeLevels(
    members: readonly SqlMember[],
    fromMs: number,
    toMs: number,
    signal?: AbortSignal,
  ): Promise<PriceLevel[]> {
    const out: PriceLevel[] = [];
    for await (const batch of this.intRows(
      rangeLevelsSql(this.db, members, tilingTimeframe(fromMs, toMs), fromMs, toMs),
      5,
      signal,
    )) {
      for (const r of batch)
        out.push({ price: r[0]!, buyVolume: r[1]!, sellVolume: r[2]!, buyTrades: r[3]!, sellTrades: r[4]! });
    }
    return out;
  }
}

/**
 * An error of the connection to ClickHouse itself (refused, reset, closed before the answer), not one ClickHouse
 * answered with.
 */
export function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return (
    ['ECONNRESET', 'ECONNREFUSED', 'EPIPE'].includes(String(code)) ||
    (e instanceof Error && /socket hang up/.test(e.message))
  );
}

/**
 * A read's failure by whose it is: a value beyond 2^53 - 1 is the request's (UnitsOverflowError), anything else
 * unexpected in the rows is ClickHouse's (HistoryError).
 */
function readError(e: unknown): unknown {
  if (e instanceof CellOrderError) return e; // the reader asks again, sorted
  if (e instanceof IntTsvError)
    return /beyond 2\^53/.test(e.message) ? new UnitsOverflowError(e.message) : new HistoryError(e.message);
  return e;
}
