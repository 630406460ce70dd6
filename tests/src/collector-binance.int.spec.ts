/**
 * The real collector (CollectorRuntime: the code main.ts runs) against the Binance USDT-M
 * simulator replaying a real recording, publishing onto a real nats-server. What lands in
 * JetStream must equal the recording exactly: count, ids, price, quantity, aggressor side, in
 * order, no duplicates, whatever happens to the connections on the way.
 */
import type { CollectorRuntime } from '@orderflow/collector';
import { formatFixedTrimmed } from '@orderflow/footprint';
import { type SimHandle, startBinanceFuturesSim } from '@orderflow/exchange-sim';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Cleanup,
  type RecordedTrade,
  SHARED_DATA,
  allAcknowledged,
  needsSharedData,
  readEvents,
  readTradeJsonl,
  readTrades,
  runCleanup,
  startCollector,
  startNats,
  startNatsWithStore,
  trimZeros,
  waitFor,
} from './support.js';

const FILE = 'binance-futures_BTCUSDT_trade-ws_2024-08-08T2354.jsonl';

describe(
  'collector: Binance USDT-M futures, recorded trades through the simulator onto JetStream',
  needsSharedData,
  () => {
    const cleanup: Cleanup = [];
    afterEach(() => runCleanup(cleanup));

    async function setUp(o: { replayRate: number }) {
      const nats = await startNatsWithStore(cleanup);
      const sim: SimHandle = await startBinanceFuturesSim({
        replay: { file: SHARED_DATA + FILE },
        replayRate: o.replayRate,
        startAfterClients: 1,
      });
      cleanup.push(() => sim.stop());
      const { runtime, nc } = await startCollector(cleanup, nats.url, {
        COLLECTOR_EXCHANGE: 'sim-binance-futures',
        COLLECTOR_SYMBOLS: 'BTCUSDT',
        COLLECTOR_WS_URL: sim.wsUrl,
        COLLECTOR_REST_URL: sim.restUrl,
      });
      return { nats, sim, runtime, nc };
    }

    async function expectExactly(nc: NatsConnection, runtime: CollectorRuntime, want: RecordedTrade[]) {
      await allAcknowledged(runtime, want.length);
      const { trades, scales } = await readTrades(nc);
      expect(trades.length).toBe(want.length);
      const got = trades.map((t) => [
        t.id,
        formatFixedTrimmed(t.price, scales!.priceScale),
        formatFixedTrimmed(t.quantity, scales!.quantityScale),
        t.side,
        t.exchangeTimeUs / 1000,
      ]);
      expect(got).toEqual(want.map((w) => [w.id, trimZeros(w.price), trimZeros(w.quantity), w.side, w.timeMs]));
    }

    it('a clean run: every recorded trade, exactly once, in order', async () => {
      const want = readTradeJsonl(FILE);
      expect(want.length).toBe(21_313);
      const { sim, runtime, nc } = await setUp({ replayRate: 50_000 });
      await sim.controls.replayFinished();
      await expectExactly(nc, runtime, want);
      expect(runtime.feed!.status().counters.gapsDetected).toBe(0);
    });

    it('ids withheld from the WebSocket are backfilled from REST, and the gap is recorded as filled', async () => {
      const want = readTradeJsonl(FILE);
      const { sim, runtime, nc } = await setUp({ replayRate: 20_000 });
      await waitFor('the replay under way', () => sim.controls.stats().tradesSent > 2000);
      sim.controls.skipIds(3000, 'BTCUSDT');
      await sim.controls.replayFinished();
      await expectExactly(nc, runtime, want);
      const { gaps } = await readEvents(nc);
      expect(gaps.filter((g) => g.status === 'detected').length).toBeGreaterThanOrEqual(1);
      expect(gaps.filter((g) => g.status === 'filled').reduce((n, g) => n + g.missing, 0)).toBe(3000);
      // a detected gap carries the exchange times of the trades either side of it
      for (const g of gaps.filter((x) => x.status === 'detected')) {
        const before = want.find((w) => Number(w.id) === Number(g.fromId) - 1)!;
        const after = want.find((w) => Number(w.id) > Number(g.toId))!;
        expect([g.fromTimeUs, g.toTimeUs]).toEqual([before.timeMs * 1000, after.timeMs * 1000]);
      }
      expect(runtime.feed!.status().counters.backfilledTrades).toBe(3000);
    });

    it('a dropped connection: reconnect with backoff, backfill what was missed, nothing lost or doubled', async () => {
      const want = readTradeJsonl(FILE);
      const { sim, runtime, nc } = await setUp({ replayRate: 10_000 });
      await waitFor('the replay under way', () => sim.controls.stats().tradesSent > 3000);
      expect(sim.controls.dropConnections()).toBe(1);
      await sim.controls.replayFinished();
      await expectExactly(nc, runtime, want);
      expect(runtime.feed!.status().counters.reconnects).toBeGreaterThanOrEqual(1);
    });

    it('malformed frames go to the dead-letter subject with a reason; the stream goes on', async () => {
      const want = readTradeJsonl(FILE);
      const { sim, runtime, nc } = await setUp({ replayRate: 20_000 });
      await waitFor('the replay under way', () => sim.controls.stats().tradesSent > 1000);
      const bad = [
        '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","s":"BTCUSDT","p":"-1"',
        'not json at all',
        '{"e":"aggTrade","E":1,"s":"BTCUSDT","a":1,"p":"abc","q":"1","f":1,"l":1,"T":1,"m":true}',
      ];
      for (const text of bad) expect(sim.controls.sendMalformed(text)).toBe(1);
      await sim.controls.replayFinished();
      await expectExactly(nc, runtime, want);
      const { deadLetters } = await readEvents(nc);
      expect(deadLetters.map((d) => d.raw)).toEqual(bad);
      expect(deadLetters.map((d) => d.code)).toEqual(['MALFORMED_JSON', 'MALFORMED_JSON', 'INVALID_FIELD']);
      expect(deadLetters.every((d) => d.reason.length > 0 && d.exchange === 'sim-binance-futures')).toBe(true);
    });

    it('a NATS restart mid-stream loses nothing and doubles nothing', async () => {
      const want = readTradeJsonl(FILE);
      const { nats, sim, runtime, nc } = await setUp({ replayRate: 5_000 });
      await waitFor('the replay under way', () => runtime.publisher!.stats().tradesAcked > 3000);
      const { port, storeDir } = nats;
      await nats.stop(); // SIGTERM while publishes are in flight
      await new Promise((r) => setTimeout(r, 1500));
      const again = await startNats({ port, storeDir });
      cleanup.push(() => again.stop());
      await sim.controls.replayFinished();
      await expectExactly(nc, runtime, want);
    });
  },
);
