import { assertToken } from '@orderflow/contracts';
import { type GroupingMode, TIMEFRAMES, TIMEFRAME_MS, type Timeframe } from '@orderflow/footprint';
import { assertIdentifier, quoteString } from '../sql.js';

/**
 * SQL text for the analyst views (`{db}.footprint`, `{db}.candles`) and `{db}.candles_1m`.
 * ClickHouse 18.16 has no query parameters, so every value placed in the text is checked here
 * again, whatever the caller validated: identifiers by pattern, strings quoted by quoteString,
 * numbers as safe integers, timeframes from the enum. Queries run with
 * enable_optimize_predicate_expression = 1 (see QUERY_SETTINGS) so that the view reads only the
 * timeframe, symbol and buckets asked for.
 */
export const QUERY_SETTINGS = { enable_optimize_predicate_expression: 1 } as const;

export interface SqlMember {
  exchange: string;
  symbol: string;
  priceFactor: number;
  quantityFactor: number;
}

function int(n: number, what: string, min = 0): string {
  if (!Number.isSafeInteger(n) || n < min)
    throw new Error(`${what} must be a safe integer >= ${min}, got ${String(n)}`);
  return String(n);
}

function tf(t: Timeframe): string {
  if (!(TIMEFRAMES as readonly string[]).includes(t))
    throw new Error(`timeframe ${String(t)} is not one of ${TIMEFRAMES.join(', ')}`);
  return quoteString(t);
}

function seconds(ms: number, what: string): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms % 1000 !== 0)
    throw new Error(`${what} must be whole seconds of ms, got ${String(ms)}`);
  return String(ms / 1000);
}

function who(m: SqlMember, column = 'exchange', symbolColumn = 'symbol'): string {
  return `${column} = ${quoteString(assertToken(m.exchange, 'exchange'))} AND ${symbolColumn} = ${quoteString(assertToken(m.symbol, 'symbol'))}`;
}

function bucketRange(fromMs: number, toMs: number, column = 'bucket'): string {
  return `${column} >= toDateTime(${seconds(fromMs, 'from')}, 'UTC') AND ${column} < toDateTime(${seconds(toMs, 'to')}, 'UTC')`;
}

/** `price` in the view's units (member units x a power of ten), as Int64. */
function priceIn(m: SqlMember): string {
  return m.priceFactor === 1 ? 'price' : `price * toInt64(${int(m.priceFactor, 'price factor', 1)})`;
}

function volumeIn(column: string, m: SqlMember): string {
  return m.quantityFactor === 1
    ? column
    : `${column} * toDecimal128(${int(m.quantityFactor, 'quantity factor', 1)}, 0)`;
}

/**
 * The level of price expression `p` at a grouping of `step` price units, computed exactly as
 * @orderflow/footprint groupPrice does: 'down' = the multiple at or below; 'nearest' = the nearest
 * multiple, ties to the even multiple. Prices are positive, so `%` is the plain remainder.
 */
export function groupSql(p: string, step: number, mode: GroupingMode): string {
  int(step, 'step', 1);
  if (step === 1) return p;
  const s = `toInt64(${step})`;
  const base = `(${p} - ${p} % ${s})`;
  if (mode === 'down') return base;
  if (mode !== 'nearest') throw new Error(`grouping mode must be nearest or down, got ${String(mode)}`);
  return `multiIf(2 * (${p} % ${s}) < ${s}, ${base}, 2 * (${p} % ${s}) > ${s}, ${base} + ${s}, intDiv(${base}, ${s}) % 2 = 0, ${base}, ${base} + ${s})`;
}

/**
 * Footprint cells of a view (one member or the sum of several) at a grouping, one row per
 * (bucket, level): `bucket_seconds, price, buy_volume, sell_volume, buy_trades, sell_trades`,
 * ordered by bucket then price (so that a reader can stream candle after candle).
 */
/**
 * 'sorted': ORDER BY bucket, price. 'natural': the plain native 1m read (one member, no grouping)
 * without it, in the order FINAL merges the rows by the table's key (exchange, symbol, minute,
 * price), which ClickHouse 18.16 keeps and sorting costs it more than the read: for a reader that
 * checks the order (CellTranscoder) and asks again sorted when it is not kept. Other reads are
 * always sorted.
 */
export type CellOrder = 'sorted' | 'natural';

/**
 * Where one member's cells of a timeframe come from. 1m reads `footprint_1m FINAL`: the same
 * rows as the view's argMax-by-version (every row is a minute's complete state, version = its
 * trade count, and a price level never disappears from a later version), about 2.5 times faster
 * on 18.16; the larger timeframes read the view's roll-ups.
 */
/**
 * The cells of one member: `footprint` (higher timeframes), or `footprint_1m` deduplicated by FINAL
 * with the same column types (`wide`: volumes as Decimal128 so that sums over members and levels
 * cannot wrap; a plain read of the stored values keeps UInt64, which ClickHouse formats ~2x faster).
 */
