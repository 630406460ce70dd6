import { encodeTradeBatch, TRADES_STREAM, tradeSubject } from '@orderflow/contracts';
import type { Trade } from '@orderflow/footprint';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from './logger.js';
import { connectNats, drainNats } from './nats.connection.js';
import { lastStoredTrades, StoredTradesError } from './stored-trades.js';
import { ensureStreams } from './streams.js';
import { startNats, type NatsServer } from './testing/nats-server.js';
import { trade } from './testing/trades.js';

const LIMITS = { maxAgeMs: 3_600_000, maxBytes: 64 * 1024 * 1024, duplicateWindowMs: 120_000 };

/** A trade of `symbol` with id `id` at exchange time `timeUs`. */
const at = (exchange: string, symbol: string, id: number, timeUs: number): Trade => ({
  ...trade(exchange, symbol, id),
  exchangeTimeUs: timeUs,
});

describe('lastStoredTrades (nats-server)', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    server = await startNats();
    nc = await connectNats({ servers: server.url, name: 'stored-trades-spec', logger: silentLogger });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await drainNats(nc);
    await server.stop();
  });
  beforeEach(async () => {
    await jsm.streams.delete(TRADES_STREAM).catch(() => false);
    await ensureStreams(nc, LIMITS);
  });

  async function store(trades: Trade[]): Promise<void> {
    const t0 = trades[0]!;
    await jetstream(nc).publish(
      tradeSubject(t0.exchange, t0.symbol),
      encodeTradeBatch({ exchange: t0.exchange, symbol: t0.symbol, priceScale: 2, quantityScale: 5, tick: 1, trades }),
    );
  }

  it('null when nothing is stored for the subject', async () => {
    await store([trade('binance', 'ETHUSDT', 1)]);
    expect(await lastStoredTrades(jsm, 'binance', 'BTCUSDT')).toBeNull();
  });

  it("the last batch's last trade, among other symbols' batches", async () => {
    await store([trade('binance', 'BTCUSDT', 1), trade('binance', 'BTCUSDT', 2)]);
    await store([trade('binance', 'ETHUSDT', 7)]);
    await store([trade('binance', 'BTCUSDT', 3), trade('binance', 'BTCUSDT', 4)]);
    await store([trade('binance', 'ETHUSDT', 8)]);
    await store([trade('binance-futures', 'BTCUSDT', 99)]);
    const tail = await lastStoredTrades(jsm, 'binance', 'BTCUSDT');
    expect(tail!.last).toMatchObject({ id: '4', exchangeTimeUs: trade('binance', 'BTCUSDT', 4).exchangeTimeUs });
    expect(tail!.atLastTime.map((t) => t.id)).toEqual(['4']);
    expect(tail!.seq).toBe(3);
  });

  it('the trades at the last time across batch boundaries (ids that are no sequence, as Bybit)', async () => {
    const T = 1_735_689_600_000_000;
    await store([at('bybit', 'BTCUSDT', 10, T - 1000), at('bybit', 'BTCUSDT', 11, T)]);
    for (let i = 0; i < 40; i++) await store([at('bybit', 'ETHUSDT', 100 + i, T)]);
    await store([at('bybit', 'BTCUSDT', 12, T), at('bybit', 'BTCUSDT', 13, T)]);
    await store([at('bybit', 'ETHUSDT', 200, T)]);
    await store([at('bybit', 'BTCUSDT', 14, T)]);
    const tail = await lastStoredTrades(jsm, 'bybit', 'BTCUSDT');
    expect(tail!.last.id).toBe('14');
    expect(tail!.atLastTime.map((t) => t.id)).toEqual(['11', '12', '13', '14']);
  });

  it('throws, naming the message, when the stored batch does not decode', async () => {
    await jetstream(nc).publish(tradeSubject('okx', 'BTC-USDT'), 'not a batch');
    const e = await lastStoredTrades(jsm, 'okx', 'BTC-USDT').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StoredTradesError);
    expect((e as Error).message).toMatch(/trades\.okx\.BTC-USDT message 1 is not a trade batch/);
  });
});
