/**
 * The collector on Binance spot (simulated): a clean replay of the spot recording, connections
 * replaced on schedule while trades flow (the 24 h cut-off, compressed), and the start-up backfill
 * of the minutes before the collector started.
 */
import { startBinanceSpotSim } from '@orderflow/exchange-sim';
import { formatFixedTrimmed } from '@orderflow/footprint';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Cleanup,
  SHARED_DATA,
  allAcknowledged,
  needsSharedData,
  readTradeJsonl,
  readTrades,
  runCleanup,
  startCollector,
  startNatsWithStore,
  trimZeros,
  waitFor,
} from './support.js';

const FILE = 'binance-spot_BTCUSDT_trade-ws_2024-08-08T2354.jsonl';

describe('collector: Binance spot (simulated)', () => {
  const cleanup: Cleanup = [];
  afterEach(() => runCleanup(cleanup));

  it('replays the spot recording exactly, while the connection is replaced on schedule', needsSharedData, async () => {
    const want = readTradeJsonl(FILE);
    expect(want.length).toBe(19_904);
    const nats = await startNatsWithStore(cleanup);
    const sim = await startBinanceSpotSim({
      replay: { file: SHARED_DATA + FILE },
      replayRate: 4_000,
      startAfterClients: 1,
    });
    cleanup.push(() => sim.stop());
    const { runtime, nc, lines } = await startCollector(
      cleanup,
      nats.url,
      {
        COLLECTOR_EXCHANGE: 'sim-binance',
        COLLECTOR_SYMBOLS: 'BTCUSDT',
        COLLECTOR_WS_URL: sim.wsUrl,
        COLLECTOR_REST_URL: sim.restUrl,
      },
      (c) => (c.plannedReconnectMs = 1_000), // Binance cuts at 24 h; here every second
    );
    await sim.controls.replayFinished();
    await allAcknowledged(runtime, want.length);
    const { trades, scales } = await readTrades(nc);
    expect(
      trades.map((t) => [
        t.id,
        formatFixedTrimmed(t.price, scales!.priceScale),
        formatFixedTrimmed(t.quantity, scales!.quantityScale),
        t.side,
      ]),
    ).toEqual(want.map((w) => [w.id, trimZeros(w.price), trimZeros(w.quantity), w.side]));
    expect(lines.filter((l) => l.includes('planned reconnect done')).length).toBeGreaterThanOrEqual(2);
    expect(runtime.feed!.status().counters.reconnects).toBe(0); // replaced, never lost
  });

  it('backfills the minutes before it started from REST, then goes on live without a hole', async () => {
    // A live synthetic market (timestamps = now) that trades for a while before the collector starts.
    const sim = await startBinanceSpotSim({ symbols: ['ETHUSDT'], rate: 300, seed: 7 });
    cleanup.push(() => sim.stop());
    await waitFor('trades before the collector starts', () => sim.controls.history('ETHUSDT').length > 500);
    const nats = await startNatsWithStore(cleanup);
    const { runtime, nc } = await startCollector(cleanup, nats.url, {
      COLLECTOR_EXCHANGE: 'sim-binance',
      COLLECTOR_SYMBOLS: 'ETHUSDT',
      COLLECTOR_WS_URL: sim.wsUrl,
      COLLECTOR_REST_URL: sim.restUrl,
      COLLECTOR_BACKFILL_MINUTES: '5',
    });
    await waitFor(
      'live trades after the backfill',
      () => runtime.feed!.status().counters.trades > sim.controls.history('ETHUSDT').length * 0.5 + 800,
    );
    sim.controls.pause();
    const history = sim.controls.history('ETHUSDT');
    await allAcknowledged(runtime, history.length);
    const { trades } = await readTrades(nc);
    expect(trades.map((t) => t.id)).toEqual(history.map((h) => String(h.id)));
    expect(runtime.feed!.status().counters.backfilledTrades).toBeGreaterThan(400);
  });
});
