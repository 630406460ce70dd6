/**
 * The ids an archive import has read, as runs of consecutive ids, and the holes between them.
 *
 * Binance aggregate trade ids are consecutive per symbol (each aggregate trade takes the next id,
 * https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints),
 * so an id missing between the first and the last one read is a trade the import does not have.
 * The runs are kept in reading order and merged at the end, so files given in any order, overlapping
 * files and repeated lines still give the holes of their union. Ids before the first or after the
 * last one read are not holes: nothing in the files says where the history starts or ends.
 */

export interface IdHole {
  /** First and last missing id (inclusive). */
  fromId: number;
  toId: number;
  missing: number;
  /** Exchange times (µs) of the trades on either side of the hole: the missing trades happened between them. */
  fromTimeUs: number;
  toTimeUs: number;
}

interface Run {
  firstId: number;
  firstTimeUs: number;
  lastId: number;
  lastTimeUs: number;
}

/** Runs kept before they are merged in place: bounds the memory of a file in no particular order. */
const COMPACT_AT = 65_536;

export class IdCoverage {
  private runs: Run[] = [];
  private compactAt = COMPACT_AT;

  /** Records a trade id (a non-negative safe integer) and its exchange time (µs). */
  add(id: number, timeUs: number): void {
    if (!Number.isSafeInteger(id) || id < 0) throw new Error(`trade id must be a non-negative safe integer, got ${id}`);
    const cur = this.runs.at(-1);
    if (cur !== undefined) {
      if (id === cur.lastId + 1) {
        cur.lastId = id;
        cur.lastTimeUs = timeUs;
        return;
      }
      if (id >= cur.firstId && id <= cur.lastId) return; // a repeat inside the current run
    }
    this.runs.push({ firstId: id, firstTimeUs: timeUs, lastId: id, lastTimeUs: timeUs });
    if (this.runs.length >= this.compactAt) {
      this.runs = merge(this.runs);
      // still many runs after merging: the ids really are that scattered; let the list grow
      if (this.runs.length >= this.compactAt / 2) this.compactAt *= 2;
    }
  }

  /** The holes between the lowest and the highest id recorded, in id order. */
  holes(): IdHole[] {
    const merged = merge(this.runs);
    const out: IdHole[] = [];
    for (let i = 1; i < merged.length; i++) {
      const before = merged[i - 1]!;
      const after = merged[i]!;
      // exchange times order the trades; should a file disagree, the range still covers both
      const fromTimeUs = Math.min(before.lastTimeUs, after.firstTimeUs);
      const toTimeUs = Math.max(before.lastTimeUs, after.firstTimeUs);
      out.push({
        fromId: before.lastId + 1,
        toId: after.firstId - 1,
        missing: after.firstId - before.lastId - 1,
        fromTimeUs,
        toTimeUs,
      });
    }
    return out;
  }
}

/** Runs sorted by first id, overlapping and adjacent ones joined. */
function merge(runs: readonly Run[]): Run[] {
  const sorted = [...runs].sort((a, b) => a.firstId - b.firstId);
  const out: Run[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last !== undefined && r.firstId <= last.lastId + 1) {
      if (r.lastId > last.lastId) {
        last.lastId = r.lastId;
        last.lastTimeUs = r.lastTimeUs;
      }
    } else {
      out.push({ ...r });
    }
  }
  return out;
}
