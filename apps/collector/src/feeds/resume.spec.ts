import { describe, expect, it } from 'vitest';
import {
  bybitRecovery,
  CatchUpProgress,
  decideResume,
  describeCatchUp,
  planResume,
  type ResumePlan,
  type StoredTail,
} from './resume.js';

const NOW = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const HOUR = 3_600_000;
const stored = (lastId: string, agoMs: number): StoredTail => ({
  lastId,
  lastTimeUs: (NOW - agoMs) * 1000,
  idsAtLastTime: [lastId],
});

describe('planResume', () => {
  it('a first run when nothing is stored, or the stored id is no integer (the start-up backfill window applies)', () => {
    expect(planResume({ stored: null, nowMs: NOW, backfillMinutes: 5, maxCatchUpMs: 72 * HOUR })).toEqual({
      kind: 'fresh',
    });
    expect(
      planResume({ stored: stored('0b6c-uuid', HOUR), nowMs: NOW, backfillMinutes: 5, maxCatchUpMs: 72 * HOUR }),
    ).toEqual({ kind: 'fresh' });
  });

  it('after the last stored id when it is within the bound', () => {
    expect(
      planResume({ stored: stored('1000', 10 * HOUR), nowMs: NOW, backfillMinutes: 5, maxCatchUpMs: 72 * HOUR }),
    ).toEqual({ kind: 'resume', fromId: 1001, lastTimeUs: (NOW - 10 * HOUR) * 1000 });
  });

  it('from the bound when the last stored trade is older: the start asks for the first id since now minus the bound', () => {
    expect(
      planResume({ stored: stored('1000', 80 * HOUR), nowMs: NOW, backfillMinutes: 5, maxCatchUpMs: 72 * HOUR }),
    ).toEqual({ kind: 'bounded', fromId: 1001, lastTimeUs: (NOW - 80 * HOUR) * 1000, sinceMs: NOW - 72 * HOUR });
  });

  it('the bound never cuts into the start-up backfill window (COLLECTOR_RESUME_MAX_HOURS=0: only that window is fetched)', () => {
    expect(
      planResume({ stored: stored('1000', 3 * 60_000), nowMs: NOW, backfillMinutes: 5, maxCatchUpMs: 0 }),
    ).toMatchObject({ kind: 'resume' });
    expect(
      planResume({ stored: stored('1000', 6 * 60_000), nowMs: NOW, backfillMinutes: 5, maxCatchUpMs: 0 }),
    ).toMatchObject({ kind: 'bounded', sinceMs: NOW - 5 * 60_000 });
  });
});

describe('decideResume', () => {
  const T = (NOW - HOUR) * 1000; // the stored trade's time
  const resume: Exclude<ResumePlan, { kind: 'fresh' }> = { kind: 'resume', fromId: 1001, lastTimeUs: T };
  const base = { exchange: 'okx', plan: resume, maxCatchUpMs: 72 * HOUR, boundedFrom: null };

  it('nothing missed: REST has no trade after the stored one', () => {
    expect(decideResume({ ...base, newest: { id: 1000, timeUs: T }, firstServed: null })).toEqual({
      kind: 'resume',
      startAt: 1001,
      unfilled: null,
      catchUp: false,
    });
  });

  it('REST serves every missed id: start right after the stored trade and catch up to the newest', () => {
    expect(
      decideResume({ ...base, newest: { id: 90_000, timeUs: T + 5e9 }, firstServed: { id: 1001, timeUs: T + 10 } }),
    ).toEqual({ kind: 'resume', startAt: 1001, unfilled: null, catchUp: true });
  });

  it("REST's history starts later (OKX's limit, a simulator's): the ids before it are unfilled, with the times either side", () => {
    const d = decideResume({
      ...base,
      newest: { id: 90_000, timeUs: T + 5e9 },
      firstServed: { id: 40_000, timeUs: T + 2e9 },
    });
    expect(d).toEqual({
      kind: 'resume',
      startAt: 40_000,
      unfilled: {
        fromId: 1001,
        toId: 39_999,
        fromTimeUs: T,
        toTimeUs: T + 2e9,
        reason: "resume after id 1000: okx's REST history does not reach back before id 40000",
      },
      catchUp: true,
    });
  });

  it('older than the bound: the ids before the bound are unfilled (COLLECTOR_RESUME_MAX_HOURS), the rest is caught up', () => {
    const plan: ResumePlan = { kind: 'bounded', fromId: 1001, lastTimeUs: T, sinceMs: NOW - 72 * HOUR };
    const d = decideResume({
      ...base,
      plan,
      boundedFrom: 50_000,
      newest: { id: 90_000, timeUs: T + 5e9 },
      firstServed: { id: 50_000, timeUs: T + 3e9 },
    });
    expect(d).toMatchObject({
      kind: 'resume',
      startAt: 50_000,
      catchUp: true,
      unfilled: { fromId: 1001, toId: 49_999, fromTimeUs: T, toTimeUs: T + 3e9 },
    });
    expect(d.kind === 'resume' && d.unfilled!.reason).toBe(
      'resume after id 1000: more than 72 h behind: older trades are not fetched (COLLECTOR_RESUME_MAX_HOURS)',
    );
    // and REST serving even less than the bound: both reasons
    const both = decideResume({
      ...base,
      plan,
      boundedFrom: 50_000,
      newest: { id: 90_000, timeUs: T + 5e9 },
      firstServed: { id: 60_000, timeUs: T + 4e9 },
    });
    expect(both).toMatchObject({
      startAt: 60_000,
      unfilled: {
        toId: 59_999,
        reason:
          "resume after id 1000: more than 72 h behind: older trades are not fetched (COLLECTOR_RESUME_MAX_HOURS); okx's REST history does not reach back before id 60000",
      },
    });
  });

  it('a bound that REST could not place (no trade in its first hour) resumes after the stored id', () => {
    const plan: ResumePlan = { kind: 'bounded', fromId: 1001, lastTimeUs: T, sinceMs: NOW - 72 * HOUR };
    expect(
      decideResume({
        ...base,
        plan,
        boundedFrom: null,
        newest: { id: 1200, timeUs: T + 1e9 },
        firstServed: { id: 1001, timeUs: T + 1 },
      }),
    ).toEqual({ kind: 'resume', startAt: 1001, unfilled: null, catchUp: true });
  });

  it('stored trades of another history (ids or times behind the stored ones, e.g. a restarted simulator) are not resumed after', () => {
    expect(decideResume({ ...base, newest: null, firstServed: null })).toMatchObject({
      kind: 'foreign',
      reason: 'REST has no trades although id 1000 is stored',
    });
    expect(decideResume({ ...base, newest: { id: 500, timeUs: T + 1e9 }, firstServed: null })).toMatchObject({
      kind: 'foreign',
    });
    expect(decideResume({ ...base, newest: { id: 5000, timeUs: T - 1 }, firstServed: null })).toMatchObject({
      kind: 'foreign',
    });
    expect(
      decideResume({ ...base, newest: { id: 5000, timeUs: T + 1e9 }, firstServed: { id: 1001, timeUs: T - 5e6 } }),
    ).toMatchObject({ kind: 'foreign' });
  });
});

