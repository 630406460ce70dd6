/**
 * The engine's side of the oracle properties: the same trades fed to libs/footprint. Only specs
 * import this folder; the oracles themselves never do (independence.spec.ts).
 */
import { FootprintCandle, type GroupingMode } from '@orderflow/footprint';
import type { RefTrade } from '../candles.js';

/** 1m engine candles of trades (in trade order) at `step` price units, non-empty ones ascending. */
export function engineMinutes(
  trades: readonly RefTrade[],
  step = 1,
  mode: GroupingMode = 'nearest',
): FootprintCandle[] {
  const byMinute = new Map<number, FootprintCandle>();
  for (const t of trades) {
    const us = Number(t.timeUs);
    const m = Math.floor(us / 60_000_000) * 60_000;
    let c = byMinute.get(m);
    if (!c) byMinute.set(m, (c = new FootprintCandle('1m', m, step, mode)));
    c.add(Number(t.price), Number(t.quantity), t.side, us);
  }
  return [...byMinute.values()].sort((a, b) => a.openTime - b.openTime);
}
