/**
 * FootprintStore: the aggregator's adapter to the ClickHouse schema (migrations 0001-0005, see
 * docs/design/clickhouse-storage.md §9). Writes raw trades, complete 1m candles (cells + candle,
 * version = trade count), collector gaps and instruments; reads back what a restarted aggregator
 * needs. Works on ClickHouse 18.16 and current versions: no query parameters (every value placed
 * in SQL text is validated or quoted first), TabSeparated in and out (exact for every number).
 */
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { FOOTPRINT_1M_WIRE_COLUMNS, type GapEvent, type MinuteWire, assertToken } from '@orderflow/contracts';
import {
  type CandleData,
  MAX_PROFILE_LEVELS,
  MAX_TIME_US,
  MIN_TIME_US,
  type PriceLevel,
  type Trade,
  tradeRejectReason,
  valueAreaIndices,
} from '@orderflow/footprint';
import { clickHouseDateTime } from './footprint.rows.js';
import { assertIdentifier, quoteString } from './sql.js';
import { parseTsv, tsvEscape, tsvInt, tsvUnescape } from './tsv.js';

/** A trade with its delivery order: JetStream stream sequence * 65536 + index in the batch (a safe integer). */
export interface IngestedTrade extends Trade {
  ingestSeq: number;
}

export interface InstrumentRow {
  exchange: string;
  symbol: string;
  priceScale: number;
  quantityScale: number;
  /** The price increment in price units. */
  tick: number;
}

/**
 * Most minutes one gap event marks in `gap_minutes` (31 days). A longer range keeps its first and
 * last MAX_GAP_MINUTES / 2 minutes: buckets that overlap a gap and hold trades are at its ends
 * (inside a gap nothing was received), so only a bucket deep inside a month-long outage that
 * still got trades from somewhere is left unmarked.
 */
export const MAX_GAP_MINUTES = 44_640;

/**
 * loadTrades looks this far (µs) beyond the asked range for other copies of the same trade id:
 * copies of one trade (a live ms time and an archive µs time, a re-publish) are assumed to lie
 * within an hour of each other in exchange time.
 */
export const TRADE_COPY_WINDOW_US = 3_600_000_000;

const HOUR_US = 3_600_000_000;
const MINUTE_US = 60_000_000;
const UINT32_MAX = 4_294_967_295;
const UINT64_LIMIT = 1n << 64n;
/** DateTime bounds the store accepts (2009 .. 2100, as for trade times). */
const MIN_SEC = MIN_TIME_US / 1_000_000;
const MAX_SEC = MAX_TIME_US / 1_000_000;
/** Instrument scales the engine supports (see MAX_SCALE in @orderflow/footprint). */
const MAX_SCALE = 15;
const MAX_ID_LENGTH = 256;

const TRADE_COLUMNS = [
  'exchange',
  'symbol',
  'trade_id',
  'price',
  'quantity',
  'side',
  'exchange_time_us',
  'receive_time_ms',
  'ingest_seq',
];
const CELL_COLUMNS = [
  'exchange',
  'symbol',
  'minute',
  'price',
  'buy_volume',
  'sell_volume',
  'buy_trades',
  'sell_trades',
  'version',
];
const CANDLE_COLUMNS = [
  'exchange',
  'symbol',
  'minute',
  'open',
  'high',
  'low',
  'close',
  'buy_volume',
  'sell_volume',
  'buy_trades',
  'sell_trades',
  'max_delta',
  'min_delta',
  'first_time_us',
  'last_time_us',
  'version',
  'notional',
];
const WIRE_COLUMNS = [...FOOTPRINT_1M_WIRE_COLUMNS];
const GAP_COLUMNS = [
  'exchange',
  'symbol',
  'from_id',
  'to_id',
  'missing',
  'from_time_us',
  'to_time_us',
  'status',
  'detected_at_ms',
  'reason',
];
const GAP_MINUTE_COLUMNS = ['exchange', 'symbol', 'minute', 'from_id', 'to_id'];
const INSTRUMENT_COLUMNS = ['exchange', 'symbol', 'price_scale', 'quantity_scale', 'tick_units', 'updated_at'];
const GAP_STATUSES: readonly string[] = ['detected', 'filled', 'unfilled'];

export class FootprintStore {
  private readonly db: string;

  constructor(
    private readonly ch: ClickHouseClient,
    database: string,
  ) {
    this.db = assertIdentifier(database, 'database');
  }

