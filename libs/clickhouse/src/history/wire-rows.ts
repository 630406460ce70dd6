import { intField } from './stored-candle.js';

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
    const row: WireRow = {
      version: intField(f, 1, 'version'),
      poc: intField(f, 2, 'poc'),
      vah: intField(f, 3, 'vah'),
      val: intField(f, 4, 'val'),
      cells: b.subarray(q, to),
    };
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