function cellSource(db: string, m: SqlMember, timeframe: Timeframe, fromMs: number, toMs: number, wide = true): string {
  if (timeframe === '1m') {
    const vol = (c: string) => (wide ? `toDecimal128(${c}, 0) AS ${c}` : c);
    return `(
        SELECT minute AS bucket, price, ${vol('buy_volume')}, ${vol('sell_volume')}, toUInt64(buy_trades) AS buy_trades, toUInt64(sell_trades) AS sell_trades
        FROM ${db}.footprint_1m FINAL
        WHERE ${who(m)} AND ${bucketRange(fromMs, toMs, 'minute')}
    )`;
  }
  return `${db}.footprint`;
}

export function footprintCellsSql(
  db: string,
  members: readonly SqlMember[],
  timeframe: Timeframe,
  fromMs: number,
  toMs: number,
  step: number,
  mode: GroupingMode,
  order: CellOrder = 'sorted',
): string {
  assertIdentifier(db, 'database');
  if (members.length === 0) throw new Error('no members');
  if (order !== 'sorted' && order !== 'natural')
    throw new Error(`order must be sorted or natural, got ${String(order)}`);
  const where = (m: SqlMember) =>
    timeframe === '1m'
      ? bucketRange(fromMs, toMs)
      : `${who(m)} AND timeframe = ${tf(timeframe)} AND ${bucketRange(fromMs, toMs)}`;
  if (members.length === 1 && step === 1 && members[0]!.priceFactor === 1 && members[0]!.quantityFactor === 1) {
    return `SELECT toUInt32(bucket), price, buy_volume, sell_volume, buy_trades, sell_trades
FROM ${cellSource(db, members[0]!, timeframe, fromMs, toMs, false)}
WHERE ${where(members[0]!)}${order === 'natural' && timeframe === '1m' ? '' : '\nORDER BY bucket, price'}`;
  }
  const branches = members.map(
    (
      m,
    ) => `    SELECT toUInt32(bucket) AS b, ${groupSql(`(${priceIn(m)})`, step, mode)} AS p, ${volumeIn('buy_volume', m)} AS bv, ${volumeIn('sell_volume', m)} AS sv, buy_trades AS bt, sell_trades AS st
    FROM ${cellSource(db, m, timeframe, fromMs, toMs)}
    WHERE ${where(m)}`,
  );
  return `SELECT b, p, sum(bv), sum(sv), sum(bt), sum(st)
FROM
(
${branches.join('\n    UNION ALL\n')}
)
GROUP BY b, p
ORDER BY b, p`;
}

export interface CandleColumns {
  notional: boolean;
  complete: boolean;
  /** footprint_1m_wire holds each minute's wire form (schema v3, migration 0006). */
  wire?: boolean;
}

/**
 * One member's candle summaries: `bucket_seconds, open, high, low, close, buy_volume, sell_volume,
 * buy_trades, sell_trades, max_delta, min_delta` [, notional] [, complete], ordered by bucket.
 */
export function candlesSql(
  db: string,
  m: SqlMember,
  timeframe: Timeframe,
  fromMs: number,
  toMs: number,
  extra: CandleColumns,
): string {
  assertIdentifier(db, 'database');
  if (timeframe === '1m') return minuteCandlesSql(db, m, fromMs, toMs, extra);
  const more = `${extra.notional ? ', notional' : ''}${extra.complete ? ', complete' : ''}`;
  return `SELECT toUInt32(bucket), open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta${more}
FROM ${db}.candles
WHERE ${who(m)} AND timeframe = ${tf(timeframe)} AND ${bucketRange(fromMs, toMs)}
ORDER BY bucket`;
}

/**
 * 1m candle summaries straight from `candles_1m`: the `candles` view's 1m branch (the latest
 * version of each minute; complete = not listed in incomplete_minutes) with the member and range
 * applied inside it. Through the view, 18.16 also runs the other timeframes' branches of its
 * UNION ALL: a day of 1m summaries took 190-430 ms that way, 17-57 ms this way (same rows).
 */
function minuteCandlesSql(db: string, m: SqlMember, fromMs: number, toMs: number, extra: CandleColumns): string {
  const more = `${extra.notional ? ', toDecimal128(c.11, 0)' : ''}${extra.complete ? `, toUInt8(minute NOT IN (SELECT minute FROM ${db}.incomplete_minutes WHERE ${who(m)}))` : ''}`;
  return `SELECT toUInt32(minute), c.1, c.2, c.3, c.4, c.5, c.6, c.7, c.8, c.9, c.10${more}
FROM
(
    SELECT minute, argMax((open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta${extra.notional ? ', notional' : ''}), version) AS c
    FROM ${db}.candles_1m
    WHERE ${who(m)} AND ${bucketRange(fromMs, toMs, 'minute')}
    GROUP BY minute
)
ORDER BY minute`;
}

/**
 * First and last trade time (µs) per bucket of one member, from the latest version of each stored
 * minute: what orders the members' opens and closes in a merged candle.
 */