  /** TabSeparated inserts (18.16's JSONEachRow refuses decimal strings; TSV is fast and exact). One INSERT per call. */
  async insertTrades(trades: readonly IngestedTrade[]): Promise<void> {
    if (trades.length === 0) return;
    let tsv = '';
    for (const t of trades) {
      assertToken(t.exchange, 'exchange');
      assertToken(t.symbol, 'symbol');
      const reason = tradeRejectReason(t);
      if (reason !== null) throw new Error(`trade ${describeId(t.id)} of ${t.exchange} ${t.symbol}: ${reason}`);
      assertId(t.id, `trade id of ${t.exchange} ${t.symbol}`);
      assertInt(t.receiveTimeMs, 0, Number.MAX_SAFE_INTEGER, `receive time (ms) of trade ${t.id}`);
      assertInt(t.ingestSeq, 0, Number.MAX_SAFE_INTEGER, `ingestSeq of trade ${t.id}`);
      tsv += `${t.exchange}\t${t.symbol}\t${tsvEscape(t.id)}\t${t.price}\t${t.quantity}\t${t.side === 'buy' ? 'b' : 's'}\t${t.exchangeTimeUs}\t${t.receiveTimeMs}\t${t.ingestSeq}\n`;
    }
    await this.insertTsv('trades', TRADE_COLUMNS, tsv);
  }

  /**
   * 1m candles at native ticks (onGrid, step 1): footprint_1m cells, their wire form (footprint_1m_wire, minuteWire)
   * and candles_1m rows (with notional), version = trade count.
   * One INSERT per table per call. Rejects other timeframes / off-grid candles.
   *
   * The cells go first: a candle row at version v is only ever written after all of v's cells,
   * so loadMinutes always finds them. Each candle must be the complete state of its minute
   * (never an increment), built from trades without duplicate ids (see the design doc's
   * writer contract); it is checked for internal consistency, not against earlier versions.
   */
  async insertMinutes(exchange: string, symbol: string, candles: readonly CandleData[]): Promise<void> {
    assertToken(exchange, 'exchange');
    assertToken(symbol, 'symbol');
    if (candles.length === 0) return;
    let cells = '';
    let rows = '';
    let wire = '';
    for (const c of candles) {
      const notional = checkMinute(
        c,
        `${exchange} ${symbol} 1m candle at ${typeof c.openTime === 'number' ? c.openTime : String(c.openTime)}`,
      );
      const minute = clickHouseDateTime(c.openTime);
      const version = c.buyTrades + c.sellTrades;
      for (const l of c.levels)
        cells += `${exchange}\t${symbol}\t${minute}\t${l.price}\t${l.buyVolume}\t${l.sellVolume}\t${l.buyTrades}\t${l.sellTrades}\t${version}\n`;
      rows += `${exchange}\t${symbol}\t${minute}\t${c.open}\t${c.high}\t${c.low}\t${c.close}\t${c.buyVolume}\t${c.sellVolume}\t${c.buyTrades}\t${c.sellTrades}\t${c.maxDelta}\t${c.minDelta}\t${c.firstTimeUs}\t${c.lastTimeUs}\t${version}\t${notional}\n`;
      const w = minuteWire(c);
      if (w !== null)
        wire += `${exchange}\t${symbol}\t${minute}\t${version}\t${w.poc}\t${w.vah}\t${w.val}\t${w.cellsJson}\n`;
    }
    await this.insertTsv('footprint_1m', CELL_COLUMNS, cells);
    if (wire !== '') await this.insertTsv('footprint_1m_wire', WIRE_COLUMNS, wire);
    await this.insertTsv('candles_1m', CANDLE_COLUMNS, rows);
  }

