import { FootprintError, MAX_PROFILE_LEVELS, valueAreaIndices } from '@orderflow/footprint';
import { IntTsvError, assertSafeField, rowError } from './int-tsv.parser.js';

/**
 * Footprint cell rows, as ClickHouse sends them (TabSeparated `bucket_seconds, price, buy_volume,
 * sell_volume, buy_trades, sell_trades`, ordered by bucket then price), made into candles in one
 * pass over the bytes (pure).
 *
 * Why: a day of 1m footprints at native ticks is ~10^5-10^6 cells. Parsing each into a
 * `[price, buy, sell, bt, st]` array and serialising the arrays again with JSON.stringify cost the
 * gateway more than ClickHouse took to produce them. Here the digits of each cell are copied
 * straight into the candle's `cells` JSON text while they are read, and only the numbers the
 * candle needs (its totals, and the price and volume of each level for the POC and value area)
 * are kept, in reused typed arrays. The text is exactly what JSON.stringify gives for the cells:
 * every field is checked to be a canonical integer (no leading zero, no `-0`, within 2^53 - 1), so
 * the copied digits are the digits JSON.stringify would print.
 *
 * Rows out of order (a bucket before the previous one, or a price not above the previous one in
 * the same bucket) throw CellOrderError: the reader asked the server for its natural order and must
 * ask again with ORDER BY.
 */
export interface TranscodedCandle {
  /** Bucket start, seconds since the epoch. */
  bucket: number;
  /** `[[price,buy,sell,buyTrades,sellTrades],...]`, ascending by price: JSON.stringify of the cells. */
  cellsJson: string;
  cells: number;
  buyVolume: number;
  sellVolume: number;
  buyTrades: number;
  sellTrades: number;
  /**
   * Point of control and 70 % value area at the grouping step (libs/footprint valueAreaIndices); null when the candle
   * has no volume.
   */
  poc: number | null;
  vah: number | null;
  val: number | null;
}

export class CellOrderError extends IntTsvError {
  override readonly name = 'CellOrderError';
}

const TAB = 9;
const NL = 10;
const MINUS = 45;
const COMMA = 44;
const OPEN = 91;
const CLOSE = 93;
const ZERO = 48;
const NINE = 57;
const COLUMNS = 6;

export class CellTranscoder {
  private carry: Buffer | null = null;
  private out = Buffer.allocUnsafe(1 << 16);
  private pos = 0;
  private prices: Float64Array = new Float64Array(1024);
  private volumes: Float64Array = new Float64Array(1024);
  private dense: Float64Array = new Float64Array(1024);
  private readonly vals = new Float64Array(6);
  private n = 0;
  private bucket = -1;
  private lastPrice = 0;
  private buy = 0;
  private sell = 0;
  private bt = 0;
  private st = 0;
  /** Rows read so far. */
  rows = 0;
  /** Candles handed on so far. */
  candles = 0;

  constructor(
    private readonly step: number,
    private readonly onCandle: (c: TranscodedCandle) => void,
  ) {
    if (!Number.isSafeInteger(step) || step < 1)
      throw new Error(`step must be a positive safe integer, got ${String(step)}`);
  }

  /** Reads every complete line of the chunk; a partial last line waits for the next chunk. */
  push(chunk: Buffer): void {
    let start = 0;
    if (this.carry !== null) {
      // only the line that straddles the chunks is joined (copying whole chunks costs more than reading them)
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        this.carry = Buffer.concat([this.carry, chunk]);
        return;
      }
      const line = Buffer.concat([this.carry, chunk.subarray(0, nl + 1)]);
      this.carry = null;
      this.line(line, 0, line.length - 1);
      this.rows++;
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(NL);
    if (last < start) {
      if (start < chunk.length) this.carry = Buffer.from(chunk.subarray(start));
      return;
    }
    while (start <= last) {
      start = this.line(chunk, start, -1) + 1;
      this.rows++;
    }
    if (last + 1 < chunk.length) this.carry = Buffer.from(chunk.subarray(last + 1));
  }

  /** The response ended: hands on the last candle. A line without its newline means the body was cut. */
  end(): void {
    if (this.carry !== null && this.carry.length > 0)
      throw new IntTsvError(
        `the result ends inside a row: ${JSON.stringify(this.carry.toString('utf8', 0, Math.min(300, this.carry.length)))}`,
      );
    if (this.n > 0) this.finish();
  }

