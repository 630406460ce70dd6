import { type InstrumentView, mergeSummaries, scaleUnits } from '@orderflow/candle-views';
import type { CandleColumns, HistoryReader, SqlMember, StoredCandle } from '@orderflow/clickhouse';
import type { CandleData, PriceLevel, Timeframe } from '@orderflow/footprint';

/** A stored candle summary in a view's units (one instrument's, or the sum of a merged view's members). */
export type HistoryCandle = StoredCandle;

/** The members of a view as the history SQL takes them. */
export function sqlMembers(view: InstrumentView): SqlMember[] {
  return view.members.map((m) => ({
    exchange: m.exchange,
    symbol: m.symbol,
    priceFactor: m.priceFactor,
    quantityFactor: m.quantityFactor,
  }));
}

/** A member's stored candle in the view's units (its factors applied, exactly; itself when both are 1). */
export function inViewUnits(c: StoredCandle, m: SqlMember): HistoryCandle {
  const pf = m.priceFactor;
  const qf = m.quantityFactor;
  if (pf === 1 && qf === 1) return c;
  return {
    ...c,
    open: scaleUnits(c.open, pf, 'price'),
    high: scaleUnits(c.high, pf, 'price'),
    low: scaleUnits(c.low, pf, 'price'),
    close: scaleUnits(c.close, pf, 'price'),
    buyVolume: scaleUnits(c.buyVolume, qf, 'volume'),
    sellVolume: scaleUnits(c.sellVolume, qf, 'volume'),
    maxDelta: c.maxDelta === null ? null : scaleUnits(c.maxDelta, qf, 'delta'),
    minDelta: c.minDelta === null ? null : scaleUnits(c.minDelta, qf, 'delta'),
    notional: c.notional === null ? null : c.notional * BigInt(pf) * BigInt(qf),
  };
}

/**
 * Candle summaries of a view over [fromMs, toMs) by open time. A merged view adds its members'
 * candles (see mergeSummaries; first/last trade times read from candles_1m order their opens and
 * closes); `withTimes` reads those times for one instrument too.
 */
export async function viewSummaries(
  reader: HistoryReader,
  view: InstrumentView,
  timeframe: Timeframe,
  fromMs: number,
  toMs: number,
  signal?: AbortSignal,
  extra?: CandleColumns,
  withTimes = false,
): Promise<Map<number, HistoryCandle>> {
  const cols = extra ?? { notional: false, complete: false };
  const merged = view.members.length > 1;
  const perMember = await Promise.all(
    sqlMembers(view).map(async (m) => {
      const stored = await reader.summaries(m, timeframe, fromMs, toMs, cols, merged || withTimes, signal);
      if (m.priceFactor === 1 && m.quantityFactor === 1) return stored;
      const out = new Map<number, HistoryCandle>();
      for (const [t, c] of stored) out.set(t, inViewUnits(c, m));
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

/**
 * Candle summaries of a view as ClickHouse returns them (one member: the reader's stream itself
 * when the member's factors are 1, so that a long export passes through no further generator), or
 * merged (several: read whole, then merged).
 */
export function streamViewSummaries(
  reader: HistoryReader,
  view: InstrumentView,
  timeframe: Timeframe,
  fromMs: number,
  toMs: number,
  signal?: AbortSignal,
  extra?: CandleColumns,
): AsyncGenerator<HistoryCandle> {
  if (view.members.length > 1) return mergedStream(reader, view, timeframe, fromMs, toMs, signal, extra);
  const m = sqlMembers(view)[0]!;
  const rows = reader.streamSummaries(
    m,
    timeframe,
    fromMs,
    toMs,
    extra ?? { notional: false, complete: false },
    signal,
  );
  return m.priceFactor === 1 && m.quantityFactor === 1 ? rows : inViewUnitsAll(rows, m);
}

async function* mergedStream(
  reader: HistoryReader,
  view: InstrumentView,
  timeframe: Timeframe,
  fromMs: number,
  toMs: number,
  signal?: AbortSignal,
  extra?: CandleColumns,
): AsyncGenerator<HistoryCandle> {
  yield* (await viewSummaries(reader, view, timeframe, fromMs, toMs, signal, extra)).values();
}

async function* inViewUnitsAll(rows: AsyncIterable<StoredCandle>, m: SqlMember): AsyncGenerator<HistoryCandle> {
  for await (const c of rows) yield inViewUnits(c, m);
}

/**
 * A stored candle as the engine's CandleData at native ticks (missing extremes and trade times as 0), with `levels`.
 */
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
