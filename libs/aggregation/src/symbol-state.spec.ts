import fc from 'fast-check';
import {
  type CandleData,
  FootprintCandle,
  TIMEFRAMES,
  TIMEFRAME_MS,
  type PriceLevel,
  type Timeframe,
  rollUp,
} from '@orderflow/footprint';
import { sessionVwap } from '@orderflow/contracts';
import { describe, expect, it } from 'vitest';
import { MINUTE_MS, bucketOf } from './candles.js';
import type { FlushBatch } from './flush.js';
import { SymbolState } from './symbol-state.js';
import { type IngestedTrade, minuteFromTrades } from './trade-order.js';

const SCALES = { priceScale: 2, quantityScale: 3, tick: 1 };
// 2024-08-08 23:40 UTC: the stream crosses an hour, 4h and day boundary.
const T0 = Date.UTC(2024, 7, 8, 23, 40);

interface Step {
  /** minutes after T0 (fractional), price offset, quantity, side */
  t: number;
  dp: number;
  q: number;
  buy: boolean;
  /** when >= 0: repeat the trade with this index (mod trades so far) instead of a new one */
  repeat: number;
}

/**
 * A stream: mostly new trades in time order, with late ones (up to 4 minutes back, beyond the 2-minute window) and
 * repeats of any earlier trade.
 */
function buildStream(steps: Step[]): IngestedTrade[] {
  const out: IngestedTrade[] = [];
  const fresh: IngestedTrade[] = [];
  let clock = 0;
  let seq = 1;
  for (const s of steps) {
    if (s.repeat >= 0 && fresh.length > 0) {
      const t = fresh[s.repeat % fresh.length]!;
      out.push({ ...t, ingestSeq: seq++ });
      continue;
    }
    clock += s.t;
    const lateBy = s.dp % 5 === 0 ? Math.min(clock, (4 * (s.q % 100)) / 100) : 0;
    const timeUs = Math.round((T0 + (clock - lateBy) * MINUTE_MS) * 1000);
    const t: IngestedTrade = {
      exchange: 'sim',
      symbol: 'X',
      id: String(fresh.length + 1),
      price: 6_000_000 + s.dp,
      quantity: s.q,
      side: s.buy ? 'buy' : 'sell',
      exchangeTimeUs: timeUs,
      receiveTimeMs: 0,
      ingestSeq: seq++,
    };
    fresh.push(t);
    out.push(t);
  }
  return out;
}

const stepArb = fc.record({
  t: fc.double({ min: 0, max: 0.9, noNaN: true }),
  dp: fc.integer({ min: -40, max: 40 }),
  q: fc.integer({ min: 1, max: 5000 }),
  buy: fc.boolean(),
  repeat: fc.oneof({ weight: 9, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.nat() }),
});

const minuteOf = (t: IngestedTrade) => (t.exchangeTimeUs - (t.exchangeTimeUs % 60_000_000)) / 1000;

/** Reference: each trade id once (first arrival), grouped by minute in arrival order. */
function referenceMinutes(stream: IngestedTrade[]): Map<number, FootprintCandle> {
  const seen = new Set<string>();
  const byMinute = new Map<number, IngestedTrade[]>();
  for (const t of stream) {
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    const m = minuteOf(t);
    byMinute.set(m, [...(byMinute.get(m) ?? []), t]);
  }
  return new Map([...byMinute].sort((a, b) => a[0] - b[0]).map(([m, ts]) => [m, minuteFromTrades(m, ts)]));
}

/**
 * What ClickHouse would hold: raw trades by id and the highest version of each minute; plays the
 * aggregator app's part for out-of-window trades (merge with the stored minute, write, correct).
 */
class FakeStore {
  trades = new Map<string, IngestedTrade>();
  minutes = new Map<number, CandleData>();
  write(b: FlushBatch): void {
    for (const t of b.trades) if (!this.trades.has(t.id)) this.trades.set(t.id, t);
    for (const c of b.minutes) this.put(c);
  }
  put(c: CandleData): void {
    const prev = this.minutes.get(c.openTime);
    if (!prev || prev.buyTrades + prev.sellTrades <= c.buyTrades + c.sellTrades) this.minutes.set(c.openTime, c);
  }
  correct(state: SymbolState, late: IngestedTrade[]): void {
    const byMinute = new Map<number, IngestedTrade[]>();
    for (const t of late) byMinute.set(minuteOf(t), [...(byMinute.get(minuteOf(t)) ?? []), t]);
    for (const [m, ts] of byMinute) {
      const stored = [...this.trades.values()]
        .filter((t) => minuteOf(t) === m)
        .sort((a, b) => a.ingestSeq - b.ingestSeq);
      const ids = new Set(stored.map((t) => t.id));
      const fresh = ts.filter((t) => !ids.has(t.id) && ids.add(t.id));
      if (fresh.length === 0) continue;
      const candle = minuteFromTrades(m, [...stored, ...fresh]);
      for (const t of fresh) this.trades.set(t.id, t);
      this.put(candle.toData());
      state.applyCorrection(candle);
    }
  }
}

