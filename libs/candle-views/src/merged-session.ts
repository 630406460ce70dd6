import { type SessionSummary, type WireCandle, sessionVwap } from '@orderflow/contracts';
import { type GroupingMode, groupPrice } from '@orderflow/footprint';

/**
 * The session (UTC day) figures of a merged view, exactly:
 *
 * - CVD, volume and trades: the sums of the members' sessions in the view's units.
 * - VWAP: the members' exact notionals (price units x quantity units, SessionSummary.notional)
 *   brought to the view's units (x priceFactor x quantityFactor) and summed, divided by the summed
 *   volume with the aggregator's rounding (`sessionVwap`). Never an average of rounded VWAPs.
 * - POC, VAH, VAL: of the merged session profile at the view's grouping, i.e. the day candle of
 *   the merged `1d` view at the same step and mode (the members' per-level volumes summed), by the
 *   engine's profile functions (the candle's own poc/vah/val, `candleMetrics`).
 * - Naked POCs: the POCs (at the grouping) of the earlier merged sessions of the last
 *   NAKED_POC_DAYS days that no later session's range has reached, by libs/footprint's
 *   `nakedPocs` rule (a later range [low, high], grouped like the POC, includes it).
 *
 * The session is the UTC day of the newest member session; a member whose session is older (it
 * has not traded today yet) contributes nothing to it.
 */

export const DAY_MS = 86_400_000;

/** Earlier sessions looked at for naked POCs (the aggregator looks back as far after a restart). */
export const NAKED_POC_DAYS = 14;

/** A member's session as its owner published it, and the factors that bring it to the view's units. */
export interface MemberSession {
  session: SessionSummary | null;
  priceFactor: number;
  quantityFactor: number;
}

/** A merged session's profile figures at the view's grouping and its price range (view units, not grouped). */
export interface SessionDay {
  startMs: number;
  poc: number | null;
  vah: number | null;
  val: number | null;
  low: number;
  high: number;
}

/** The day figures of a merged day candle (live view or history): its poc/vah/val at the grouping and its range. */
export function sessionDay(c: WireCandle): SessionDay {
  return { startMs: c.openTime, poc: c.poc, vah: c.vah, val: c.val, low: c.low, high: c.high };
}

/**
 * A session's exact notional, or null when it has none (an aggregator older than the field) or it is not a decimal
 * integer.
 */
export function sessionNotional(s: SessionSummary): bigint | null {
  const n: unknown = s.notional;
  return typeof n === 'string' && /^\d{1,60}$/.test(n) ? BigInt(n) : null;
}

function safe(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER))
    throw new Error(`merged session ${what} exceeds 2^53 - 1 units`);
  return Number(v);
}

/**
 * Naked POCs among `earlier` (ascending, all before `today`): a day's POC is naked unless a later
 * day, `today` included, has a range whose grouped low..high includes it. Oldest first.
 */
export function nakedPocsOf(
  earlier: readonly SessionDay[],
  today: SessionDay | null,
  step: number,
  mode: GroupingMode,
): { sessionStartMs: number; price: number }[] {
  const later = today ? [...earlier, today] : [...earlier];
  const ranges = later.map((d) => ({ low: groupPrice(d.low, step, mode), high: groupPrice(d.high, step, mode) }));
  const out: { sessionStartMs: number; price: number }[] = [];
  for (let i = 0; i < earlier.length; i++) {
    const poc = earlier[i]!.poc;
    if (poc === null) continue;
    let touched = false;
    for (let j = i + 1; j < later.length && !touched; j++) touched = ranges[j]!.low <= poc && poc <= ranges[j]!.high;
    if (!touched) out.push({ sessionStartMs: earlier[i]!.startMs, price: poc });
  }
  return out;
}

/**
 * The merged session: the members' sessions summed in the view's units (exact VWAP from the
 * summed notionals), with POC and value area from `today` (the merged day at the grouping, or
 * null when unknown: then they are null) and naked POCs from `earlier` (ascending, before today).
 * Null when no member has a session. `notional` (and so `vwap`) is left out when a member that
 * traded in the session did not publish its notional.
 */
