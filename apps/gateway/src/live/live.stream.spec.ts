import { describe, expect, it } from 'vitest';
import { LiveStream, overlayStored } from './live.stream.js';

describe('overlayStored', () => {
  it('an owner snapshot candle (only the levels ClickHouse may lack) over the stored levels is the whole candle', () => {
    const snap = {
      timeframe: '1m',
      openTime: 0,
      step: 1,
      mode: 'nearest',
      open: 10,
      high: 12,
      low: 10,
      close: 12,
      buyVolume: 9,
      sellVolume: 1,
      buyTrades: 4,
      sellTrades: 1,
      delta: 8,
      maxDelta: 8,
      minDelta: 0,
      firstTimeUs: 1,
      lastTimeUs: 2,
      onGrid: true,
      levels: [{ price: 12, buyVolume: 5, sellVolume: 0, buyTrades: 2, sellTrades: 0 }],
    } as const;
    const stored = [
      { price: 10, buyVolume: 3, sellVolume: 1, buyTrades: 1, sellTrades: 1 },
      { price: 11, buyVolume: 1, sellVolume: 0, buyTrades: 1, sellTrades: 0 },
      { price: 12, buyVolume: 2, sellVolume: 0, buyTrades: 1, sellTrades: 0 },
    ];
    const c = overlayStored({ ...snap, levels: [...snap.levels] }, stored);
    expect(c.levels).toEqual([stored[0], stored[1], snap.levels[0]]);
    expect(c.levels.reduce((n, l) => n + l.buyVolume, 0)).toBe(c.buyVolume);
    expect(overlayStored({ ...snap, levels: [...snap.levels] }, undefined).levels).toEqual([snap.levels[0]]);
  });
});

