import type { GroupedChange } from './grouped-view.js';

/**
 * A connection's conflation buffer (pure): what changed per (subscription, candle) since its last
 * flush, never a queue of messages. Each entry remembers which cells changed; the values are read
 * from the shared view when the entry is sent, so a slow connection gets the latest state of each
 * candle and its memory is bounded by the candles it follows, not by the update rate.
 */
export interface PendingCandle {
  openTime: number;
  /** The changes merged into this entry (references to the view's change objects). */
  changes: GroupedChange[];
  replace: boolean;
}

export class Outbox<S> {
  private readonly pending = new Map<S, Map<number, PendingCandle>>();
  private entries = 0;
  /** Changes merged into an entry that was already waiting: updates the connection never saw one by one. */
  conflated = 0;

  get size(): number {
    return this.entries;
  }

  add(sub: S, change: GroupedChange): void {
    let bySub = this.pending.get(sub);
    if (!bySub) this.pending.set(sub, (bySub = new Map()));
    const p = bySub.get(change.openTime);
    if (p === undefined) {
      bySub.set(change.openTime, { openTime: change.openTime, changes: [change], replace: change.replace });
      this.entries++;
      return;
    }
    this.conflated++;
    if (change.replace || p.replace) {
      // every cell of the candle goes out anyway: only the latest change's timing matters
      p.replace = true;
      p.changes = [change];
    } else {
      p.changes.push(change);
      // bounded: a long list becomes one change holding the union of its prices
      if (p.changes.length > 32) p.changes = [unionChange(p.changes)];
    }
  }

  /** Forgets a subscription's entries (unsubscribed). */
  drop(sub: S): void {
    const bySub = this.pending.get(sub);
    if (!bySub) return;
    this.entries -= bySub.size;
    this.pending.delete(sub);
  }

  /** Everything waiting, by subscription, candles ascending; the outbox is empty afterwards. */
  take(): [S, PendingCandle[]][] {
    const out: [S, PendingCandle[]][] = [];
    for (const [sub, bySub] of this.pending)
      out.push([sub, [...bySub.values()].sort((a, b) => a.openTime - b.openTime)]);
    this.pending.clear();
    this.entries = 0;
    return out;
  }
}

/** Prices changed by any of the changes, ascending, without repeats. */
export function changedPrices(changes: readonly GroupedChange[]): number[] {
  if (changes.length === 1) return changes[0]!.prices;
  const s = new Set<number>();
  for (const c of changes) for (const p of c.prices) s.add(p);
  return [...s].sort((a, b) => a - b);
}

function unionChange(changes: readonly GroupedChange[]): GroupedChange {
  const last = changes[changes.length - 1]!;
  return { ...last, prices: changedPrices(changes), replace: false };
}
