/**
 * The collector on Binance spot (simulated): a clean replay of the spot recording, connections
 * replaced on schedule while trades flow (the 24 h cut-off, compressed), and the start-up backfill
 * of the minutes before the collector started.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CollectorRuntime, loadCollectorConfig } from '@orderflow/collector';
import { type BinanceSimOptions, type SimHandle, startBinanceSpotSim } from '@orderflow/exchange-sim';
import { formatFixedTrimmed } from '@orderflow/footprint';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { SHARED_DATA, connectTo, haveSharedData, quietLogger, readTradeJsonl, readTrades, startNats, trimZeros, waitFor } from './support.js';

const FILE = 'binance-spot_BTCUSDT_trade-ws_2024-08-08T2354.jsonl';

describe('collector: Binance spot (simulated)', () => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    cleanup = [];
  });

  async function setUp(sim: BinanceSimOptions, env: Record<string, string>, tweak?: (c: ReturnType<typeof loadCollectorConfig>) => void) {
    const storeDir = mkdtempSync(join(tmpdir(), 'orderflow-system-nats-'));
    cleanup.push(async () => rmSync(storeDir, { recursive: true, force: true }));
    const nats = await startNats({ storeDir });
    cleanup.push(() => nats.stop());
    const handle: SimHandle = await startBinanceSpotSim(sim);
    cleanup.push(() => handle.stop());
    const config = loadCollectorConfig({ COLLECTOR_EXCHANGE: 'sim-binance', COLLECTOR_WS_URL: handle.wsUrl, COLLECTOR_REST_URL: handle.restUrl, NATS_URL: nats.url, ...env });
    tweak?.(config);
    const lines: string[] = [];
    const logger = { log: (m: string) => void lines.push(m), warn: (m: string) => void lines.push(m), error: (m: string) => void lines.push(m) };
    const runtime = new CollectorRuntime(config, process.env['SYSTEM_TEST_LOGS'] ? { log: console.log, warn: console.warn, error: console.error } : logger);
    cleanup.push(() => runtime.stop(10_000));
    await runtime.start();
    const nc: NatsConnection = await connectTo(nats.url);
    cleanup.push(() => nc.close());
    return { sim: handle, runtime, nc, lines };
  }

  it.skipIf(!haveSharedData)('replays the spot recording exactly, while the connection is replaced on schedule', async () => {
    const want = readTradeJsonl(FILE);
    expect(want.length).toBe(19_904);
    const { sim, runtime, nc, lines } = await setUp(
      { replay: { file: SHARED_DATA + FILE }, replayRate: 4_000, startAfterClients: 1 },
      { COLLECTOR_SYMBOLS: 'BTCUSDT', COLLECTOR_BACKFILL_MINUTES: '0' },
      (c) => (c.plannedReconnectMs = 1_000), // Binance cuts at 24 h; here every second
    );
    await sim.controls.replayFinished();
    await waitFor('every trade acknowledged', () => runtime.publisher!.stats().tradesAcked >= want.length && runtime.publisher!.stats().buffered === 0);
    const { trades, scales } = await readTrades(nc);
    expect(trades.map((t) => [t.id, formatFixedTrimmed(t.price, scales!.priceScale), formatFixedTrimmed(t.quantity, scales!.quantityScale), t.side])).toEqual(
      want.map((w) => [w.id, trimZeros(w.price), trimZeros(w.quantity), w.side]),
    );
    expect(lines.filter((l) => l.includes('planned reconnect done')).length).toBeGreaterThanOrEqual(2);
    expect(runtime.feed!.status().counters.reconnects).toBe(0); // replaced, never lost
  });

  it('backfills the minutes before it started from REST, then goes on live without a hole', async () => {
    // A live synthetic market (timestamps = now) that trades for a while before the collector starts.
    const storeDir = mkdtempSync(join(tmpdir(), 'orderflow-system-nats-'));
    cleanup.push(async () => rmSync(storeDir, { recursive: true, force: true }));
    const sim = await startBinanceSpotSim({ symbols: ['ETHUSDT'], rate: 300, seed: 7 });
    cleanup.push(() => sim.stop());
    await waitFor('trades before the collector starts', () => sim.controls.history('ETHUSDT').length > 500);
    const nats = await startNats({ storeDir });
    cleanup.push(() => nats.stop());
    const config = loadCollectorConfig({ COLLECTOR_EXCHANGE: 'sim-binance', COLLECTOR_SYMBOLS: 'ETHUSDT', COLLECTOR_WS_URL: sim.wsUrl, COLLECTOR_REST_URL: sim.restUrl, COLLECTOR_BACKFILL_MINUTES: '5', NATS_URL: nats.url });
    const runtime = new CollectorRuntime(config, quietLogger);
    cleanup.push(() => runtime.stop(10_000));
    await runtime.start();
    await waitFor('live trades after the backfill', () => runtime.feed!.status().counters.trades > sim.controls.history('ETHUSDT').length * 0.5 + 800);
    sim.controls.pause();
    const history = sim.controls.history('ETHUSDT');
    await waitFor('every trade acknowledged', () => runtime.publisher!.stats().tradesAcked >= history.length && runtime.publisher!.stats().buffered === 0);
    const nc = await connectTo(nats.url);
    cleanup.push(() => nc.close());
    const { trades } = await readTrades(nc);
    expect(trades.map((t) => t.id)).toEqual(history.map((h) => String(h.id)));
    expect(runtime.feed!.status().counters.backfilledTrades).toBeGreaterThan(400);
  });
});