  /**
   * Collector gap events into `gaps` (the latest event of a gap, by detectedAtMs, wins) and, for
   * events that carry both times, the minutes their range [fromTimeUs, toTimeUs] touches into
   * `gap_minutes` (at most MAX_GAP_MINUTES per event). The minutes go first, so a bucket turns
   * incomplete exactly when its gap's 'unfilled' row lands.
   */
  async insertGaps(events: readonly GapEvent[]): Promise<void> {
    // every event is checked before anything is written
    if (events.length === 0) return;
    let gaps = '';
    const minutes = new Set<string>();
    for (const g of events) {
      assertGapEvent(g);
      const from = g.fromTimeUs;
      const to = g.toTimeUs;
      if (from !== undefined && to !== undefined) {
        for (const m of gapMinutes(from, to))
          minutes.add(
            `${g.exchange}\t${g.symbol}\t${clickHouseDateTime(m * 60_000)}\t${tsvEscape(g.fromId)}\t${tsvEscape(g.toId)}\n`,
          );
      }
      gaps += `${g.exchange}\t${g.symbol}\t${tsvEscape(g.fromId)}\t${tsvEscape(g.toId)}\t${g.missing}\t${from ?? 0}\t${to ?? 0}\t${g.status}\t${g.detectedAtMs}\t${tsvEscape(g.reason)}\n`;
    }
    if (minutes.size > 0) await this.insertTsv('gap_minutes', GAP_MINUTE_COLUMNS, [...minutes].join(''));
    await this.insertTsv('gaps', GAP_COLUMNS, gaps);
  }

  /**
   * Instruments (one row per exchange and symbol in a call). Scales are fixed for all time: a row
   * whose price or quantity scale differs from the stored one is refused (the same trades would
   * get other units and count twice). A row equal to the stored one writes nothing; a changed
   * tick is written with `updated_at` after the stored one's, so the latest always wins.
   */
  async upsertInstruments(rows: readonly InstrumentRow[]): Promise<void> {
    if (rows.length === 0) return;
    const seen = new Set<string>();
    for (const r of rows) {
      assertToken(r.exchange, 'exchange');
      assertToken(r.symbol, 'symbol');
      const what = `instrument ${r.exchange} ${r.symbol}`;
      assertInt(r.priceScale, 0, MAX_SCALE, `priceScale of ${what}`);
      assertInt(r.quantityScale, 0, MAX_SCALE, `quantityScale of ${what}`);
      assertInt(r.tick, 1, Number.MAX_SAFE_INTEGER, `tick of ${what}`);
      const key = `${r.exchange}\t${r.symbol}`;
      if (seen.has(key)) throw new Error(`${what} appears twice in one upsertInstruments call`);
      seen.add(key);
    }
    const stored = new Map((await this.instrumentsWithTime()).map((s) => [`${s.row.exchange}\t${s.row.symbol}`, s]));
    const nowSec = Math.floor(Date.now() / 1000);
    let tsv = '';
    for (const r of rows) {
      const prior = stored.get(`${r.exchange}\t${r.symbol}`);
      if (prior) {
        if (prior.row.priceScale !== r.priceScale || prior.row.quantityScale !== r.quantityScale) {
          throw new Error(
            `instrument ${r.exchange} ${r.symbol} is stored with price scale ${prior.row.priceScale} and quantity scale ${prior.row.quantityScale}; ` +
              `${r.priceScale} and ${r.quantityScale} would give the same trades other units: scales are fixed for all time`,
          );
        }
        if (prior.row.tick === r.tick) continue;
      }
      const updated = Math.max(nowSec, (prior?.updatedAtSec ?? 0) + 1);
      tsv += `${r.exchange}\t${r.symbol}\t${r.priceScale}\t${r.quantityScale}\t${r.tick}\t${clickHouseDateTime(updated * 1000)}\n`;
    }
    if (tsv.length > 0) await this.insertTsv('instruments', INSTRUMENT_COLUMNS, tsv);
  }

