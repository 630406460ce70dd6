import {
  batchMsgId,
  decodeTradeBatch,
  encodeTradeBatch,
  parseTradeSubject,
  TRADES_STREAM,
  tradeSubject,
  type TradeBatch,
} from '@orderflow/contracts';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from './logger.js';
import { connectNats, drainNats } from './nats.connection.js';
import { ensureStreams } from './streams.js';
import { readStream, recordingLogger, startNats, type NatsServer } from './testing/nats-server.js';
import { instrument, trade } from './testing/trades.js';
import { TradePublisher } from './trade.publisher.js';

const LIMITS = { maxAgeMs: 3_600_000, maxBytes: 512 * 1024 * 1024, duplicateWindowMs: 120_000 };

/** Trade ids per `exchange symbol`, in stream order, from every TRADES message. */
async function storedIds(nc: NatsConnection): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const m of await readStream(nc, TRADES_STREAM)) {
    const s = parseTradeSubject(m.subject);
    expect(s).not.toBeNull();
    const batch = decodeTradeBatch(m.text);
    expect([batch.exchange, batch.symbol]).toEqual([s!.exchange, s!.symbol]);
    expect(m.msgId).toBe(batchMsgId(batch));
    const key = `${batch.exchange} ${batch.symbol}`;
    const ids = out.get(key) ?? [];
    for (const t of batch.trades) ids.push(t.id);
    out.set(key, ids);
  }
  return out;
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => String(from + i));

describe('TradePublisher (nats-server)', () => {
  let server: NatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await startNats();
    nc = await connectNats({ servers: server.url, name: 'trade-publisher-spec', logger: silentLogger });
  });
  afterAll(async () => {
    await drainNats(nc);
    await server.stop();
  });
  beforeEach(async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(TRADES_STREAM).catch(() => false);
    await ensureStreams(nc, LIMITS);
  });

  it('delivers 50,000 trades of several symbols complete and in order per symbol', async () => {
    const symbols = [
      ['binance', 'BTCUSDT'],
      ['binance', 'ETHUSDT'],
      ['okx', 'BTC-USDT-SWAP'],
      ['bybit', 'SOLUSDT'],
      ['binance-futures', 'BTCUSDT'],
    ] as const;
    const instruments = symbols.map(([e, s]) => instrument(e, s));
    const next = symbols.map(() => 1);
    const pub = new TradePublisher(jetstream(nc), { logger: silentLogger });
    // interleaved like a multiplexed feed: runs of 1..40 trades of one symbol at a time
    let seed = 7;
    const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let added = 0; added < 50_000; ) {
      const k = Math.floor(rnd() * symbols.length);
      const run = Math.min(50_000 - added, 1 + Math.floor(rnd() * 40));
      for (let i = 0; i < run; i++) pub.add(instruments[k]!, trade(symbols[k]![0], symbols[k]![1], next[k]!++));
      added += run;
      if (added % 5000 < run) await new Promise((r) => setImmediate(r));
    }
    await pub.flush();
    const s = pub.stats();
    expect(s).toMatchObject({
      tradesIn: 50_000,
      tradesAcked: 50_000,
      buffered: 0,
      inFlight: 0,
      duplicateAcks: 0,
      retries: 0,
    });
    await pub.close();

    const ids = await storedIds(nc);
    expect(ids.size).toBe(symbols.length);
    symbols.forEach(([e, sym], k) => expect(ids.get(`${e} ${sym}`)).toEqual(range(1, next[k]! - 1)));
    const total = [...ids.values()].reduce((n, v) => n + v.length, 0);
    expect(total).toBe(50_000);
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info(TRADES_STREAM)).state.messages).toBe(s.batchesAcked);
  });

  it('makes a republished batch (same Nats-Msg-Id) a duplicate that is not stored twice', async () => {
    const js = jetstream(nc);
    const batch: TradeBatch = {
      exchange: 'binance',
      symbol: 'BTCUSDT',
      priceScale: 2,
      quantityScale: 5,
      trades: [1, 2, 3].map((id) => trade('binance', 'BTCUSDT', id)),
    };
    const subject = tradeSubject('binance', 'BTCUSDT');
    const first = await js.publish(subject, encodeTradeBatch(batch), { msgID: batchMsgId(batch) });
    const again = await js.publish(subject, encodeTradeBatch(batch), { msgID: batchMsgId(batch) });
    expect(first.duplicate).toBe(false);
    expect(again).toMatchObject({ duplicate: true, seq: first.seq });

    // two publishers sending the same trades with the same batch boundaries: the second is all duplicates
    const inst = instrument('binance', 'ETHUSDT');
    const run = async () => {
      const pub = new TradePublisher(js, { maxBatchTrades: 100, logger: silentLogger });
      for (let id = 1; id <= 1000; id++) pub.add(inst, trade('binance', 'ETHUSDT', id));
      await pub.close();
      return pub.stats();
    };
    expect(await run()).toMatchObject({ tradesAcked: 1000, batchesAcked: 10, duplicateAcks: 0 });
    expect(await run()).toMatchObject({ tradesAcked: 1000, batchesAcked: 10, duplicateAcks: 10 });

    const ids = await storedIds(nc);
    expect(ids.get('binance BTCUSDT')).toEqual(['1', '2', '3']);
    expect(ids.get('binance ETHUSDT')).toEqual(range(1, 1000));
  });

  it('turns saturated past maxBufferedTrades, says so, and onceDrained resolves under half', async () => {
    const log = recordingLogger();
    const pub = new TradePublisher(jetstream(nc), { maxBufferedTrades: 2000, maxBatchTrades: 50, logger: log });
    const inst = instrument('okx', 'ETH-USDT');
    expect(pub.saturated).toBe(false);
    await pub.onceDrained(); // not saturated: at once
    for (let id = 1; id <= 1999; id++) pub.add(inst, trade('okx', 'ETH-USDT', id));
    expect(pub.saturated).toBe(false);
    pub.add(inst, trade('okx', 'ETH-USDT', 2000));
    expect(pub.saturated).toBe(true); // nothing can have been acked yet: acks arrive asynchronously
    for (let id = 2001; id <= 3000; id++) pub.add(inst, trade('okx', 'ETH-USDT', id)); // still accepted
    expect(log.lines.filter((l) => l.level === 'warn' && /SATURATED/.test(l.message))).toHaveLength(1);

    await pub.onceDrained();
    expect(pub.saturated).toBe(false);
    expect(pub.stats().buffered).toBeLessThan(1000);
    expect(log.lines.filter((l) => /RECOVERED/.test(l.message))).toHaveLength(1);
    await pub.close();
    expect(pub.stats()).toMatchObject({ tradesIn: 3000, tradesAcked: 3000 });
    expect((await storedIds(nc)).get('okx ETH-USDT')).toEqual(range(1, 3000));
  });
});
