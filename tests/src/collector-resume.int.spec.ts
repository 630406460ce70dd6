/**
 * A collector stopped for longer than its start-up backfill window (COLLECTOR_BACKFILL_MINUTES=1)
 * while its simulator trades on, then started again: the real collector runtime, the real
 * simulators (a synthetic market replayed from 40 minutes ago, so that minutes of exchange time
 * pass in seconds), a real nats-server.
 *
 * - Binance, OKX: the stream ends equal to the simulator's history, id for id (price, quantity,
 *   side, time): the hole is filled from REST while the live stream queues behind it.
 * - OKX with REST history shorter than the hole: the ids REST no longer serves are exactly one
 *   unfilled gap, the rest is caught up.
 * - Bybit (REST: the newest 1000 linear trades only): a short stop is filled from that window; a
 *   long one leaves exactly one unfilled gap whose ids and times are the trades either side of
 *   what the simulator sent and the collector never got.
 */
import type { CollectorRuntime } from '@orderflow/collector';
import {
  bybitExecId,
  hashString,
  type SimHandle,
  type SimTrade,
  startBinanceSpotSim,
  startBybitSim,
  startOkxSim,
} from '@orderflow/exchange-sim';
import { formatFixedTrimmed, type Trade } from '@orderflow/footprint';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Cleanup,
  readEvents,
  readTrades,
  runCleanup,
  startCollector,
  startNatsWithStore,
  trimZeros,
  waitFor,
} from './support.js';

const MINUTE = 60_000;
/** OKX's own REST budget (a simulated exchange defaults to 6000): history-trades paced at 5 requests/s. */
const OKX_WEIGHT = { COLLECTOR_REST_WEIGHT_PER_MINUTE: '600' };

/**
 * A synthetic market replayed from 40 minutes ago: `rate` trades a second of exchange time, `replayRate` a second of
 * wall time.
 */
const market = (o: { rate: number; replayRate: number; count: number }) => ({
  mode: 'replay' as const,
  startTime: Date.now() - 40 * MINUTE,
  seed: 7,
  ...o,
});

interface Run {
  sim: SimHandle;
  natsUrl: string;
  env: Record<string, string>;
  cleanup: Cleanup;
}

async function collector(run: Run, tweak?: Parameters<typeof startCollector>[3]) {
  return startCollector(
    run.cleanup,
    run.natsUrl,
    { COLLECTOR_BACKFILL_MINUTES: '1', COLLECTOR_REST_URL: run.sim.restUrl, ...run.env },
    tweak,
  );
}

/** Stops a collector as SIGTERM does: the feed, then everything it published acknowledged. */
async function stop(runtime: CollectorRuntime): Promise<void> {
  await runtime.stop(10_000);
}

const produced = (sim: SimHandle) => sim.controls.stats().tradesProduced;

/** The stream's trades as [id, price, quantity, side, time µs], decimals as text. */
async function storedRows(nc: NatsConnection): Promise<{ rows: (string | number)[][]; trades: Trade[] }> {
  const { trades, scales } = await readTrades(nc);
  return {
    trades,
    rows: trades.map((t) => [
      t.id,
      formatFixedTrimmed(t.price, scales!.priceScale),
      formatFixedTrimmed(t.quantity, scales!.quantityScale),
      t.side,
      t.exchangeTimeUs,
    ]),
  };
}

const simRows = (history: readonly SimTrade[], id: (t: SimTrade) => string = (t) => String(t.id)) =>
  history.map((t) => [id(t), trimZeros(t.price), trimZeros(t.quantity), t.side, t.time * 1000]);

/** Waits until the stream holds `count` trades of the runtime's publisher, all acknowledged. */
async function settled(runtime: CollectorRuntime, nc: NatsConnection, count: number): Promise<void> {
  await waitFor(
    `${count} trades stored`,
    async () => runtime.publisher!.stats().buffered === 0 && (await readTrades(nc)).trades.length >= count,
    30_000,
  );
}

/** The catch-up figures of a resumed symbol, printed for the record. */
function report(label: string, runtime: CollectorRuntime) {
  const s = runtime.feed!.status().symbols[0]!;
  const c = s.catchUp;
  if (c)
    console.log(
      `[resume] ${label}: ${c.done} trades from REST in ${c.elapsedSeconds} s = ${c.ratePerSecond} trades/s (ids ${c.fromId}..${c.toId})`,
    );
  return s;
}