  /**
   * Reads the line at `start` (ending at `end`, or when -1 at the next newline; one is known to follow) and returns the
   * index of its end.
   */
  private line(buf: Buffer, start: number, end: number): number {
    let i = start;
    let bucket = 0;
    // bucket: an unsigned integer, not copied
    let c = buf[i]! - ZERO;
    while (c >= 0 && c <= 9) {
      bucket = bucket * 10 + c;
      c = buf[++i]! - ZERO;
    }
    if (i === start || i - start > 10 || buf[i] !== TAB)
      throw rowError(buf, start, lineEnd(buf, start, end), 0, 'a bucket (seconds) and a tab');
    i++;
    if (bucket !== this.bucket) {
      if (bucket < this.bucket)
        throw new CellOrderError(`bucket ${bucket} after bucket ${this.bucket}: rows are not ordered by bucket`);
      if (this.n > 0) this.finish();
      this.bucket = bucket;
    }
    // room for the five fields and their punctuation: a row is at most ~110 bytes, or the line's length
    const room = end < 0 ? 128 : end - start + 8;
    if (this.pos + room > this.out.length) this.grow(room);
    const out = this.out;
    const vals = this.vals;
    let o = this.pos;
    out[o++] = this.n === 0 ? OPEN : COMMA;
    out[o++] = OPEN;
    for (let col = 1; col < COLUMNS; col++) {
      const fieldStart = i;
      let neg = false;
      if (buf[i] === MINUS) {
        if (col !== 1) throw rowError(buf, start, lineEnd(buf, start, end), col, 'a count or volume (unsigned)');
        neg = true;
        out[o++] = MINUS;
        i++;
      }
      const first = i;
      let v = 0;
      let b = buf[i]!;
      while (b >= ZERO && b <= NINE) {
        v = v * 10 + (b - ZERO);
        out[o++] = b;
        b = buf[++i]!;
      }
      const len = i - first;
      // canonical, as JSON.stringify prints it: no leading zero, no -0; at most 2^53 - 1
      if (len === 0 || len > 20) throw rowError(buf, start, lineEnd(buf, start, end), col, 'an integer');
      if (buf[first] === ZERO && (len > 1 || neg))
        throw rowError(buf, start, lineEnd(buf, start, end), col, 'an integer without leading zeros');
      if (len >= 16) assertSafeField(buf, fieldStart, i, col);
      vals[col] = neg ? -v : v;
      if (col < COLUMNS - 1) {
        if (b !== TAB) throw rowError(buf, start, lineEnd(buf, start, end), col, 'a tab after it');
        out[o++] = COMMA;
        i++;
      } else if (b !== NL && i !== end) throw rowError(buf, start, lineEnd(buf, start, end), col, `${COLUMNS} columns`);
    }
    out[o++] = CLOSE;
    const price = vals[1]!;
    if (this.n > 0 && price <= this.lastPrice)
      throw new CellOrderError(
        `price ${price} after ${this.lastPrice} in bucket ${bucket}: rows are not ordered by price`,
      );
    if (this.n === this.prices.length) {
      this.prices = grown(this.prices, this.n * 2);
      this.volumes = grown(this.volumes, this.n * 2);
    }
    this.prices[this.n] = price;
    this.volumes[this.n] = vals[2]! + vals[3]!;
    this.n++;
    this.lastPrice = price;
    this.buy += vals[2]!;
    this.sell += vals[3]!;
    this.bt += vals[4]!;
    this.st += vals[5]!;
    this.pos = o;
    return i;
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.pos + need));
    this.out.copy(next, 0, 0, this.pos);
    this.out = next;
  }

  private finish(): void {
    this.out[this.pos++] = CLOSE;
    const cellsJson = this.out.toString('latin1', 0, this.pos);
    const buy = this.buy;
    const sell = this.sell;
    if (buy + sell > Number.MAX_SAFE_INTEGER)
      throw new IntTsvError(`bucket ${this.bucket}: volume beyond 2^53 - 1 units (use a coarser range or grouping)`);
    const m = this.metrics(buy + sell);
    this.onCandle({
      bucket: this.bucket,
      cellsJson,
      cells: this.n,
      buyVolume: buy,
      sellVolume: sell,
      buyTrades: this.bt,
      sellTrades: this.st,
      poc: m === null ? null : m[0],
      vah: m === null ? null : m[1],
      val: m === null ? null : m[2],
    });
    this.candles++;
    this.pos = 0;
    this.n = 0;
    this.buy = 0;
    this.sell = 0;
    this.bt = 0;
    this.st = 0;
  }

  /**
   * [poc, vah, val] of the candle's levels laid out densely at the step (what buildProfile does), or null without
   * volume.
   */
  private metrics(total: number): [number, number, number] | null {
    const step = this.step;
    const low = this.prices[0]!;
    const span = this.prices[this.n - 1]! - low;
    if (span % step !== 0)
      throw new IntTsvError(`bucket ${this.bucket}: prices are not multiples of the grouping step ${step} apart`);
    const count = span / step + 1;
    if (count > MAX_PROFILE_LEVELS)
      throw new FootprintError(
        'INVALID_ARGUMENT',
        `profile would have ${count} levels (over ${MAX_PROFILE_LEVELS}): group by more ticks`,
      );
    if (this.dense.length < count) this.dense = new Float64Array(Math.max(count, this.dense.length * 2));
    const dense = this.dense;
    dense.fill(0, 0, count);
    for (let k = 0; k < this.n; k++) {
      const d = (this.prices[k]! - low) / step;
      if (!Number.isInteger(d))
        throw new IntTsvError(`bucket ${this.bucket}: price ${this.prices[k]} is off the grouping step ${step}`);
      dense[d] = this.volumes[k]!;
    }
    const va = valueAreaIndices(dense, count, total);
    return va === null ? null : [low + va.poc * step, low + va.high * step, low + va.low * step];
  }
}

/** Where the line at `start` ends (for an error message). */
function lineEnd(buf: Buffer, start: number, end: number): number {
  if (end >= 0) return end;
  const nl = buf.indexOf(NL, start);
  return nl < 0 ? buf.length : nl;
}

function grown(a: Float64Array, size: number): Float64Array {
  const next = new Float64Array(size);
  next.set(a);
  return next;
}