describe('LiveStream resync', () => {
  const candle = (openTime: number, price: number, qty: number) => ({
    timeframe: '1m' as const,
    openTime,
    step: 1,
    mode: 'nearest' as const,
    open: price,
    high: price,
    low: price,
    close: price,
    buyVolume: qty,
    sellVolume: 0,
    buyTrades: 1,
    sellTrades: 0,
    delta: qty,
    maxDelta: qty,
    minDelta: 0,
    firstTimeUs: openTime * 1000,
    lastTimeUs: openTime * 1000,
    onGrid: true,
    levels: [{ price, buyVolume: qty, sellVolume: 0, buyTrades: 1, sellTrades: 0 }],
  });
  const snapshot = (seq: number, candles: ReturnType<typeof candle>[]) => ({
    v: 1,
    exchange: 'x',
    symbol: 'y',
    epoch: 'e',
    scales: { priceScale: 0, quantityScale: 0, tick: 1 },
    timeframes: { '1m': { seq, candles } },
    session: null,
  });

  it('after a seq gap, the candles the owner no longer holds are read whole from ClickHouse and replace the stale ones', async () => {
    let onMsg: ((err: unknown, m: { string(): string }) => void) | null = null;
    const nc = {
      subscribe: (_s: string, o: { callback: typeof onMsg }) => (
        (onMsg = o.callback),
        { unsubscribe: () => undefined }
      ),
      flush: async () => undefined,
    };
    const snaps = [snapshot(1, [candle(0, 10, 1), candle(60_000, 11, 1)]), snapshot(9, [candle(180_000, 13, 1)])];
    const snapshots = { request: async () => snaps.shift()!, shardOf: () => 0 };
    const ranges: [number, number][] = [];
    // ClickHouse: minute 1 grew while the stream was out of sync, minute 2 opened and closed unseen
    const range = async (_e: string, _s: string, _tf: string, from: number, to: number) => {
      ranges.push([from, to]);
      return [candle(0, 10, 1), candle(60_000, 11, 5), candle(120_000, 12, 2)].filter(
        (c) => c.openTime >= from && c.openTime < to,
      );
    };
    const stream = new LiveStream(
      'x',
      'y',
      '1m',
      async () => nc as never,
      snapshots as never,
      async () => new Map(),
      { log: () => undefined, warn: () => undefined },
      { resync: () => undefined, malformed: () => undefined },
      range as never,
    );
    const events: string[] = [];
    stream.listen((ev) => events.push(`${ev.kind} ${ev.openTime}`));
    stream.start();
    await stream.ready(1000);
    expect(events).toEqual(['replace 0', 'replace 60000']);
    expect(ranges).toEqual([]);
    events.length = 0;
    // seq 5 after 1: a gap
    onMsg!(null, {
      string: () =>
        JSON.stringify({
          v: 1,
          exchange: 'x',
          symbol: 'y',
          timeframe: '1m',
          epoch: 'e',
          seq: 5,
          scales: { priceScale: 0, quantityScale: 0, tick: 1 },
          candle: candle(180_000, 13, 1),
          cells: [],
          session: null,
          sentAtMs: 1,
        }),
    });
    for (let i = 0; i < 50 && events.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
    expect(ranges).toEqual([[0, 180_000]]);
    expect(events).toEqual(['replace 0', 'replace 60000', 'replace 120000', 'replace 180000']);
    expect(stream.native.candles.get(60_000)!.summary.buyVolume).toBe(5);
    expect([...stream.native.candles.keys()].sort((a, b) => a - b)).toEqual([0, 60_000, 120_000, 180_000]);
    stream.stop();
  });

  it('an owner that holds nothing (a restarted shard before its first trade): held candles are read back from ClickHouse and kept, so the next snapshot reads back from them', async () => {
    let onMsg: ((err: unknown, m: { string(): string }) => void) | null = null;
    const nc = {
      subscribe: (_s: string, o: { callback: typeof onMsg }) => (
        (onMsg = o.callback),
        { unsubscribe: () => undefined }
      ),
      flush: async () => undefined,
    };
    const later = { ...snapshot(3, [candle(300_000, 15, 1)]), epoch: 'f' };
    const snaps: unknown[] = [
      snapshot(1, [candle(0, 10, 1), candle(60_000, 11, 1)]),
      { error: 'unknown-symbol', message: 'not held' },
      later,
    ];
    const snapshots = { request: async () => snaps.shift()!, shardOf: () => 0 };
    const ranges: [number, number][] = [];
    // ClickHouse: the old owner flushed more of minute 1 before it died; minutes 2-4 came from the new owner
    let stored = [candle(0, 10, 1), candle(60_000, 11, 4)];
    const range = async (_e: string, _s: string, _tf: string, from: number, to: number) => {
      ranges.push([from, to]);
      return stored.filter((c) => c.openTime >= from && c.openTime < to);
    };
    const stream = new LiveStream(
      'x',
      'y',
      '1m',
      async () => nc as never,
      snapshots as never,
      async () => new Map(),
      { log: () => undefined, warn: () => undefined },
      { resync: () => undefined, malformed: () => undefined },
      range as never,
    );
    const events: string[] = [];
    stream.listen((ev) => events.push(`${ev.kind} ${ev.openTime} ${ev.summary.buyVolume}`));
    stream.start();
    await stream.ready(1000);
    events.length = 0;
    const update = (epoch: string, seq: number) =>
      JSON.stringify({
        v: 1,
        exchange: 'x',
        symbol: 'y',
        timeframe: '1m',
        epoch,
        seq,
        scales: { priceScale: 0, quantityScale: 0, tick: 1 },
        candle: candle(300_000, 15, 1),
        cells: [],
        session: null,
        sentAtMs: 1,
      });
    // a seq gap: the owner is asked again and answers that it holds nothing
    onMsg!(null, { string: () => update('e', 7) });
    for (let i = 0; i < 50 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(ranges).toEqual([[0, 120_000]]);
    expect(events).toEqual(['replace 0 1', 'replace 60000 4']);
    expect(stream.native.openTimes()).toEqual([0, 60_000]);
    expect(stream.sync.epoch).toBeNull();
    // the new owner's first update: a new epoch, a snapshot that no longer holds minutes 0-4
    events.length = 0;
    stored = [
      candle(0, 10, 1),
      candle(60_000, 11, 6),
      candle(120_000, 12, 2),
      candle(180_000, 13, 3),
      candle(240_000, 14, 1),
    ];
    onMsg!(null, { string: () => update('f', 4) });
    for (let i = 0; i < 50 && events.length < 6; i++) await new Promise((r) => setTimeout(r, 10));
    expect(ranges).toEqual([
      [0, 120_000],
      [0, 300_000],
    ]);
    expect(events).toEqual([
      'replace 0 1',
      'replace 60000 6',
      'replace 120000 2',
      'replace 180000 3',
      'replace 240000 1',
      'replace 300000 1',
    ]);
    expect(stream.sync.epoch).toBe('f');
    stream.stop();
  });
});
