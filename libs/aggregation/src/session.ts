/**
 * The session (UTC day) metrics of a symbol: POC, value area, VWAP from the exact notional, CVD,
 * and the naked POCs of earlier sessions.
 */
import { FootprintCandle, type PriceLevel, buildProfile, profileMetrics } from '@orderflow/footprint';
import { type InstrumentScales, type SessionSummary, sessionVwap } from '@orderflow/contracts';
import { DAY_MS } from './candles.js';

function rangeOf(levels: readonly PriceLevel[]): { low: number; high: number } {
  let low = Infinity;
  let high = -Infinity;
  for (const l of levels) {
    if (l.price < low) low = l.price;
    if (l.price > high) high = l.price;
  }
  return { low, high };
}

/** The POC of a session's levels (native ticks) grouped to `step`, by the engine's rules (profileMetrics). */
export function pocOf(levels: readonly PriceLevel[], step: number): number | null {
  if (levels.length === 0) return null;
  const c = FootprintCandle.fromData({
    timeframe: '1d',
    openTime: 0,
    step: 1,
    mode: 'nearest',
    open: 0,
    high: 0,
    low: 0,
    close: 0,
    buyVolume: 0,
    sellVolume: 0,
    buyTrades: 0,
    sellTrades: 0,
    delta: 0,
    maxDelta: 0,
    minDelta: 0,
    firstTimeUs: 0,
    lastTimeUs: 0,
    onGrid: true,
    levels: [...levels].sort((a, b) => a.price - b.price),
  });
  return profileMetrics(buildProfile([c], { step })).poc;
}

export interface NakedPoc {
  sessionStartMs: number;
  price: number;
}

/** POCs of earlier sessions not traded through since, oldest first (at most 64 kept as sessions close). */
export class NakedPocs {
  private list: NakedPoc[] = [];

  get size(): number {
    return this.list.length;
  }

  /** After a restart: each earlier session's POC is naked unless a later session's range covers it. */
  restore(priorDays: readonly { dayMs: number; levels: readonly PriceLevel[] }[], step: number): void {
    const days = [...priorDays].filter((d) => d.levels.length > 0).sort((a, b) => a.dayMs - b.dayMs);
    for (const [i, d] of days.entries()) {
      const poc = pocOf(d.levels, step);
      if (poc === null) continue;
      if (
        days.slice(i + 1).some((later) => {
          const r = rangeOf(later.levels);
          return r.low <= poc && poc <= r.high;
        })
      )
        continue;
      this.list.push({ sessionStartMs: d.dayMs, price: poc });
    }
  }

  /** The session starting at `dayMs` ended with candle `day`: its POC is naked until a later trade reaches it. */
  closed(dayMs: number, day: FootprintCandle | null, step: number): void {
    if (day === null || day.isEmpty) return;
    const poc = pocOf(day.sortedLevels(), step);
    if (poc === null) return;
    this.list.push({ sessionStartMs: dayMs, price: poc });
    if (this.list.length > 64) this.list.shift();
  }

  /** Trades at low..high at `atMs`: POCs of earlier sessions in that range are no longer naked. */
  touch(low: number, high: number, atMs: number): void {
    if (this.list.length === 0) return;
    this.list = this.list.filter((n) => !(atMs >= n.sessionStartMs + DAY_MS && low <= n.price && n.price <= high));
  }

  /** A copy of the list. */
  copy(): NakedPoc[] {
    return this.list.map((n) => ({ ...n }));
  }
}

/**
 * Session metrics from the day's candle (null: nothing held) and its exact notional (what merged
 * views divide by their summed volume). `profile` false skips the POC/VA pass and keeps
 * `previous`'s values when it is of the same session.
 */
export function sessionSummary(
  startMs: number,
  day: FootprintCandle | null,
  notional: bigint,
  nakedPocs: NakedPoc[],
  scales: InstrumentScales,
  profile: boolean,
  previous?: SessionSummary,
): SessionSummary {
  if (day === null || day.isEmpty)
    return {
      startMs,
      poc: null,
      vah: null,
      val: null,
      vwap: null,
      notional: '0',
      cvd: 0,
      volume: 0,
      trades: 0,
      nakedPocs,
    };
  let poc = previous?.startMs === startMs ? previous.poc : null;
  let vah = previous?.startMs === startMs ? previous.vah : null;
  let val = previous?.startMs === startMs ? previous.val : null;
  if (profile) {
    const m = profileMetrics(buildProfile([day], { step: scales.tick }));
    poc = m.poc;
    vah = m.valueAreaHigh;
    val = m.valueAreaLow;
  }
  return {
    startMs,
    poc,
    vah,
    val,
    vwap: sessionVwap(notional, day.volume, scales.priceScale),
    notional: notional.toString(),
    cvd: day.delta,
    volume: day.volume,
    trades: day.trades,
    nakedPocs,
  };
}