/** The client side of live updates: latest summary and level values per (timeframe, bucket). */
class LiveModel {
  candles = new Map<string, { summary: Omit<CandleData, 'levels'>; levels: Map<number, PriceLevel> }>();
  apply(state: SymbolState): void {
    for (const ch of state.takeLiveChanges()) {
      const key = `${ch.timeframe}:${ch.candle.openTime}`;
      const c = this.candles.get(key) ?? { summary: ch.candle, levels: new Map() };
      c.summary = ch.candle;
      for (const l of ch.cells) c.levels.set(l.price, l);
      this.candles.set(key, c);
    }
  }
  data(tf: Timeframe, openTime: number): CandleData | null {
    const c = this.candles.get(`${tf}:${openTime}`);
    return c ? { ...c.summary, levels: [...c.levels.values()].sort((a, b) => a.price - b.price) } : null;
  }
}

function run(stream: IngestedTrade[], chunk: number, failEvery: number, window = 2) {
  const state = new SymbolState({ exchange: 'sim', symbol: 'X', scales: SCALES, windowMinutes: window });
  const store = new FakeStore();
  const live = new LiveModel();
  let n = 0;
  for (let i = 0; i < stream.length; i += chunk) {
    const r = state.apply(stream.slice(i, i + chunk));
    expect(r.rejected).toEqual([]);
    store.correct(state, r.outOfWindow);
    live.apply(state);
    const b = state.takeFlush();
    if (b) {
      if (++n % failEvery === 0) state.flushFailed(b);
      else {
        store.write(b);
        state.flushed(b);
      }
    }
  }
  const last = state.takeFlush();
  if (last) {
    store.write(last);
    state.flushed(last);
  }
  live.apply(state);
  return { state, store, live };
}