  /**
   * Raw trades with exchange_time_us in [fromUs, toUs), each trade id once (the first ingest wins: min ingest_seq),
   * ordered by ingest_seq. Exact whatever merges have or have not run.
   *
   * Every stored copy of a trade id within TRADE_COPY_WINDOW_US of the range is considered and
   * the one with the lowest ingest_seq is the trade; it is returned when *its* time is in the
   * range (merges keep exactly that copy, so the answer is the same before and after them).
   * Rows migrated from schema v1 have ingest_seq 0; ties are ordered by exchange time, then id.
   */
  async loadTrades(exchange: string, symbol: string, fromUs: number, toUs: number): Promise<IngestedTrade[]> {
    assertToken(exchange, 'exchange');
    assertToken(symbol, 'symbol');
    assertInt(fromUs, 0, Number.MAX_SAFE_INTEGER, 'fromUs');
    assertInt(toUs, 0, Number.MAX_SAFE_INTEGER, 'toUs');
    if (fromUs >= toUs || fromUs >= MAX_TIME_US) return [];
    // no stored trade lies outside [MIN_TIME_US, MAX_TIME_US): clamping keeps the literals exact
    const lo = Math.max(0, fromUs - TRADE_COPY_WINDOW_US);
    const hi = Math.min(toUs, MAX_TIME_US) + TRADE_COPY_WINDOW_US;
    // The hour is part of the sorting key; 18.16 does not derive a key range from a condition on
    // exchange_time_us alone, so the hour range is spelled out.
    const query = `SELECT trade_id, t.1, t.2, t.3, t.4, t.5, t.6 FROM
(
    SELECT trade_id, argMin(tuple(ingest_seq, price, quantity, side, exchange_time_us, receive_time_ms), ingest_seq) AS t
    FROM ${this.db}.trades
    WHERE exchange = ${quoteString(exchange)} AND symbol = ${quoteString(symbol)}
      AND intDiv(exchange_time_us, ${HOUR_US}) >= ${Math.floor(lo / HOUR_US)} AND intDiv(exchange_time_us, ${HOUR_US}) <= ${Math.floor(hi / HOUR_US)}
      AND exchange_time_us >= ${lo} AND exchange_time_us < ${hi}
    GROUP BY trade_id
)
WHERE t.5 >= ${fromUs} AND t.5 < ${toUs}
ORDER BY t.1, t.5, trade_id`;
    return (await this.selectTsv(query)).map((f) => {
      const side = f[4];
      if (side !== 'b' && side !== 's') throw new Error(`trades: unexpected side ${JSON.stringify(side)}`);
      return {
        exchange,
        symbol,
        id: tsvUnescape(f[0]!),
        price: tsvInt(f[2], 'trade price'),
        quantity: tsvInt(f[3], 'trade quantity'),
        side: side === 'b' ? 'buy' : 'sell',
        exchangeTimeUs: tsvInt(f[5], 'trade exchange time'),
        receiveTimeMs: tsvInt(f[6], 'trade receive time'),
        ingestSeq: tsvInt(f[1], 'trade ingest_seq'),
      };
    });
  }