export function firstLastSql(db: string, m: SqlMember, timeframe: Timeframe, fromMs: number, toMs: number): string {
  assertIdentifier(db, 'database');
  const len = int(TIMEFRAME_MS[timeframe] / 1000, 'timeframe seconds', 60);
  return `SELECT intDiv(toUInt32(minute), ${len}) * ${len} AS b, min(c.1), max(c.2)
FROM
(
    SELECT minute, argMax(tuple(first_time_us, last_time_us), version) AS c
    FROM ${db}.candles_1m
    WHERE ${who(m)} AND ${bucketRange(fromMs, toMs, 'minute')}
    GROUP BY minute
)
GROUP BY b
ORDER BY b`;
}

/** The newest stored minute (seconds; 0 when none) of any of the members. */
export function latestMinuteSql(db: string, members: readonly SqlMember[]): string {
  assertIdentifier(db, 'database');
  return `SELECT toUInt32(max(minute)) FROM ${db}.candles_1m WHERE ${members.map((m) => `(${who(m)})`).join(' OR ')}`;
}

/**
 * Native-price sums over a range of buckets of `timeframe`: `price, buy_volume, sell_volume, buy_trades, sell_trades`,
 * ascending.
 */
export function rangeLevelsSql(
  db: string,
  members: readonly SqlMember[],
  timeframe: Timeframe,
  fromMs: number,
  toMs: number,
): string {
  assertIdentifier(db, 'database');
  const branches = members.map(
    (
      m,
    ) => `    SELECT ${priceIn(m)} AS p, ${volumeIn('buy_volume', m)} AS bv, ${volumeIn('sell_volume', m)} AS sv, buy_trades AS bt, sell_trades AS st
    FROM ${db}.footprint
    WHERE ${who(m)} AND timeframe = ${tf(timeframe)} AND ${bucketRange(fromMs, toMs)}`,
  );
  return `SELECT p, sum(bv), sum(sv), sum(bt), sum(st)
FROM
(
${branches.join('\n    UNION ALL\n')}
)
GROUP BY p
ORDER BY p`;
}

/**
 * Columns of the candles view and of footprint_1m_wire (schema versions differ: `notional` and `complete` came with v2,
 * footprint_1m_wire with v3): `table, name`.
 */
export function candleColumnsSql(db: string): string {
  return `SELECT table, name FROM system.columns WHERE database = ${quoteString(assertIdentifier(db, 'database'))} AND table IN ('candles', 'footprint_1m_wire')`;
}

/**
 * One member's stored minutes ready to serve (footprint_1m_wire): `minute_seconds, version, poc,
 * vah, val, cells_json`, every stored version of each minute in no particular order; the reader
 * keeps the highest version of each (latestWireRows), which is what FINAL would give. Why not FINAL
 * and ORDER BY: on ClickHouse 18.16 they took 9 of the 17 ms of a 6 h slice of 432 k-cell day (the
 * merge of parts in one stream and a sort that moves 2.4 MB of text), and the extra versions of a
 * minute not merged yet are few (the open minute written once a flush until its parts merge).
 */
export function wireMinutesSql(db: string, m: SqlMember, fromMs: number, toMs: number): string {
  assertIdentifier(db, 'database');
  return `SELECT toUInt32(minute), version, poc, vah, val, cells_json
FROM ${db}.footprint_1m_wire
WHERE ${who(m)} AND ${bucketRange(fromMs, toMs, 'minute')}`;
}

/** The largest timeframe whose buckets tile [fromMs, toMs) exactly (both ends aligned), for range sums. */
export function tilingTimeframe(fromMs: number, toMs: number): Timeframe {
  for (const t of [...TIMEFRAMES].reverse()) {
    const len = TIMEFRAME_MS[t];
    if (fromMs % len === 0 && toMs % len === 0) return t;
  }
  throw new Error(`range ${fromMs}..${toMs} is not aligned to whole minutes`);
}

/**
 * [fromMs, toMs) cut into consecutive slices of `candles` candles of `timeframeMs` (wider when that
 * would make more than `maxSlices`), cut on candle boundaries (multiples of the timeframe, as
 * buckets are), so that no candle spans two.
 */
export function timeSlices(
  fromMs: number,
  toMs: number,
  timeframeMs: number,
  candles: number,
  maxSlices = 8,
): [number, number][] {
  const out: [number, number][] = [];
  // an empty or unbounded range is one slice (the SQL builder refuses what is not a time)
  if (!(toMs > fromMs) || !Number.isFinite(fromMs) || !Number.isFinite(toMs)) return [[fromMs, toMs]];
  // at most maxSlices: a long range (a merged view's earlier sessions, a year of candles) gets wider slices, not
  // thousands of queries
  const width = Math.max(timeframeMs * candles, Math.ceil((toMs - fromMs) / maxSlices / timeframeMs) * timeframeMs);
  let a = fromMs;
  while (a < toMs) {
    // a + width, rounded down to a candle boundary (and at least the next boundary)
    let b = Math.floor((a + width) / timeframeMs) * timeframeMs;
    if (b <= a) b = Math.floor(a / timeframeMs) * timeframeMs + timeframeMs;
    if (b >= toMs) b = toMs;
    out.push([a, b]);
    a = b;
  }
  return out;
}
