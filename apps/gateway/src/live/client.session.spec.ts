import { GroupedView, NativeCandles } from '@orderflow/candle-views';
import type { LiveUpdate, UpdateMessage } from '@orderflow/contracts';
import { FootprintCandle, type Side } from '@orderflow/footprint';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GatewayLimits } from '../config/gateway.config.js';
import { singleView } from '../instruments/instrument.view.js';
import { GatewayMetrics } from '../metrics/gateway.metrics.js';
import { summaryOf } from '../testing/summary.js';
import { ClientSession, type LiveSocket } from './client.session.js';
import { FlushClock } from './flush-clock.js';
import type { LiveHub, Subscription, ViewEntry } from './live.hub.js';

const LIMITS: GatewayLimits = {
  maxClients: 10,
  subscriptionsPerClient: 5,
  messagesPerSecond: 100,
  maxCandles: 100,
  maxExportCandles: 100,
  conflationMs: 0,
  maxBufferedBytes: 1 << 20,
  slowClientTimeoutMs: 60_000,
  maxPendingCandles: 1000,
};

/** A socket that decodes what the session writes (pre-encoded packets or emits) into updates. */
function fakeSocket(bufferedAmount: () => number) {
  const updates: UpdateMessage[] = [];
  const socket = {
    id: 'x',
    conn: {
      writeBuffer: [],
      transport: {
        socket: {
          get bufferedAmount() {
            return bufferedAmount();
          },
        },
      },
      on: () => undefined,
      off: () => undefined,
    },
    client: {
      _packet(packets: string[]) {
        for (const p of packets) {
          expect(p.startsWith('2[')).toBe(true);
          const [event, msg] = JSON.parse(p.slice(1)) as [string, UpdateMessage];
          expect(event).toBe('update');
          updates.push(msg);
        }
      },
    },
    emit(event: string, msg: UpdateMessage) {
      if (event === 'update') updates.push(msg);
    },
  };
  return { socket: socket as unknown as LiveSocket, updates };
}

