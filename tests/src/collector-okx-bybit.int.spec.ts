/**
 * The real collector against the OKX and Bybit simulators replaying a real recording (served in
 * each exchange's own wire format), onto a real nats-server: what lands in JetStream equals the
 * recording exactly, after a clean run and after a dropped connection.
 */
import type { CollectorRuntime } from '@orderflow/collector';
import { type SimHandle, startBybitSim, startOkxSim } from '@orderflow/exchange-sim';
import { formatFixedTrimmed } from '@orderflow/footprint';
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

const FILE = 'binance-futures_BTCUSDT_trade-ws_2023-04-04T2358.jsonl';

interface Venue {
  name: string;
  exchange: string;
  symbol: string;
  start(replayRate: number): Promise<SimHandle>;
  env(sim: SimHandle): Record<string, string>;
}

const venues: Venue[] = [
  {
    name: 'OKX (SWAP instrument, trades channel)',
    exchange: 'sim-okx',
    symbol: 'BTC-USDT-SWAP',
    // The recording's quantities are BTC with 3 decimals: list the simulated SWAP with that step.
    start: (replayRate) =>
      startOkxSim({
        replay: { file: SHARED_DATA + FILE, symbol: 'BTC-USDT-SWAP' },
        instruments: { 'BTC-USDT-SWAP': { stepSize: '0.001' }, BTCUSDT: { stepSize: '0.001' } },
        replayRate,
        startAfterClients: 1,
      }),
    // The simulator serves OKX's `trades` channel with one fill per message, so ids stay contiguous.
    env: (sim) => ({
      COLLECTOR_WS_URL: sim.endpoints['public'] ?? `${sim.wsUrl}/ws/v5/public`,
      COLLECTOR_OKX_CHANNEL: 'trades',
    }),
  },
  {
    name: 'Bybit (linear)',
    exchange: 'sim-bybit-linear',
    symbol: 'BTCUSDT',
    start: (replayRate) =>
      startBybitSim({
        categories: ['linear'],
        replay: { file: SHARED_DATA + FILE, symbol: 'BTCUSDT', category: 'linear' },
        replayRate,
        startAfterClients: 1,
      }),
    env: (sim) => ({ COLLECTOR_WS_URL: `${sim.wsUrl}/v5/public/linear` }),
  },
];

describe.each(venues)(
  'collector: $name, recorded trades through the simulator onto JetStream',
  needsSharedData,
  (venue) => {
    const cleanup: Cleanup = [];
    afterEach(() => runCleanup(cleanup));

    async function setUp(replayRate: number) {
      const nats = await startNatsWithStore(cleanup);
      const sim = await venue.start(replayRate);
      cleanup.push(() => sim.stop());
      const { runtime, nc } = await startCollector(cleanup, nats.url, {
        COLLECTOR_EXCHANGE: venue.exchange,
        COLLECTOR_SYMBOLS: venue.symbol,
        COLLECTOR_REST_URL: sim.restUrl,
        ...venue.env(sim),
      });
      return { nats, sim, runtime, nc };
    }

    async function expectExactly(nc: NatsConnection, runtime: CollectorRuntime, want: RecordedTrade[]) {
      await allAcknowledged(runtime, want.length);
      const { trades, scales } = await readTrades(nc);
      expect(trades.length).toBe(want.length);
      // Ids are the venue's own (OKX: the recording's ids; Bybit: UUIDs): compare the market data,
      // and that no id repeats.
      expect(new Set(trades.map((t) => t.id)).size).toBe(trades.length);
      const got = trades.map((t) => [
        formatFixedTrimmed(t.price, scales!.priceScale),
        formatFixedTrimmed(t.quantity, scales!.quantityScale),
        t.side,
        t.exchangeTimeUs / 1000,
      ]);
      expect(got).toEqual(want.map((w) => [trimZeros(w.price), trimZeros(w.quantity), w.side, w.timeMs]));
    }

    it('a clean run: every recorded trade, exactly once, in order', async () => {
      const want = readTradeJsonl(FILE);
      const { sim, runtime, nc } = await setUp(20_000);
      await sim.controls.replayFinished();
      await expectExactly(nc, runtime, want);
    });

    it('a dropped connection: reconnect, recover what was missed from REST, nothing lost or doubled', async () => {
      const want = readTradeJsonl(FILE);
      const { sim, runtime, nc } = await setUp(500);
      await waitFor('the replay under way', () => runtime.publisher!.stats().tradesAcked > 1000);
      expect(sim.controls.dropConnections()).toBe(1);
      await sim.controls.replayFinished();
      await expectExactly(nc, runtime, want);
      expect(runtime.feed!.status().counters.reconnects).toBeGreaterThanOrEqual(1);
      expect(runtime.feed!.status().counters.backfilledTrades).toBeGreaterThan(0);
    });

    it('malformed frames go to the dead-letter subject with a reason; the stream goes on', async () => {
      const want = readTradeJsonl(FILE);
      const { sim, runtime, nc } = await setUp(10_000);
      await waitFor('the replay under way', () => sim.controls.stats().tradesSent > 1000);
      const bad = [
        '{"topic":"publicTrade.BTCUSDT","data":[{"p":"1"',
        '{"arg":{"channel":"trades"},"data":[{"px":"-5"}]}',
        'garbage',
      ];
      for (const text of bad) expect(sim.controls.sendMalformed(text)).toBe(1);
      await sim.controls.replayFinished();
      await expectExactly(nc, runtime, want);
      const { deadLetters } = await readEvents(nc);
      expect(deadLetters.map((d) => d.raw)).toEqual(bad);
      expect(deadLetters.every((d) => d.reason.length > 0 && d.code.length > 0 && d.exchange === venue.exchange)).toBe(
        true,
      );
    });

    it('a NATS restart mid-stream loses nothing and doubles nothing', async () => {
      const want = readTradeJsonl(FILE);
      const { nats, sim, runtime, nc } = await setUp(3_000);
      await waitFor('the replay under way', () => runtime.publisher!.stats().tradesAcked > 2000);
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