  /**
   * Final state (highest version) of each stored 1m candle with openTime in [fromMs, toMs), with its levels, ascending;
   * equal (deep-equal CandleData, step 1, mode 'nearest', onGrid true) to what insertMinutes was given.
   *
   * Reads the candles, then the cells of every version in the range, and keeps the cells of each
   * candle's version. If a concurrent write and merge removed them in between, it reads again
   * (3 attempts), then throws: a stored candle without its cells is never returned.
   */
  async loadMinutes(exchange: string, symbol: string, fromMs: number, toMs: number): Promise<CandleData[]> {
    assertToken(exchange, 'exchange');
    assertToken(symbol, 'symbol');
    assertInt(fromMs, 0, Number.MAX_SAFE_INTEGER, 'fromMs');
    assertInt(toMs, 0, Number.MAX_SAFE_INTEGER, 'toMs');
    // openTime >= fromMs <=> minute (s) >= ceil(fromMs / 1000); likewise for the end
    const fromSec = Math.min(Math.max(Math.ceil(fromMs / 1000), MIN_SEC), MAX_SEC);
    const toSec = Math.min(Math.max(Math.ceil(toMs / 1000), MIN_SEC), MAX_SEC);
    if (fromSec >= toSec) return [];
    const where = `exchange = ${quoteString(exchange)} AND symbol = ${quoteString(symbol)} AND minute >= toDateTime(${fromSec}, 'UTC') AND minute < toDateTime(${toSec}, 'UTC')`;
    let problem = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const candleRows = await this
        .selectTsv(`SELECT m, v, c.1, c.2, c.3, c.4, c.5, c.6, c.7, c.8, c.9, c.10, c.11, c.12 FROM
(
    SELECT toUInt32(minute) AS m, max(version) AS v,
           argMax(tuple(open, high, low, close, buy_volume, sell_volume, buy_trades, sell_trades, max_delta, min_delta, first_time_us, last_time_us), version) AS c
    FROM ${this.db}.candles_1m
    WHERE ${where}
    GROUP BY minute
)
ORDER BY m`);
      if (candleRows.length === 0) return [];
      const cellRows = await this
        .selectTsv(`SELECT toUInt32(minute) AS m, version, price, any(buy_volume), any(sell_volume), any(buy_trades), any(sell_trades)
FROM ${this.db}.footprint_1m
WHERE ${where}
GROUP BY minute, version, price
ORDER BY m, version, price`);
      const levels = new Map<string, PriceLevel[]>();
      for (const f of cellRows) {
        const key = `${f[0]}/${f[1]}`;
        let list = levels.get(key);
        if (!list) levels.set(key, (list = []));
        list.push({
          price: tsvInt(f[2], 'cell price'),
          buyVolume: tsvInt(f[3], 'cell buy volume'),
          sellVolume: tsvInt(f[4], 'cell sell volume'),
          buyTrades: tsvInt(f[5], 'cell buy trades'),
          sellTrades: tsvInt(f[6], 'cell sell trades'),
        });
      }
      const out: CandleData[] = [];
      problem = '';
      for (const f of candleRows) {
        const buyVolume = tsvInt(f[6], 'candle buy volume');
        const sellVolume = tsvInt(f[7], 'candle sell volume');
        const c: CandleData = {
          timeframe: '1m',
          openTime: tsvInt(f[0], 'candle minute') * 1000,
          step: 1,
          mode: 'nearest',
          open: tsvInt(f[2], 'candle open'),
          high: tsvInt(f[3], 'candle high'),
          low: tsvInt(f[4], 'candle low'),
          close: tsvInt(f[5], 'candle close'),
          buyVolume,
          sellVolume,
          buyTrades: tsvInt(f[8], 'candle buy trades'),
          sellTrades: tsvInt(f[9], 'candle sell trades'),
          delta: buyVolume - sellVolume,
          maxDelta: tsvInt(f[10], 'candle max delta'),
          minDelta: tsvInt(f[11], 'candle min delta'),
          firstTimeUs: tsvInt(f[12], 'candle first time'),
          lastTimeUs: tsvInt(f[13], 'candle last time'),
          onGrid: true,
          levels: levels.get(`${f[0]}/${f[1]}`) ?? [],
        };
        const sums = c.levels.reduce(
          (a, l) => [a[0]! + l.buyVolume, a[1]! + l.sellVolume, a[2]! + l.buyTrades + l.sellTrades],
          [0, 0, 0],
        );
        if (sums[0] !== c.buyVolume || sums[1] !== c.sellVolume || sums[2] !== tsvInt(f[1], 'candle version')) {
          problem = `${exchange} ${symbol} minute ${clickHouseDateTime(c.openTime)} version ${f[1]}: its cells add up to buy ${sums[0]}, sell ${sums[1]}, ${sums[2]} trades, the candle says ${c.buyVolume}, ${c.sellVolume}, ${f[1]}`;
          break;
        }
        out.push(c);
      }
      if (problem === '') return out;
    }
    throw new Error(`stored 1m candle inconsistent with its footprint cells (after 3 reads): ${problem}`);
  }

  /**
   * Exchange time (µs) of the newest stored trade or 1m candle (its last trade) of the symbol, or
   * null when nothing is stored: where a restarted aggregator resumes. (Not in the original port
   * list; apps/aggregator's AggregatorStore asks for it.) Reads candles_1m first, then only the
   * trades of that hour or later (the hour is in trades' sorting key), so it stays cheap for a
   * long history.
   */
  async latestTimeUs(exchange: string, symbol: string): Promise<number | null> {
    assertToken(exchange, 'exchange');
    assertToken(symbol, 'symbol');
    const where = `exchange = ${quoteString(exchange)} AND symbol = ${quoteString(symbol)}`;
    const [c] = await this.selectTsv(`SELECT count(), max(last_time_us) FROM ${this.db}.candles_1m WHERE ${where}`);
    const candle = tsvInt(c?.[0], 'candles count') > 0 ? tsvInt(c?.[1], 'candle last time') : null;
    const fromHour = candle === null ? 0 : Math.floor(candle / HOUR_US);
    const [t] = await this.selectTsv(
      `SELECT count(), max(exchange_time_us) FROM ${this.db}.trades WHERE ${where} AND intDiv(exchange_time_us, ${HOUR_US}) >= ${fromHour}`,
    );
    const trade = tsvInt(t?.[0], 'trades count') > 0 ? tsvInt(t?.[1], 'trade time') : null;
    if (candle === null) return trade;
    return trade === null ? candle : Math.max(candle, trade);
  }

  /**
   * The daily (1d) footprint levels of a symbol for the sessions starting in [fromMs, toMs),
   * ascending by day and price, from the analyst view `footprint` (final rows whatever merges
   * have run). What the aggregator needs to know the prior sessions' POCs after a restart.
   */
  async loadDailyLevels(
    exchange: string,
    symbol: string,
    fromMs: number,
    toMs: number,
  ): Promise<{ dayMs: number; levels: PriceLevel[] }[]> {
    assertToken(exchange, 'exchange');
    assertToken(symbol, 'symbol');
    assertInt(fromMs, 0, MAX_TIME_US / 1000, 'fromMs');
    assertInt(toMs, 0, MAX_TIME_US / 1000, 'toMs');
    const rows = await this
      .selectTsv(`SELECT toUInt32(bucket), price, toString(buy_volume), toString(sell_volume), buy_trades, sell_trades
FROM ${this.db}.footprint
WHERE exchange = ${quoteString(exchange)} AND symbol = ${quoteString(symbol)} AND timeframe = '1d'
  AND bucket >= toDateTime(${Math.floor(fromMs / 1000)}) AND bucket < toDateTime(${Math.ceil(toMs / 1000)})
ORDER BY bucket, price
SETTINGS enable_optimize_predicate_expression = 1`);
    const out: { dayMs: number; levels: PriceLevel[] }[] = [];
    for (const f of rows) {
      const dayMs = tsvInt(f[0], 'day') * 1000;
      const level: PriceLevel = {
        price: tsvInt(f[1], 'price'),
        buyVolume: tsvInt(f[2], 'buy volume'),
        sellVolume: tsvInt(f[3], 'sell volume'),
        buyTrades: tsvInt(f[4], 'buy trades'),
        sellTrades: tsvInt(f[5], 'sell trades'),
      };
      const last = out[out.length - 1];
      if (last && last.dayMs === dayMs) last.levels.push(level);
      else out.push({ dayMs, levels: [level] });
    }
    return out;
  }

  /** The latest row of every instrument, ordered by exchange and symbol. */
  async loadInstruments(): Promise<InstrumentRow[]> {
    return (await this.instrumentsWithTime()).map((s) => s.row);
  }

  private async instrumentsWithTime(): Promise<{ row: InstrumentRow; updatedAtSec: number }[]> {
    const rows = await this.selectTsv(`SELECT exchange, symbol, i.1, i.2, i.3, toUInt32(i.4) FROM
(
    SELECT exchange, symbol, argMax(tuple(price_scale, quantity_scale, tick_units, updated_at), updated_at) AS i
    FROM ${this.db}.instruments
    GROUP BY exchange, symbol
)
ORDER BY exchange, symbol`);
    return rows.map((f) => ({
      row: {
        exchange: tsvUnescape(f[0]!),
        symbol: tsvUnescape(f[1]!),
        priceScale: tsvInt(f[2], 'price_scale'),
        quantityScale: tsvInt(f[3], 'quantity_scale'),
        tick: tsvInt(f[4], 'tick_units'),
      },
      updatedAtSec: tsvInt(f[5], 'updated_at'),
    }));
  }

  private async insertTsv(table: string, columns: string[], tsv: string): Promise<void> {
    await this.ch.insert({
      table: `${this.db}.${table}`,
      columns: columns as [string, ...string[]],
      format: 'TabSeparated',
      values: Readable.from([Buffer.from(tsv, 'utf8')], { objectMode: false }),
    });
  }

  private async selectTsv(query: string): Promise<string[][]> {
    return parseTsv(await (await this.ch.query({ query, format: 'TabSeparated' })).text());
  }
}