describe('SymbolState', () => {
  it('writes each minute exactly as a direct aggregation of the unique trades, whatever the repeats, late trades and failed flushes', () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 2, max: 5 }),
        fc.boolean(),
        (steps, chunk, failEvery, repeats) => {
          // with and without repeats: a repeat of an old minute forces a full roll-up rebuild, which would hide
          // incremental bugs
          const stream = buildStream(repeats ? steps : steps.map((s) => ({ ...s, repeat: -1 })));
          const { state, store, live } = run(stream, chunk, failEvery);
          const ref = referenceMinutes(stream);
          expect([...store.minutes.keys()].sort((a, b) => a - b)).toEqual([...ref.keys()]);
          for (const [m, c] of ref) expect(store.minutes.get(m)).toEqual(c.toData());
          expect(store.trades.size).toBe(new Set(stream.map((t) => t.id)).size);
          // the open candle of every timeframe, and what live updates built, equal the roll-up of the reference minutes
          const newest = Math.max(...ref.keys());
          for (const tf of TIMEFRAMES) {
            const b = bucketOf(newest, tf);
            const expected = rollUp(
              [...ref.values()].filter((c) => c.openTime >= b && c.openTime < b + TIMEFRAME_MS[tf]),
              tf,
            )[0]!.toData();
            expect(state.openCandle(tf)?.toData()).toEqual(expected);
            expect(live.data(tf, b)).toEqual(expected);
          }
          // the session's notional is the exact sum of price x quantity of the day's unique trades (BigInt, apart from
          // the engine)
          const day = newest - (newest % 86_400_000);
          const seen = new Set<string>();
          let notional = 0n;
          let volume = 0n;
          for (const t of stream) {
            if (seen.has(t.id)) continue;
            seen.add(t.id);
            if (minuteOf(t) < day) continue;
            notional += BigInt(t.price) * BigInt(t.quantity);
            volume += BigInt(t.quantity);
          }
          const session = state.session();
          expect(session.notional).toBe(notional.toString());
          expect(BigInt(session.volume)).toBe(volume);
          expect(session.vwap).toBe(sessionVwap(notional, volume, SCALES.priceScale));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('returns repeats of minutes that left memory for the caller to merge, and keeps recent ones in memory', () => {
    const stream = buildStream(
      Array.from({ length: 600 }, (_, i) => ({ t: 0.05, dp: (i % 13) - 6, q: 10 + i, buy: i % 2 === 0, repeat: -1 })),
    );
    const state = new SymbolState({ exchange: 'sim', symbol: 'X', scales: SCALES, windowMinutes: 2 });
    state.apply(stream);
    const b = state.takeFlush()!;
    state.flushed(b);
    const first = stream[0]!;
    const recent = stream[stream.length - 1]!;
    const r = state.apply([
      { ...first, ingestSeq: 10_000 },
      { ...recent, ingestSeq: 10_001 },
    ]);
    expect(r.duplicates).toBe(1);
    expect(r.outOfWindow).toEqual([{ ...first, ingestSeq: 10_000 }]);
    expect(state.sizes.windowMinutes).toBeLessThanOrEqual(4);
    // a new (never seen) trade of the newest minute that left the window is not kept in memory either
    const newest = minuteOf(recent);
    const fresh: IngestedTrade = {
      ...recent,
      id: 'late-1',
      exchangeTimeUs: (newest - 3 * MINUTE_MS) * 1000 + 5,
      ingestSeq: 10_002,
    };
    const inWindow: IngestedTrade = {
      ...recent,
      id: 'late-2',
      exchangeTimeUs: (newest - 2 * MINUTE_MS) * 1000 + 5,
      ingestSeq: 10_003,
    };
    const r2 = state.apply([fresh, inWindow]);
    expect(r2.outOfWindow).toEqual([fresh]);
    expect(r2.applied).toBe(1);
  });

  it('keeps minutes whose write failed in memory until they are written', () => {
    const stream = buildStream(
      Array.from({ length: 300 }, (_, i) => ({ t: 0.1, dp: i % 5, q: 7, buy: true, repeat: -1 })),
    );
    const state = new SymbolState({ exchange: 'sim', symbol: 'X', scales: SCALES, windowMinutes: 1 });
    state.apply(stream.slice(0, 100));
    const b = state.takeFlush()!;
    state.flushFailed(b);
    state.apply(stream.slice(100));
    // nothing written yet: a repeat of the very first trade is still recognised in memory
    expect(state.apply([{ ...stream[0]!, ingestSeq: 99_999 }]).duplicates).toBe(1);
    const b2 = state.takeFlush()!;
    expect(b2.trades.length).toBe(300);
    expect(new Set(b2.minutes.map((m) => m.openTime)).size).toBe(new Set(stream.map(minuteOf)).size);
  });

  it('after a restart from the stored minutes and raw trades, continues exactly as if nothing happened', () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 2, maxLength: 300 }),
        fc.double({ min: 0.1, max: 0.9, noNaN: true }),
        (steps, cut) => {
          const stream = buildStream(steps);
          const k = Math.max(1, Math.floor(stream.length * cut));
          const whole = run(stream, 17, 1_000_000);
          const before = run(stream.slice(0, k), 17, 1_000_000);
          // restart: rebuild from what the store holds, then replay from a point before the cut (redelivery)
          const trades = [...before.store.trades.values()].sort((a, b) => a.ingestSeq - b.ingestSeq);
          const lastMinute = Math.max(...trades.map(minuteOf));
          const windowStart = lastMinute - 2 * MINUTE_MS;
          const restarted = new SymbolState({ exchange: 'sim', symbol: 'X', scales: SCALES, windowMinutes: 2 });
          const dayStart = lastMinute - (lastMinute % 86_400_000);
          restarted.restore(
            windowStart,
            [...before.store.minutes.values()].filter((m) => m.openTime >= dayStart && m.openTime < windowStart),
            trades.filter((t) => minuteOf(t) >= windowStart),
          );
          const store = before.store;
          const redeliverFrom = Math.max(0, k - 25);
          for (let i = redeliverFrom; i < stream.length; i += 11) {
            const r = restarted.apply(stream.slice(i, i + 11));
            store.correct(restarted, r.outOfWindow);
            const b = restarted.takeFlush();
            if (b) {
              store.write(b);
              restarted.flushed(b);
            }
          }
          const b = restarted.takeFlush();
          if (b) store.write(b);
          expect(new Map([...store.minutes].sort((x, y) => x[0] - y[0]))).toEqual(
            new Map([...whole.store.minutes].sort((x, y) => x[0] - y[0])),
          );
          const newest = Math.max(...whole.store.minutes.keys());
          for (const tf of TIMEFRAMES) {
            if (bucketOf(newest, tf) < dayStart) continue;
            expect(restarted.openCandle(tf)?.toData()).toEqual(whole.state.openCandle(tf)?.toData());
          }
          if (bucketOf(newest, '1d') === dayStart)
            expect(restarted.session().notional).toBe(whole.state.session().notional);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the same trades delivered in any order (redeliveries after a crash) give the same minutes', () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 30 }),
        fc.infiniteStream(fc.nat()),
        (steps, chunk, rnd) => {
          const stream = buildStream(steps.map((x) => ({ ...x, repeat: -1 })));
          const shuffled = [...stream];
          const r = rnd[Symbol.iterator]();
          // a local shuffle: each trade moves by up to 40 places (a redelivered batch arriving late)
          for (let i = shuffled.length - 1; i > 0; i--) {
            const j = Math.max(0, i - (r.next().value! % 40));
            [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
          }
          const a = run(stream, chunk, 1_000_000, 10).store.minutes;
          const b = run(shuffled, chunk, 1_000_000, 10).store.minutes;
          expect(new Map([...b].sort((x, y) => x[0] - y[0]))).toEqual(new Map([...a].sort((x, y) => x[0] - y[0])));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a snapshot (stored rows read after it + its unwritten levels + later live updates) rebuilds every candle exactly', () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 2, maxLength: 300 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 2, max: 4 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (steps, chunk, failEvery, at) => {
          const stream = buildStream(steps);
          const state = new SymbolState({ exchange: 'sim', symbol: 'X', scales: SCALES, windowMinutes: 2 });
          const store = new FakeStore();
          const cut = Math.floor((stream.length * at) / chunk) * chunk;
          let model: LiveModel | null = null;
          let n = 0;
          for (let i = 0; i <= stream.length; i += chunk) {
            if (i === cut) {
              // a write is under way while the gateway takes its snapshot and reads the stored rows
              const inFlight = state.takeFlush();
              // the gateway's view: snapshot, then stored rows read after it, overlaid; then updates
              model = new LiveModel();
              state.takeLiveChanges(); // what was published before the snapshot is not the model's
              for (const tf of TIMEFRAMES) {
                for (const c of state.recentCandles(tf)) {
                  const stored = rollUp(
                    [...store.minutes.values()].filter(
                      (m) => m.openTime >= c.openTime && m.openTime < c.openTime + TIMEFRAME_MS[tf],
                    ),
                    tf,
                  )[0];
                  const levels = new Map((stored?.toData().levels ?? []).map((l) => [l.price, l]));
                  for (const l of c.levels) levels.set(l.price, l);
                  const { levels: _omit, ...summary } = c;
                  model.candles.set(`${tf}:${c.openTime}`, { summary, levels });
                }
              }
              if (inFlight) {
                store.write(inFlight);
                state.flushed(inFlight);
              }
            }
            if (i >= stream.length) break;
            const r = state.apply(stream.slice(i, i + chunk));
            store.correct(state, r.outOfWindow);
            if (model) model.apply(state);
            const b = state.takeFlush();
            if (b) {
              if (++n % failEvery === 0) state.flushFailed(b);
              else {
                store.write(b);
                state.flushed(b);
              }
            }
          }
          model!.apply(state);
          const newest = Math.max(...[...store.minutes.keys(), ...state.recentCandles('1m').map((c) => c.openTime)]);
          for (const tf of TIMEFRAMES) {
            const b = bucketOf(newest, tf);
            expect(model!.data(tf, b)).toEqual(state.openCandle(tf)?.toData() ?? null);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects invalid trades with a reason and applies the rest', () => {
    const state = new SymbolState({ exchange: 'sim', symbol: 'X', scales: SCALES });
    const good = buildStream([{ t: 0.1, dp: 1, q: 5, buy: true, repeat: -1 }])[0]!;
    const r = state.apply([{ ...good, id: 'bad', price: -5 }, good, { ...good, id: 'nan', quantity: Number.NaN }]);
    expect(r.applied).toBe(1);
    expect(r.rejected.map((x) => x.trade.id)).toEqual(['bad', 'nan']);
    expect(r.rejected.every((x) => x.reason.length > 0)).toBe(true);
  });
});