describe('bybitRecovery', () => {
  const t = (id: string, timeUs: number) => ({ id, exchangeTimeUs: timeUs });
  const seenOf =
    (...ids: string[]) =>
    (id: string) =>
      ids.includes(id);

  it('the window reaches back past the last trade kept: publish what is newer and unseen, no hole', () => {
    const r = bybitRecovery([t('a', 90), t('b', 100), t('c', 100), t('d', 110)], 100, seenOf('b'));
    expect(r).toEqual({ publish: [t('c', 100), t('d', 110)], holeBefore: null });
  });

  it("the window's oldest trade is a kept one of the last millisecond: no hole", () => {
    expect(bybitRecovery([t('b', 100), t('c', 100), t('d', 110)], 100, seenOf('a', 'b')).holeBefore).toBeNull();
  });

  it('the window starts after the last trade kept: the hole ends at its oldest trade', () => {
    const r = bybitRecovery([t('x', 150), t('y', 160)], 100, seenOf('b'));
    expect(r).toEqual({ publish: [t('x', 150), t('y', 160)], holeBefore: t('x', 150) });
  });

  it('the window starts within the last millisecond without a kept trade of it: trades of that millisecond may be missing', () => {
    expect(bybitRecovery([t('c', 100), t('d', 110)], 100, seenOf('b')).holeBefore).toEqual(t('c', 100));
  });

  it('nothing kept yet (since null): everything REST has, no hole', () => {
    expect(bybitRecovery([t('a', 1), t('b', 2)], null, seenOf())).toEqual({
      publish: [t('a', 1), t('b', 2)],
      holeBefore: null,
    });
  });
});

describe('CatchUpProgress', () => {
  it('rate over the last 10 s, ids remaining, exchange time behind and the ETA; the whole run once finished', () => {
    const p = new CatchUpProgress('resume', 1001, 101_000, 2_000_000_000, 1_000_000_000, 0);
    p.advance(50_000, 51_001, 1_500_000_000, 2000); // a fast start (a REST burst)
    for (let at = 3000; at <= 14_000; at += 1000) p.advance(1000, null, null, at);
    const s = p.status(14_000);
    expect(s).toMatchObject({
      reason: 'resume',
      active: true,
      fromId: '1001',
      toId: '101000',
      nextId: '51001',
      done: 62_000,
      behindSeconds: 500,
      startedAtMs: 0,
      finishedAtMs: null,
    });
    expect(s.remaining).toBe(101_000 - 51_001 + 1);
    // the window holds the last ~10 s: 1000 trades a second, not the burst's average
    expect(s.ratePerSecond).toBe(1000);
    expect(s.etaSeconds).toBe(50);
    p.extend(120_000, 2_500_000_000);
    expect(p.status(14_000)).toMatchObject({ toId: '120000', behindSeconds: 1000 });
    p.finish(20_000);
    expect(p.status(30_000)).toMatchObject({
      active: false,
      remaining: 0,
      etaSeconds: 0,
      ratePerSecond: 3100,
      elapsedSeconds: 20,
      behindSeconds: null,
    });
  });

  it('log lines while running and when done', () => {
    const p = new CatchUpProgress('resume', 1, 100_000, 7_200_000_000, 0, 0);
    p.advance(25_000, 25_001, 1_800_000_000, 5000);
    expect(describeCatchUp('binance', 'BTCUSDT', p.status(5000))).toBe(
      'binance BTCUSDT: resume catch-up 1..100000 at 25001: 25000 of 100000 trades (25%), 75000 ids to go, 1 h 30 min of exchange time behind, 5000 trades/s, ETA 15 s',
    );
    p.finish(10_000);
    expect(describeCatchUp('binance', 'BTCUSDT', p.status(10_000))).toBe(
      'binance BTCUSDT: resume catch-up 1..100000 done: 25000 trades from REST in 10 s (2500 trades/s)',
    );
  });
});