/** The minutes (epoch minutes) a closed µs range touches, at most MAX_GAP_MINUTES (first and last halves beyond). */
export function gapMinutes(fromUs: number, toUs: number): number[] {
  const first = Math.floor(fromUs / MINUTE_US);
  const last = Math.floor(toUs / MINUTE_US);
  const count = last - first + 1;
  if (count <= MAX_GAP_MINUTES) return Array.from({ length: count }, (_, i) => first + i);
  const half = MAX_GAP_MINUTES / 2;
  return [
    ...Array.from({ length: half }, (_, i) => first + i),
    ...Array.from({ length: half }, (_, i) => last - half + 1 + i),
  ];
}

/**
 * Checks a 1m candle for the store and returns its notional (sum over its levels of price *
 * volume, exact: at native ticks a level's price is its trades' price). Refuses what would not
 * round-trip or would not fit the columns.
 */
/**
 * A minute's footprint ready to serve, as footprint_1m_wire keeps it (migration 0006): its cells as
 * JSON, `[[price,buy_volume,sell_volume,buy_trades,sell_trades],...]` ascending by price (the levels
 * are, checkMinute), and its POC and value area at native ticks (the engine's). Null for a minute
 * without volume (no POC): it is read from footprint_1m.
 */
export function minuteWire(c: CandleData): MinuteWire | null {
  const levels = c.levels as readonly PriceLevel[];
  if (levels.length === 0) return null;
  // the levels laid out densely at the native step (what buildProfile does), in a typed array: this
  // runs for every write of a minute, the open one every flush
  const low = levels[0]!.price;
  const count = levels[levels.length - 1]!.price - low + 1;
  if (count > MAX_PROFILE_LEVELS) return null;
  const dense = new Float64Array(count);
  let total = 0;
  let json = '[';
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    dense[l.price - low] = l.buyVolume + l.sellVolume;
    total += l.buyVolume + l.sellVolume;
    json += `${i > 0 ? ',' : ''}[${l.price},${l.buyVolume},${l.sellVolume},${l.buyTrades},${l.sellTrades}]`;
  }
  const va = valueAreaIndices(dense, count, total);
  if (va === null) return null;
  return { cellsJson: `${json}]`, poc: low + va.poc, vah: low + va.high, val: low + va.low };
}