export function mergeSessions(
  members: readonly MemberSession[],
  priceScale: number,
  today: SessionDay | null,
  earlier: readonly SessionDay[],
  step: number,
  mode: GroupingMode,
): SessionSummary | null {
  let start = -Infinity;
  for (const m of members) if (m.session && m.session.startMs > start) start = m.session.startMs;
  if (!Number.isFinite(start)) return null;
  let cvd = 0n;
  let volume = 0n;
  let trades = 0;
  let notional: bigint | null = 0n;
  for (const m of members) {
    const s = m.session;
    if (!s || s.startMs !== start) continue;
    const qf = BigInt(m.quantityFactor);
    cvd += BigInt(s.cvd) * qf;
    volume += BigInt(s.volume) * qf;
    trades += s.trades;
    if (s.volume === 0) continue;
    const n = sessionNotional(s);
    notional = notional === null || n === null ? null : notional + n * BigInt(m.priceFactor) * qf;
  }
  const day = today !== null && today.startMs === start ? today : null;
  const out: SessionSummary = {
    startMs: start,
    poc: day?.poc ?? null,
    vah: day?.vah ?? null,
    val: day?.val ?? null,
    vwap: notional === null ? null : sessionVwap(notional, volume, priceScale),
    ...(notional === null ? {} : { notional: notional.toString() }),
    cvd: safe(cvd, 'cvd'),
    volume: safe(volume, 'volume'),
    trades,
    nakedPocs: nakedPocsOf(
      earlier.filter((d) => d.startMs < start),
      day,
      step,
      mode,
    ),
  };
  return out;
}

/** What MergedSessionState reads of the merged 1d view (GroupedView). */
export interface DayCandles {
  openTimes(): number[];
  wireCandle(openTime: number): WireCandle | null;
}

/**
 * The state behind one merged view's session (kept with its merged `1d` view, shared by every
 * timeframe of the same grouping): the earlier sessions' day figures, read once from ClickHouse
 * (`setStored`) and taken from the live 1d view as it follows them (those win: exact and newer,
 * and kept after the view evicts the candle), pruned to the last NAKED_POC_DAYS days.
 */
export class MergedSessionState {
  private stored = new Map<number, SessionDay>();
  private readonly observed = new Map<number, SessionDay>();
  /** Grows each time stored days are set (a cache key). */
  storedVersion = 0;

  constructor(
    readonly priceScale: number,
    readonly step: number,
    readonly mode: GroupingMode,
    readonly lookbackDays = NAKED_POC_DAYS,
  ) {}

  /** Earlier sessions read from history (merged day candles at the grouping). */
  setStored(days: Iterable<SessionDay>): void {
    this.stored = new Map([...days].map((d) => [d.startMs, d]));
    this.storedVersion++;
  }

  /** Days known from either source, ascending (for tests and /status). */
  knownDays(): number[] {
    return [...new Set([...this.stored.keys(), ...this.observed.keys()])].sort((a, b) => a - b);
  }

  /** The merged session from the members' sessions (in member order) and the merged 1d view. */
  summary(members: readonly MemberSession[], view: DayCandles): SessionSummary | null {
    let start = -Infinity;
    for (const m of members) if (m.session && m.session.startMs > start) start = m.session.startMs;
    if (!Number.isFinite(start)) return null;
    let today: SessionDay | null = null;
    for (const t of view.openTimes()) {
      if (t > start) continue;
      const c = view.wireCandle(t);
      if (c === null) continue;
      if (t === start) today = sessionDay(c);
      else this.observed.set(t, sessionDay(c));
    }
    const from = start - this.lookbackDays * DAY_MS;
    for (const m of [this.stored, this.observed]) for (const t of m.keys()) if (t < from) m.delete(t);
    const earlier = new Map(this.stored);
    for (const [t, d] of this.observed) earlier.set(t, d);
    const days = [...earlier.values()].filter((d) => d.startMs < start).sort((a, b) => a.startMs - b.startMs);
    return mergeSessions(members, this.priceScale, today, days, this.step, this.mode);
  }
}
