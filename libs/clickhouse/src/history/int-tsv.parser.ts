/**
 * TabSeparated rows of integers straight from the response bytes (pure). A day of 1m footprints
 * is ~10^5-10^6 cells: splitting each line into strings and testing each field with a regular
 * expression costs several times what ClickHouse takes to produce them, so the digits are read
 * off the buffer instead, exactly (a field beyond 2^53 - 1 is refused, never rounded).
 */
export class IntTsvError extends Error {
  override readonly name: string = 'IntTsvError';
}

const TAB = 9;
const NL = 10;
const MINUS = 45;

export class IntTsvParser {
  private carry: Buffer | null = null;
  rows = 0;

  constructor(private readonly columns: number) {
    if (!Number.isInteger(columns) || columns < 1) throw new Error('columns must be a positive integer');
  }

  /** Calls onRow for every complete line; a partial last line waits for the next chunk. */
  push(chunk: Buffer, onRow: (row: number[]) => void): void {
    let buf = chunk;
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(NL, start);
      if (nl < 0) {
        if (start < buf.length) this.carry = Buffer.from(buf.subarray(start));
        return;
      }
      onRow(this.line(buf, start, nl));
      this.rows++;
      start = nl + 1;
    }
  }

  /** The response ended: a line without its newline means the body was cut. */
  end(): void {
    if (this.carry !== null && this.carry.length > 0)
      throw new IntTsvError(
        `the result ends inside a row: ${JSON.stringify(this.carry.toString('utf8', 0, Math.min(300, this.carry.length)))}`,
      );
  }

  private line(buf: Buffer, start: number, end: number): number[] {
    const row = new Array<number>(this.columns);
    let i = start;
    for (let col = 0; col < this.columns; col++) {
      const fieldStart = i;
      let neg = false;
      if (buf[i] === MINUS) {
        neg = true;
        i++;
      }
      let v = 0;
      let digits = 0;
      while (i < end) {
        const c = buf[i]! - 48;
        if (c < 0 || c > 9) break;
        v = v * 10 + c;
        digits++;
        i++;
      }
      if (digits === 0) throw this.bad(buf, start, end, col, 'an integer');
      if (digits >= 16) assertSafeField(buf, fieldStart, i, col);
      row[col] = neg ? -v : v;
      if (col < this.columns - 1) {
        if (buf[i] !== TAB) throw this.bad(buf, start, end, col, 'a tab after it');
        i++;
      } else if (i !== end) throw this.bad(buf, start, end, col, `${this.columns} columns`);
    }
    return row;
  }

  private bad(buf: Buffer, start: number, end: number, col: number, expected: string): IntTsvError {
    return rowError(buf, start, end, col, expected);
  }
}

/** Past 15 digits a double may have rounded: the field buf[start, end) checked against its exact value. */
export function assertSafeField(buf: Buffer, start: number, end: number, col: number): void {
  const exact = BigInt(buf.toString('latin1', start, end));
  if (exact > BigInt(Number.MAX_SAFE_INTEGER) || exact < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new IntTsvError(`column ${col + 1}: ${exact} is beyond 2^53 - 1 units (use a coarser range or grouping)`);
  }
}

/**
 * The error for a row buf[start, end) that is not what was expected: ClickHouse's own error text when it is one (a
 * failure mid-stream arrives in the body).
 */
export function rowError(buf: Buffer, start: number, end: number, col: number, expected: string): IntTsvError {
  const text = buf.toString('utf8', start, Math.min(end, start + 500));
  if (/^Code: \d+/.test(text) || text.includes('DB::Exception')) return new IntTsvError(`ClickHouse: ${text}`);
  return new IntTsvError(`column ${col + 1}: expected ${expected}, got the row ${JSON.stringify(text.slice(0, 200))}`);
}
