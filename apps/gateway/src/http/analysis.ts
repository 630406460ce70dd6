import {
  type CandleData,
  type GroupingMode,
  type PriceLevel,
  type ProfileMetricOptions,
  type Timeframe,
  TIMEFRAME_MS,
  buildProfile,
  cumulativeDelta,
  imbalances,
  nakedPocs,
  profileMetrics,
  tpoProfiles,
  vwapBands as engineVwapBands,
} from '@orderflow/footprint';
import { asCandleData } from '@orderflow/candle-views';
import type {
  WireCvdPoint,
  WireFootprintCandle,
  WireImbalances,
  WireNakedPoc,
  WireProfile,
  WireTpoSession,
  WireVwapPoint,
} from '@orderflow/contracts';
import type { HistoryService } from '../history/history.service.js';
import { storedCandleData } from '../history/view-summaries.js';
import type { InstrumentView } from '../instruments/instrument.view.js';

/**
 * The analysis endpoints' computations: history from ClickHouse in the view's units, then the
 * engine's own functions (libs/footprint), so that the API and the engine can never disagree.
 */

/**
 * Volume profile of [from, to) (whole minutes): the native-price totals (one ClickHouse read, from
 * the coarsest timeframe that tiles the range), grouped by the engine (buildProfile, exact on
 * native prices), then profileMetrics.
 */
export async function rangeProfile(
  history: HistoryService,
  view: InstrumentView,
  from: number,
  to: number,
  step: number,
  mode: GroupingMode,
  options: ProfileMetricOptions,
  signal?: AbortSignal,
): Promise<WireProfile> {
  const levels = await history.rangeLevels(view, from, to, signal);
  const native = nativeCandle(from, levels);
  const profile = buildProfile(native ? [native] : [], { step, mode });
  const m = profileMetrics(profile, options);
  return {
    from,
    to,
    step,
    poc: m.poc,
    pocVolume: m.pocVolume,
    vah: m.valueAreaHigh,
    val: m.valueAreaLow,
    valueAreaVolume: m.valueAreaVolume,
    volume: profile.volume,
    buyVolume: profile.buyVolume,
    sellVolume: profile.sellVolume,
    hvnThreshold: m.hvnThreshold,
    lvnThreshold: m.lvnThreshold,
    hvn: m.hvn,
    lvn: m.lvn,
    hvnZones: m.hvnZones,
    lvnZones: m.lvnZones,
    levels: profile.levels.filter((l) => l.volume > 0).map((l) => [l.price, l.buyVolume, l.sellVolume, l.trades]),
  };
}

/** Native levels of a range as one native-tick candle (what buildProfile regroups exactly). */
function nativeCandle(from: number, levels: PriceLevel[]): CandleData | null {
  if (levels.length === 0) return null;
  let buy = 0;
  let sell = 0;
  let bt = 0;
  let st = 0;
  for (const l of levels) {
    buy += l.buyVolume;
    sell += l.sellVolume;
    bt += l.buyTrades;
    st += l.sellTrades;
  }
  const low = levels[0]!.price;
  const high = levels[levels.length - 1]!.price;
  return {
    timeframe: '1m',
    openTime: from - (from % TIMEFRAME_MS['1m']),
    step: 1,
    mode: 'nearest',
    open: low,
    high,
    low,
    close: high,
    buyVolume: buy,
    sellVolume: sell,
    buyTrades: bt,
    sellTrades: st,
    delta: buy - sell,
    maxDelta: 0,
    minDelta: 0,
    firstTimeUs: 0,
    lastTimeUs: 0,
    onGrid: true,
    levels,
  };
}

/** VWAP with 1-3 sigma bands on native-price candles (the engine's vwapBands), exact decimals. */
export async function vwapPoints(
  history: HistoryService,
  view: InstrumentView,
  timeframe: Timeframe,
  from: number,
  to: number,
  o: { anchorTime?: number; resetEachSession: boolean; decimals?: number },
  signal?: AbortSignal,
): Promise<WireVwapPoint[]> {
  const candles = await history.footprintList(view, timeframe, from, to, 1, 'nearest', signal);
  const data = candles.map((c) => asCandleData(c, timeframe, 1, 'nearest'));
  return engineVwapBands(data, {
    priceScale: view.scales.priceScale,
    resetEachSession: o.resetEachSession,
    ...(o.anchorTime !== undefined ? { anchorTime: o.anchorTime } : {}),
    ...(o.decimals !== undefined ? { decimals: o.decimals } : {}),
  }).map((p) => ({ openTime: p.openTime, vwap: p.vwap, stdDev: p.stdDev, upper: p.upper, lower: p.lower }));
}

export async function cvd(
  history: HistoryService,
  view: InstrumentView,
  timeframe: Timeframe,
  from: number,
  to: number,
  resetEachSession: boolean,
  signal?: AbortSignal,
): Promise<WireCvdPoint[]> {
  const rows = [...(await history.summaries(view, timeframe, from, to, signal)).values()];
  const points = cumulativeDelta(
    rows.map((c) => storedCandleData(c, timeframe)),
    { resetEachSession },
  );
  return points.map((p, i) => {
    const known = rows[i]!.maxDelta !== null;
    return {
      openTime: p.openTime,
      delta: p.delta,
      cvd: p.cvd,
      cvdOpen: p.cvdOpen,
      cvdHigh: known ? p.cvdHigh : null,
      cvdLow: known ? p.cvdLow : null,
    };
  });
}

/** Market profile per UTC session from candles of the period's length (each period's low/high). */
export async function tpo(
  history: HistoryService,
  view: InstrumentView,
  from: number,
  to: number,
  step: number,
  mode: GroupingMode,
  periodMs: number,
  initialBalancePeriods: number,
  signal?: AbortSignal,
): Promise<WireTpoSession[]> {
  const timeframe: Timeframe = periodMs === TIMEFRAME_MS['1h'] ? '1h' : '30m';
  const rows = [...(await history.summaries(view, timeframe, from, to, signal)).values()];
  return tpoProfiles(
    rows.map((c) => storedCandleData(c, timeframe)),
    { step, mode, periodMs, initialBalancePeriods },
  );
}

export async function imbalanceList(
  history: HistoryService,
  view: InstrumentView,
  timeframe: Timeframe,
  from: number,
  to: number,
  step: number,
  mode: GroupingMode,
  o: { ratio: number; minVolume: number; stackCount: number },
  signal?: AbortSignal,
): Promise<WireImbalances[]> {
  const candles = await history.footprintList(view, timeframe, from, to, step, mode, signal);
  return candles.map((c: WireFootprintCandle) => ({
    openTime: c.openTime,
    ...imbalances(asCandleData(c, timeframe, step, mode), {
      ratio: o.ratio,
      minVolume: o.minVolume,
      stackCount: o.stackCount,
    }),
  }));
}

export async function nakedPocList(
  history: HistoryService,
  view: InstrumentView,
  timeframe: Timeframe,
  from: number,
  to: number,
  step: number,
  mode: GroupingMode,
  signal?: AbortSignal,
): Promise<WireNakedPoc[]> {
  const candles = await history.footprintList(view, timeframe, from, to, step, mode, signal);
  return nakedPocs(candles.map((c) => asCandleData(c, timeframe, step, mode)));
}