describe('collector: resume after a stop longer than the backfill window', () => {
  const cleanup: Cleanup = [];
  afterEach(() => runCleanup(cleanup));

  async function setUp(sim: SimHandle, env: Record<string, string>): Promise<Run> {
    cleanup.push(() => sim.stop());
    const nats = await startNatsWithStore(cleanup);
    return { sim, natsUrl: nats.url, env, cleanup };
  }

  it('Binance spot: the stream ends equal to the simulator history, id for id; the hole is recorded detected, then filled', async () => {
    const sim = await startBinanceSpotSim({
      symbols: ['BTCUSDT'],
      ...market({ rate: 20, replayRate: 5000, count: 30_000 }),
      startAfterClients: 1,
    });
    const run = await setUp(sim, {
      COLLECTOR_EXCHANGE: 'sim-binance',
      COLLECTOR_SYMBOLS: 'BTCUSDT',
      COLLECTOR_WS_URL: sim.wsUrl,
    });
    const a = await collector(run);
    await waitFor('collector A under way', () => a.runtime.publisher!.stats().tradesAcked >= 4000);
    await stop(a.runtime);
    const lastStored = (await readTrades(a.nc)).trades.at(-1)!;
    await waitFor(
      'the simulator trading on for 15,000 trades',
      () => produced(sim) >= Number(lastStored.id) - sim.controls.history('BTCUSDT')[0]!.id + 15_000,
    );
    const b = await collector(run);
    await sim.controls.replayFinished();
    const history = sim.controls.history('BTCUSDT');
    expect(history.length).toBe(30_000);
    await settled(b.runtime, b.nc, history.length);
    const { rows } = await storedRows(b.nc);
    expect(rows).toEqual(simRows(history));

    const s = report('binance spot', b.runtime);
    expect(s.start).toMatchObject({ from: 'stored', lastStoredId: lastStored.id });
    expect(s.catchUp).toMatchObject({ reason: 'resume', active: false, fromId: String(Number(lastStored.id) + 1) });
    expect(s.catchUp!.done).toBeGreaterThan(14_000);
    // longer than the backfill window in exchange time: a start at "now - 1 minute" could not have filled it
    const holeEnd = history.find((t) => t.id === Number(s.catchUp!.toId))!;
    expect(holeEnd.time * 1000 - lastStored.exchangeTimeUs).toBeGreaterThan(10 * MINUTE * 1000);
    // The hole opens at the stored trade and reaches the exchange's newest trade when the collector
    // asked; trades made before its WebSocket was subscribed form a second gap behind it. Every gap
    // is detected, then filled, and together they run from the stored trade to the catch-up's end.
    const { gaps } = await readEvents(b.nc);
    const ranges = (status: string) => gaps.filter((g) => g.status === status).map((g) => [g.fromId, g.toId]);
    expect(gaps.filter((g) => g.status !== 'detected' && g.status !== 'filled')).toEqual([]);
    expect(ranges('filled')).toEqual(ranges('detected'));
    const detected = gaps.filter((g) => g.status === 'detected');
    expect(detected.length).toBeGreaterThanOrEqual(1);
    expect(detected[0]).toMatchObject({
      fromId: s.catchUp!.fromId,
      fromTimeUs: lastStored.exchangeTimeUs,
      reason: `missed while the collector was stopped (after stored trade ${lastStored.id})`,
    });
    expect(detected.at(-1)!.toId).toBe(s.catchUp!.toId);
    for (const g of detected.slice(1)) expect(g.reason).toBe('id gap in the live stream');
  });

  it('OKX: the stream ends equal to the simulator history, id for id, paging history-trades under its rate limit', async () => {
    const sim = await startOkxSim({
      symbols: ['BTC-USDT'],
      ...market({ rate: 10, replayRate: 1500, count: 10_000 }),
      startAfterClients: 1,
    });
    const run = await setUp(sim, {
      COLLECTOR_EXCHANGE: 'sim-okx',
      COLLECTOR_SYMBOLS: 'BTC-USDT',
      COLLECTOR_WS_URL: sim.endpoints['business']!,
      ...OKX_WEIGHT,
    });
    const a = await collector(run);
    await waitFor('collector A under way', () => a.runtime.publisher!.stats().tradesAcked >= 2000);
    await stop(a.runtime);
    const lastStored = (await readTrades(a.nc)).trades.at(-1)!;
    const first = sim.controls.history('BTC-USDT')[0]!.id;
    await waitFor(
      'the simulator trading on for 4,000 trades',
      () => produced(sim) >= Number(lastStored.id) - first + 4000,
    );
    const b = await collector(run);
    await sim.controls.replayFinished();
    const history = sim.controls.history('BTC-USDT');
    await settled(b.runtime, b.nc, history.length);
    const { rows } = await storedRows(b.nc);
    expect(rows).toEqual(simRows(history));
    const s = report('okx', b.runtime);
    expect(s.catchUp).toMatchObject({ reason: 'resume', active: false, fromId: String(Number(lastStored.id) + 1) });
    expect(s.catchUp!.done).toBeGreaterThan(3500);
    const { gaps } = await readEvents(b.nc);
    expect(gaps.filter((g) => g.status === 'unfilled')).toEqual([]);
    expect(gaps.filter((g) => g.status === 'filled').map((g) => g.fromId)).toContain(String(Number(lastStored.id) + 1));
  });

  it("OKX: ids older than REST's history (the simulator keeps 1,500 trades) are exactly one unfilled gap; the rest is caught up", async () => {
    const sim = await startOkxSim({
      symbols: ['BTC-USDT'],
      ...market({ rate: 10, replayRate: 2000, count: 8000 }),
      historyLimit: 1500,
      startAfterClients: 1,
    });
    const run = await setUp(sim, {
      COLLECTOR_EXCHANGE: 'sim-okx',
      COLLECTOR_SYMBOLS: 'BTC-USDT',
      COLLECTOR_WS_URL: sim.endpoints['business']!,
      ...OKX_WEIGHT,
    });
    const a = await collector(run);
    await waitFor('collector A under way', () => a.runtime.publisher!.stats().tradesAcked >= 1000);
    await stop(a.runtime);
    const before = (await readTrades(a.nc)).trades;
    const lastStored = before.at(-1)!;
    const firstId = Number(before[0]!.id);
    await waitFor(
      'the simulator trading on for 4,000 trades',
      () => produced(sim) >= Number(lastStored.id) - firstId + 4000,
    );
    // The market holds still while the collector catches up: at 2,000 trades/s the simulator's
    // 1,500 trades would roll past a catch-up paced at 5 requests/s (OKX's 3 months do not).
    sim.controls.pause();
    const b = await collector(run);
    await waitFor('the catch-up done', () => b.runtime.feed!.status().symbols[0]!.catchUp?.active === false, 30_000);
    sim.controls.resume();
    await sim.controls.replayFinished();
    const lastId = sim.controls.stats().markets[0]!.lastId!;
    await waitFor(
      'the last id stored',
      async () =>
        b.runtime.publisher!.stats().buffered === 0 && (await readTrades(b.nc)).trades.at(-1)?.id === String(lastId),
      30_000,
    );

    const { trades, rows } = await storedRows(b.nc);
    const { gaps } = await readEvents(b.nc);
    const unfilled = gaps.filter((g) => g.status === 'unfilled');
    expect(unfilled).toHaveLength(1);
    const g = unfilled[0]!;
    // every id from the first to the last is either stored once or in the gap, never both
    const ids = trades.map((t) => Number(t.id));
    const missing: number[] = [];
    for (let id = firstId, i = 0; id <= lastId; id++) {
      if (ids[i] === id) i++;
      else missing.push(id);
    }
    expect(ids.length + missing.length).toBe(lastId - firstId + 1);
    expect([missing[0], missing.at(-1), missing.length]).toEqual([
      Number(lastStored.id) + 1,
      Number(g.toId),
      Number(g.toId) - Number(lastStored.id),
    ]);
    expect(g).toMatchObject({
      fromId: String(Number(lastStored.id) + 1),
      missing: missing.length,
      fromTimeUs: lastStored.exchangeTimeUs,
      reason: `resume after id ${lastStored.id}: sim-okx's REST history does not reach back before id ${Number(g.toId) + 1}`,
    });
    // its end is the first trade REST still served, stored with its time
    const after = trades.find((t) => Number(t.id) === Number(g.toId) + 1)!;
    expect(g.toTimeUs).toBe(after.exchangeTimeUs);
    // what is stored after the gap equals the simulator's history from there
    const history = sim.controls.history('BTC-USDT');
    expect(rows.slice(rows.length - history.length)).toEqual(simRows(history));
    const s = report('okx, REST history 1,500 trades', b.runtime);
    expect(s.start).toMatchObject({ from: 'stored', unfilled: { fromId: g.fromId, toId: g.toId } });
    expect(s.catchUp).toMatchObject({ reason: 'resume', fromId: String(Number(g.toId) + 1), done: 1499 });
  });

  it('Bybit linear: a short stop is filled from the recent-trade window; a long one is exactly one unfilled gap between the trades either side', async () => {
    const sim = await startBybitSim({
      categories: ['linear'],
      symbols: ['BTCUSDT'],
      ...market({ rate: 10, replayRate: 2500, count: 14_000 }),
      startAfterClients: 1,
    });
    const run = await setUp(sim, {
      COLLECTOR_EXCHANGE: 'sim-bybit-linear',
      COLLECTOR_SYMBOLS: 'BTCUSDT',
      COLLECTOR_WS_URL: `${sim.wsUrl}/v5/public/linear`,
    });
    const execId = (t: SimTrade) => bybitExecId(hashString('linear:BTCUSDT'), t.id);

    const a = await collector(run);
    await waitFor('collector A under way', () => a.runtime.publisher!.stats().tradesAcked >= 2000);
    await stop(a.runtime);
    // a short stop: 300 trades, within the newest 1000 that REST serves
    const at = produced(sim);
    await waitFor('300 trades more', () => produced(sim) >= at + 300);
    sim.controls.pause();
    const b = await collector(run);
    await waitFor('B recovered', () => b.runtime.feed!.status().symbols[0]!.start?.recovered !== undefined);
    expect(b.runtime.feed!.status().symbols[0]!.start).toMatchObject({ from: 'stored' });
    expect(b.runtime.feed!.status().symbols[0]!.start!.unfilled).toBeUndefined();
    sim.controls.resume();
    await waitFor('collector B under way', () => b.runtime.publisher!.stats().tradesAcked >= 2000);
    await stop(b.runtime);
    const lastStored = (await readTrades(b.nc)).trades.at(-1)!;
    // a long stop: 6,000 trades (10 minutes of exchange time), the simulator trading on while C starts
    const at2 = produced(sim);
    await waitFor('6,000 trades more', () => produced(sim) >= at2 + 6000);
    const c = await collector(run);
    await sim.controls.replayFinished();
    const history = sim.controls.history('BTCUSDT', 'linear');
    expect(history.length).toBe(14_000);

    const { gaps } = await readEvents(c.nc);
    const unfilled = gaps.filter((g) => g.status === 'unfilled');
    expect(unfilled).toHaveLength(1);
    const g = unfilled[0]!;
    const ids = history.map(execId);
    const from = ids.indexOf(g.fromId);
    const to = ids.indexOf(g.toId);
    // the gap runs from the last stored trade to the first one REST still had
    expect(g.fromId).toBe(lastStored.id);
    expect([g.fromTimeUs, g.toTimeUs]).toEqual([history[from]!.time * 1000, history[to]!.time * 1000]);
    expect(to - from - 1).toBeGreaterThan(4000);
    expect(g.reason).toMatch(
      /^resume after stored trade .*older than Bybit's recent-trade window \(the newest 1000 trades\)/,
    );
    // the stream is the history without exactly the trades strictly between them
    const want = [...history.slice(0, from + 1), ...history.slice(to)];
    await settled(c.runtime, c.nc, want.length);
    const { rows } = await storedRows(c.nc);
    expect(rows).toEqual(simRows(want, execId));
    const s = c.runtime.feed!.status().symbols[0]!;
    expect(s.start).toMatchObject({
      from: 'stored',
      lastStoredId: lastStored.id,
      recovered: 1000,
      unfilled: { fromId: g.fromId, toId: g.toId },
    });
  });
});
