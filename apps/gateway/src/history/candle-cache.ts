import { cellCount } from '@orderflow/candle-views';
import type { WireFootprintCandle } from '@orderflow/contracts';

/**
 * Footprint candles read from ClickHouse, kept by (view, timeframe, grouping, open time) with the
 * trade count they were built from, least recently used first out, within a byte budget
 * (GATEWAY_HISTORY_CACHE_MB).
 *
 * Why the trade count is a version: a candle's cells are a function of the set of its trades, and
 * that set only grows (the aggregator deduplicates and never removes a trade; a restart rewrites
 * the same state). So a candle whose stored summary still counts the trades the cached cells were
 * built from is exactly the cached candle, and one with another count is read again. A candle
 * whose cells did not add up to its summary's count (a write landing between the two reads) is
 * never cached.
 *
 * Recency is a doubly linked list (least recently used at `head`): evicting is O(1). Scanning the
 * Map from its start for the oldest entry is not: V8 leaves a deleted entry's slot in place until
 * the table is rebuilt, and every scan steps over them again (a cold day's read of 1,440 candles
 * into a full cache spent ~70 ms there).
 */
export interface CachedCandle {
  key: string;
  prefix: string;
  trades: number;
  candle: WireFootprintCandle;
  bytes: number;
  older: CachedCandle | null;
  newer: CachedCandle | null;
}

export class CandleCache {
  private readonly entries = new Map<string, CachedCandle>();
  /** Least and most recently used. */
  private head: CachedCandle | null = null;
  private tail: CachedCandle | null = null;
  /** Entries per view prefix: a view with none is read whole, its queries in parallel. */
  private readonly perPrefix = new Map<string, number>();
  private size = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.size;
  }

  get count(): number {
    return this.entries.size;
  }

  /** Whether anything of this view (prefix) is cached. */
  holds(prefix: string): boolean {
    return (this.perPrefix.get(prefix) ?? 0) > 0;
  }

  /** The cached candle if it was built from exactly `trades` trades (and marks it recently used). */
  get(prefix: string, openTime: number, trades: number): WireFootprintCandle | null {
    const key = `${prefix}${openTime}`;
    const e = this.entries.get(key);
    if (e === undefined || e.trades !== trades) {
      this.misses++;
      return null;
    }
    this.unlink(e);
    this.append(e);
    this.hits++;
    return e.candle;
  }

  set(prefix: string, trades: number, candle: WireFootprintCandle): void {
    if (this.maxBytes === 0) return;
    const key = `${prefix}${candle.openTime}`;
    const old = this.entries.get(key);
    if (old !== undefined) this.remove(old);
    const bytes = estimateBytes(candle);
    if (bytes > this.maxBytes) return;
    const e: CachedCandle = { key, prefix, trades, candle, bytes, older: null, newer: null };
    this.entries.set(key, e);
    this.append(e);
    this.perPrefix.set(prefix, (this.perPrefix.get(prefix) ?? 0) + 1);
    this.size += bytes;
    while (this.size > this.maxBytes && this.head !== null) this.remove(this.head);
  }

  private append(e: CachedCandle): void {
    e.older = this.tail;
    e.newer = null;
    if (this.tail === null) this.head = e;
    else this.tail.newer = e;
    this.tail = e;
  }

  private unlink(e: CachedCandle): void {
    if (e.older === null) this.head = e.newer;
    else e.older.newer = e.newer;
    if (e.newer === null) this.tail = e.older;
    else e.newer.older = e.older;
    e.older = e.newer = null;
  }

  private remove(e: CachedCandle): void {
    this.entries.delete(e.key);
    this.unlink(e);
    this.size -= e.bytes;
    const n = (this.perPrefix.get(e.prefix) ?? 1) - 1;
    if (n > 0) this.perPrefix.set(e.prefix, n);
    else this.perPrefix.delete(e.prefix);
  }

  clear(): void {
    this.entries.clear();
    this.head = this.tail = null;
    this.perPrefix.clear();
    this.size = 0;
  }
}

/** Heap held by a cached candle and its JSON, roughly: a cell array is ~80 bytes and ~35 of text. */
export function estimateBytes(c: WireFootprintCandle): number {
  return 600 + cellCount(c) * 115;
}