describe('ClientSession', () => {
  it('a connection flushed after every change and one that conflates (incl. replaces) both end with the view', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            price: fc.integer({ min: 100, max: 130 }),
            qty: fc.integer({ min: 1, max: 9 }),
            side: fc.constantFrom<Side>('buy', 'sell'),
            dt: fc.integer({ min: 0, max: 30_000 }),
            flush: fc.boolean(),
            reset: fc.integer({ min: 0, max: 30 }),
          }),
          { minLength: 1, maxLength: 120 },
        ),
        fc.integer({ min: 1, max: 5 }),
        (steps, ticks) => {
          const view0 = singleView({ exchange: 'x', symbol: 'y', priceScale: 2, quantityScale: 3, tick: 1 });
          const view = new GroupedView('k', view0.members, '1m', ticks, 'nearest', Date.now, 365 * 86_400_000);
          const entry = { view } as unknown as ViewEntry;
          const hub = { session: () => null, release: () => undefined } as unknown as LiveHub;
          const metrics = new GatewayMetrics({
            clients: () => 0,
            subscriptions: () => 0,
            streams: () => 0,
            views: () => 0,
            congestedClients: () => 0,
            pendingCandles: () => 0,
          });
          const logger = { warn: () => undefined, error: () => undefined };
          const a = fakeSocket(() => 0);
          const b = fakeSocket(() => 0);
          const sa = new ClientSession(a.socket, hub, LIMITS, metrics, logger);
          const sb = new ClientSession(b.socket, hub, LIMITS, metrics, logger);
          const subA = { id: 'a', epoch: 'e', seq: 0, active: true, entry } as unknown as Subscription;
          const subB = { id: 'b', epoch: 'e', seq: 0, active: true, entry } as unknown as Subscription;
          const native = new NativeCandles('1m', 365 * 86_400_000);
          const candles = new Map<number, FootprintCandle>();
          let time = Date.UTC(2024, 0, 1) * 1000;
          let seq = 0;
          const deliver = (evs: ReturnType<NativeCandles['reset']>) => {
            for (const ev of evs) {
              const ch = view.apply(0, ev, native.candles.get(ev.openTime), 1);
              if (ch) {
                sa.push(subA, ch);
                sb.push(subB, ch);
              }
            }
          };
          for (const s of steps) {
            time += s.dt * 1000;
            const open = (time - (time % 60_000_000)) / 1000;
            let c = candles.get(open);
            if (!c) candles.set(open, (c = new FootprintCandle('1m', open)));
            c.add(s.price, s.qty, s.side, time);
            if (s.reset === 0) deliver(native.reset([...candles.values()].map((x) => x.toData())));
            else {
              const u = {
                v: 1,
                exchange: 'x',
                symbol: 'y',
                timeframe: '1m',
                epoch: 'e',
                seq: ++seq,
                scales: view0.scales,
                candle: summaryOf(c),
                cells: [{ ...c.levels.get(s.price)! }],
                session: null,
                sentAtMs: 1,
              } as unknown as LiveUpdate;
              const ev = native.apply(u);
              if ('refused' in ev) deliver(native.reset([...candles.values()].map((x) => x.toData())));
              else deliver([ev]);
            }
            sa.flush();
            if (s.flush) sb.flush();
          }
          sb.flush();
          const state = (updates: UpdateMessage[]) => {
            const m = new Map<number, Map<number, number[]>>();
            for (const u of updates) {
              let c = m.get(u.candle.openTime);
              if (!c || u.replace) m.set(u.candle.openTime, (c = new Map()));
              for (const x of u.cells) c.set(x[0], x);
            }
            return [...m].flatMap(([t, c]) => [...c.values()].map((x) => `${t} ${x.join(' ')}`)).sort();
          };
          const truth = view
            .openTimes()
            .flatMap((t) => view.cells(t, null).map((x) => `${t} ${x.join(' ')}`))
            .sort();
          expect(state(a.updates)).toEqual(truth);
          expect(state(b.updates)).toEqual(truth);
          expect(a.updates.map((u) => u.seq)).toEqual(a.updates.map((_, i) => i + 1));
          expect(b.updates.length).toBeLessThanOrEqual(a.updates.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes nothing to a socket that holds too much, and disconnects it after the timeout', () => {
    let buffered = 10 << 20;
    const f = fakeSocket(() => buffered);
    let disconnected = false;
    (f.socket as unknown as { disconnect: () => void }).disconnect = () => (disconnected = true);
    const view = new GroupedView(
      'k',
      singleView({ exchange: 'x', symbol: 'y', priceScale: 0, quantityScale: 0, tick: 1 }).members,
      '1m',
      1,
      'nearest',
      Date.now,
    );
    const hub = { session: () => null, release: () => undefined } as unknown as LiveHub;
    const metrics = new GatewayMetrics({
      clients: () => 0,
      subscriptions: () => 0,
      streams: () => 0,
      views: () => 0,
      congestedClients: () => 0,
      pendingCandles: () => 0,
    });
    const s = new ClientSession(f.socket, hub, { ...LIMITS, slowClientTimeoutMs: 1000 }, metrics, {
      warn: () => undefined,
      error: () => undefined,
    });
    const sub = { id: 'a', epoch: 'e', seq: 0, active: true, entry: { view } } as unknown as Subscription;
    const c = new FootprintCandle('1m', 0);
    c.add(5, 1, 'buy', 1);
    const ch = view.apply(
      0,
      { kind: 'replace', openTime: 0, summary: summaryOf(c), levels: c.toData().levels },
      undefined,
      null,
    )!;
    s.push(sub, ch);
    s.flush();
    expect(f.updates).toEqual([]);
    expect(s.congestedSince).not.toBeNull();
    buffered = 0;
    s.flush();
    expect(f.updates).toHaveLength(1);
    buffered = 10 << 20;
    s.push(sub, ch);
    s.congestedSince = Date.now() - 2000;
    s.flush();
    expect(disconnected).toBe(true);
    s.close();
  });

  it('connections flushed in the same pass share one encoding of the same run of changes; a shorter run gets its own, and all end exact', async () => {
    const view = new GroupedView(
      'k',
      singleView({ exchange: 'x', symbol: 'y', priceScale: 0, quantityScale: 0, tick: 1 }).members,
      '1m',
      1,
      'nearest',
      Date.now,
    );
    const hub = { session: () => null, release: () => undefined } as unknown as LiveHub;
    const metrics = new GatewayMetrics({
      clients: () => 0,
      subscriptions: () => 0,
      streams: () => 0,
      views: () => 0,
      congestedClients: () => 0,
      pendingCandles: () => 0,
    });
    const logger = { warn: () => undefined, error: () => undefined };
    const clock = new FlushClock(50);
    const sockets = [fakeSocket(() => 0), fakeSocket(() => 0), fakeSocket(() => 0)];
    const sessions = sockets.map(
      (f) => new ClientSession(f.socket, hub, { ...LIMITS, conflationMs: 50 }, metrics, logger, clock),
    );
    const subs = sessions.map(
      (_, i) => ({ id: `s${i}`, epoch: 'e', seq: 0, active: true, entry: { view } }) as unknown as Subscription,
    );
    const native = new NativeCandles('1m', 365 * 86_400_000);
    const c = new FootprintCandle('1m', 0);
    let seq = 0;
    const trade = (price: number, who: number[]) => {
      c.add(price, 1 + (price % 3), price % 2 === 0 ? 'buy' : 'sell', 1 + seq);
      const ev =
        seq === 0
          ? native.reset([c.toData()])[0]!
          : native.apply({
              v: 1,
              exchange: 'x',
              symbol: 'y',
              timeframe: '1m',
              epoch: 'e',
              seq,
              scales: { priceScale: 0, quantityScale: 0, tick: 1 },
              candle: summaryOf(c),
              cells: [{ ...c.levels.get(price)! }],
              session: null,
              sentAtMs: 1,
            } as unknown as LiveUpdate);
      seq++;
      if ('refused' in ev) throw new Error('refused');
      const ch = view.apply(0, ev, native.candles.get(0), 1)!;
      for (const i of who) sessions[i]!.push(subs[i]!, ch);
    };
    // connections 0 and 1 follow every change; connection 2 joins after the first two (a later first change)
    trade(10, [0, 1]);
    trade(11, [0, 1]);
    trade(12, [0, 1, 2]);
    trade(10, [0, 1, 2]);
    clock.pass();
    const count = async (shared: string) =>
      (await metrics.updateEncodings.get()).values.find((v) => v.labels['shared'] === shared)?.value ?? 0;
    expect(await count('no')).toBe(2);
    expect(await count('yes')).toBe(1);
    const [u0, u1, u2] = sockets.map((f) => f.updates);
    expect(u0).toHaveLength(1);
    expect({ ...u1![0]!, subscriptionId: 's0' }).toEqual(u0![0]);
    const cellsOf = (u: UpdateMessage) => u.cells.map((x) => x.join(' '));
    const truth = (prices: number[]) => view.cells(0, prices).map((x) => x.join(' '));
    // the full run changed 10, 11 and 12 (10 was a replace: the first change of the candle); the later run 12 and 10
    expect(u0![0]!.replace).toBe(true);
    expect(cellsOf(u0![0]!)).toEqual(truth([10, 11, 12]));
    expect(u2![0]!.replace).toBe(false);
    expect(cellsOf(u2![0]!)).toEqual(truth([10, 12]));
  });
});
