import { describe, expect, it } from 'vitest';
import type { SnapshotMessage, SubscribeRequest, UpdateMessage } from '@orderflow/contracts';
import { type GatewayAdapter, GatewayRequestError, type LiveHandlers } from '../protocol/gateway.protocol.js';
import { type ChangeKind, LiveController } from './live.controller.js';

class FakeAdapter implements GatewayAdapter {
  h!: LiveHandlers;
  subscribed: SubscribeRequest[] = [];
  unsubscribed: string[] = [];
  refuse: string | null = null;
  private n = 0;
  connect(h: LiveHandlers) {
    this.h = h;
  }
  subscribe(req: SubscribeRequest) {
    this.subscribed.push(req);
    if (this.refuse) return Promise.reject(new GatewayRequestError('unknown-symbol', this.refuse));
    return Promise.resolve(`s${++this.n}`);
  }
  unsubscribe(id: string) {
    this.unsubscribed.push(id);
  }
  instruments() {
    return Promise.resolve({ instruments: [], merged: [] });
  }
  completeness() {
    return Promise.resolve([]);
  }
  vwap() {
    return Promise.resolve([]);
  }
  close() {
    this.unsubscribed.push('(closed)');
  }
}

const snap = (id: string, req: SubscribeRequest, epoch = 'e'): SnapshotMessage => ({
  subscriptionId: id,
  seq: 0,
  epoch,
  exchange: req.exchange,
  symbol: req.symbol,
  timeframe: req.timeframe,
  ticks: req.ticks,
  mode: 'nearest',
  step: req.ticks,
  scales: { priceScale: 2, quantityScale: 5, tick: 1 },
  members: [],
  live: true,
  history: true,
  candles: [
    {
      openTime: 0,
      open: 100,
      high: 100,
      low: 100,
      close: 100,
      buyVolume: 1,
      sellVolume: 0,
      buyTrades: 1,
      sellTrades: 0,
      delta: 1,
      maxDelta: 1,
      minDelta: 0,
      poc: 100,
      vah: 100,
      val: 100,
      cells: [[100, 1, 0, 1, 0]],
    },
  ],
  session: null,
  sentAtMs: 0,
});
const upd = (id: string, seq: number, qty: number, epoch = 'e'): UpdateMessage => ({
  subscriptionId: id,
  seq,
  epoch,
  candle: {
    openTime: 0,
    open: 100,
    high: 100,
    low: 100,
    close: 100,
    buyVolume: qty,
    sellVolume: 0,
    buyTrades: seq + 1,
    sellTrades: 0,
    delta: qty,
    maxDelta: qty,
    minDelta: 0,
    poc: 100,
    vah: 100,
    val: 100,
  },
  cells: [[100, qty, 0, seq + 1, 0]],
  replace: false,
  session: null,
  lastTradeUs: null,
  sourceSentAtMs: null,
  sentAtMs: 0,
});
const tick = () => new Promise((r) => setTimeout(r, 0));
const REQ = { exchange: 'binance', symbol: 'BTCUSDT', timeframe: '1m' as const, ticks: 10, candles: 50 };

function setup() {
  const a = new FakeAdapter();
  const frames: (() => void)[] = [];
  const changes: ChangeKind[] = [];
  const c = new LiveController(
    a,
    (k) => changes.push(k),
    (cb) => frames.push(cb),
  );
  c.start();
  a.h.connection('connected');
  return { a, frames, changes, c };
}

describe('LiveController', () => {
  it('applies a burst of updates once per animation frame, in order', async () => {
    const { a, frames, changes, c } = setup();
    c.follow(REQ);
    await tick();
    a.h.snapshot(snap('s1', a.subscribed[0]!));
    for (let i = 1; i <= 500; i++) a.h.update(upd('s1', i, i * 10));
    expect(c.store.seq).toBe(0); // nothing applied before the frame
    expect(frames).toHaveLength(1);
    frames.shift()!();
    expect(c.store.seq).toBe(500);
    expect(c.store.candles[0]!.cells).toEqual([[100, 5000, 0, 501, 0]]);
    expect(changes.filter((k) => k === 'live')).toHaveLength(1);
  });

  it('re-subscribes (a fresh snapshot) when updates stop lining up', async () => {
    const { a, frames, c } = setup();
    c.follow(REQ);
    await tick();
    a.h.snapshot(snap('s1', a.subscribed[0]!));
    a.h.update(upd('s1', 1, 1));
    a.h.update(upd('s1', 3, 3)); // 2 is missing
    frames.shift()!();
    expect(c.resyncs).toBe(1);
    expect(a.subscribed).toHaveLength(2);
    expect(a.unsubscribed).toContain('s1');
    await tick();
    a.h.snapshot(snap('s2', a.subscribed[1]!));
    expect(c.store.subscriptionId).toBe('s2');
    expect(c.loading).toBe(false);
  });

  it('subscribes again after a reconnect, and shows refusals and connection problems in words', async () => {
    const { a, c } = setup();
    c.follow(REQ);
    await tick();
    a.h.connection('reconnecting', 'cannot reach the gateway');
    expect(c.connection).toBe('reconnecting');
    expect(c.connectionDetail).toBe('cannot reach the gateway');
    a.h.connection('connected');
    expect(a.subscribed).toHaveLength(2);
    a.refuse = 'symbol "NOPE" is not known on binance';
    c.follow({ ...REQ, symbol: 'NOPE' });
    await tick();
    expect(c.error).toEqual({ code: 'unknown-symbol', reason: 'symbol "NOPE" is not known on binance' });
    expect(c.loading).toBe(false);
  });

  it('ignores a snapshot of a request it no longer follows', async () => {
    const { a, c } = setup();
    c.follow(REQ);
    c.follow({ ...REQ, timeframe: '5m' });
    await tick();
    a.h.snapshot(snap('s1', a.subscribed[0]!));
    expect(c.store.subscriptionId).toBeNull();
    expect(a.unsubscribed).toContain('s1');
    a.h.snapshot(snap('s2', a.subscribed[1]!));
    expect(c.store.view?.timeframe).toBe('5m');
  });

  it('re-groups at once where exact while the new grouping is subscribed', async () => {
    const { a, changes, c } = setup();
    c.follow({ ...REQ, ticks: 1 });
    await tick();
    a.h.snapshot(snap('s1', a.subscribed[0]!));
    c.follow({ ...REQ, ticks: 25 });
    expect(changes).toContain('regroup');
    expect(c.store.view?.ticks).toBe(25);
    expect(c.store.candles[0]!.cells).toEqual([[100, 1, 0, 1, 0]]);
    expect(a.subscribed[1]!.ticks).toBe(25);
  });
});