function checkMinute(c: CandleData, what: string): bigint {
  if (c === null || typeof c !== 'object') throw new Error(`${what}: not a candle`);
  if (c.timeframe !== '1m') throw new Error(`${what}: footprint_1m takes 1m candles, got ${String(c.timeframe)}`);
  if (c.step !== 1 || c.mode !== 'nearest' || c.onGrid !== true) {
    throw new Error(
      `${what}: the store keeps native-tick levels (step 1, mode 'nearest', onGrid), got step ${c.step}, mode ${c.mode}, onGrid ${c.onGrid}: write candles before grouping`,
    );
  }
  assertInt(c.openTime, MIN_SEC * 1000, MAX_SEC * 1000 - 60_000, `${what}: openTime`);
  if (c.openTime % 60_000 !== 0) throw new Error(`${what}: openTime ${c.openTime} is not the start of a minute`);
  for (const k of ['buyVolume', 'sellVolume'] as const) assertInt(c[k], 0, Number.MAX_SAFE_INTEGER, `${what}: ${k}`);
  for (const k of ['buyTrades', 'sellTrades'] as const) assertInt(c[k], 0, UINT32_MAX, `${what}: ${k}`);
  for (const k of ['open', 'high', 'low', 'close'] as const)
    assertInt(c[k], 1, Number.MAX_SAFE_INTEGER, `${what}: ${k}`);
  for (const k of ['delta', 'maxDelta', 'minDelta'] as const)
    assertInt(c[k], -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, `${what}: ${k}`);
  if (c.buyTrades + c.sellTrades === 0) throw new Error(`${what}: an empty candle (no trades) is not stored`);
  if (c.delta !== c.buyVolume - c.sellVolume)
    throw new Error(`${what}: delta ${c.delta} is not buyVolume - sellVolume`);
  if (!(c.minDelta <= c.delta && c.delta <= c.maxDelta))
    throw new Error(`${what}: delta ${c.delta} is outside [minDelta ${c.minDelta}, maxDelta ${c.maxDelta}]`);
  const startUs = c.openTime * 1000;
  assertInt(c.firstTimeUs, startUs, startUs + MINUTE_US - 1, `${what}: firstTimeUs`);
  // the times of the open and the close trade: both in the minute (not ordered: a close can be older than the open)
  assertInt(c.lastTimeUs, startUs, startUs + MINUTE_US - 1, `${what}: lastTimeUs`);
  if (!Array.isArray(c.levels) || c.levels.length === 0) throw new Error(`${what}: no levels`);
  let buy = 0;
  let sell = 0;
  let buyTrades = 0;
  let sellTrades = 0;
  let notional = 0n;
  let prev = 0;
  const prices = new Set<number>();
  for (const l of c.levels) {
    assertInt(l.price, 1, Number.MAX_SAFE_INTEGER, `${what}: level price`);
    if (l.price <= prev)
      throw new Error(`${what}: levels must be ascending by price without repeats (${l.price} after ${prev})`);
    prev = l.price;
    prices.add(l.price);
    assertInt(l.buyVolume, 0, Number.MAX_SAFE_INTEGER, `${what}: buy volume at ${l.price}`);
    assertInt(l.sellVolume, 0, Number.MAX_SAFE_INTEGER, `${what}: sell volume at ${l.price}`);
    assertInt(l.buyTrades, 0, UINT32_MAX, `${what}: buy trades at ${l.price}`);
    assertInt(l.sellTrades, 0, UINT32_MAX, `${what}: sell trades at ${l.price}`);
    if (
      l.buyVolume > 0 !== l.buyTrades > 0 ||
      l.sellVolume > 0 !== l.sellTrades > 0 ||
      l.buyTrades + l.sellTrades === 0
    ) {
      throw new Error(`${what}: level ${l.price} has volume without trades or trades without volume`);
    }
    buy += l.buyVolume;
    sell += l.sellVolume;
    buyTrades += l.buyTrades;
    sellTrades += l.sellTrades;
    notional += BigInt(l.price) * BigInt(l.buyVolume + l.sellVolume);
  }
  if (buy !== c.buyVolume || sell !== c.sellVolume || buyTrades !== c.buyTrades || sellTrades !== c.sellTrades) {
    throw new Error(
      `${what}: its levels add up to buy ${buy} (${buyTrades} trades), sell ${sell} (${sellTrades} trades), the candle says ${c.buyVolume} (${c.buyTrades}), ${c.sellVolume} (${c.sellTrades})`,
    );
  }
  if (
    c.low !== c.levels[0]!.price ||
    c.high !== c.levels[c.levels.length - 1]!.price ||
    !prices.has(c.open) ||
    !prices.has(c.close)
  ) {
    throw new Error(
      `${what}: open/high/low/close (${c.open}/${c.high}/${c.low}/${c.close}) are not its levels' prices (${c.levels[0]!.price}..${prev})`,
    );
  }
  if (notional >= UINT64_LIMIT) {
    throw new Error(
      `${what}: notional ${notional} (price units * quantity units) does not fit candles_1m.notional (UInt64, < 2^64)`,
    );
  }
  return notional;
}

function assertInt(v: unknown, min: number, max: number, what: string): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    throw new Error(`${what} must be an integer in ${min}..${max}, got ${String(v)}`);
}

function assertId(id: unknown, what: string): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH)
    throw new Error(`${what} must be a string of 1-${MAX_ID_LENGTH} characters`);
}

function describeId(id: unknown): string {
  return typeof id === 'string' ? JSON.stringify(id.slice(0, 40)) : String(id);
}

/** Throws an error naming the first problem of a gap event (what insertGaps would refuse). */
export function assertGapEvent(g: GapEvent): void {
  if (typeof g !== 'object' || g === null) throw new Error('a gap event must be an object');
  assertToken(g.exchange, 'exchange');
  assertToken(g.symbol, 'symbol');
  const what = `gap ${describeId(g.fromId)}..${describeId(g.toId)} of ${g.exchange} ${g.symbol}`;
  assertId(g.fromId, `fromId of ${what}`);
  assertId(g.toId, `toId of ${what}`);
  assertInt(g.missing, 0, Number.MAX_SAFE_INTEGER, `missing of ${what}`);
  assertInt(g.detectedAtMs, 0, Number.MAX_SAFE_INTEGER, `detectedAtMs of ${what}`);
  if (!GAP_STATUSES.includes(g.status))
    throw new Error(`status of ${what} must be one of ${GAP_STATUSES.join(', ')}, got ${JSON.stringify(g.status)}`);
  if (typeof g.reason !== 'string') throw new Error(`reason of ${what} must be a string`);
  const from = g.fromTimeUs;
  const to = g.toTimeUs;
  if (from !== undefined) assertInt(from, MIN_TIME_US, MAX_TIME_US - 1, `fromTimeUs of ${what}`);
  if (to !== undefined) assertInt(to, MIN_TIME_US, MAX_TIME_US - 1, `toTimeUs of ${what}`);
  if (from !== undefined && to !== undefined && from > to)
    throw new Error(`${what}: fromTimeUs ${from} is after toTimeUs ${to}`);
}
