import { batchMsgId, decodeTradeBatch } from '@orderflow/contracts';
import type { JetStreamPublishOptions, PubAck } from '@nats-io/jetstream';
import type { Payload } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { silentLogger } from './logger.js';
import { instrument, trade } from './testing/trades.js';
import { TradePublisher, type JetStreamPublisher } from './trade.publisher.js';

type Outcome = 'ok' | 'fail' | 'lose-ack' | 'hang';

/**
 * A JetStream stand-in that stores by subject, drops duplicates by msg id like the server, and
 * misbehaves on demand: rejects, stores but loses the ack, or never answers (the client's timeout).
 */
class FakeJetStream implements JetStreamPublisher {
  readonly stored = new Map<string, string[]>();
  readonly calls: { subject: string; opts: Partial<JetStreamPublishOptions>; text: string }[] = [];
  private readonly seen = new Set<string>();
  private readonly bySubject = new Map<string, number>();
  inFlight = 0;
  maxInFlight = 0;
  maxPerSubject = 0;
  seq = 0;
  /** Acks held back until release() (to keep trades buffered). */
  gate: Promise<void> | null = null;

  constructor(private readonly outcome: () => Outcome = () => 'ok') {}

  publish(subject: string, payload?: Payload, opts?: Partial<JetStreamPublishOptions>): Promise<PubAck> {
    const text = typeof payload === 'string' ? payload : new TextDecoder().decode(payload);
    this.calls.push({ subject, opts: opts ?? {}, text });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const n = (this.bySubject.get(subject) ?? 0) + 1;
    this.bySubject.set(subject, n);
    this.maxPerSubject = Math.max(this.maxPerSubject, n);
    const what = this.outcome();
    const done = () => {
      this.inFlight--;
      this.bySubject.set(subject, this.bySubject.get(subject)! - 1);
    };
    return new Promise<PubAck>((resolve, reject) => {
      const answer = async () => {
        if (this.gate) await this.gate;
        done();
        if (what === 'fail') return reject(new Error('no responders'));
        if (what === 'hang') return reject(new Error('timeout'));
        const msgId = opts?.msgID ?? '';
        const duplicate = this.seen.has(msgId);
        if (!duplicate) {
          this.seen.add(msgId);
          this.stored.set(subject, [...(this.stored.get(subject) ?? []), text]);
          this.seq++;
        }
        if (what === 'lose-ack') return reject(new Error('timeout'));
        resolve({ stream: 'TRADES', seq: this.seq, duplicate });
      };
      setTimeout(() => void answer(), what === 'hang' ? (opts?.timeout ?? 5000) : Math.floor(Math.random() * 3));
    });
  }

  ids(subject: string): string[] {
    return (this.stored.get(subject) ?? []).flatMap((t) => decodeTradeBatch(t).trades.map((x) => x.id));
  }
}

const BTC = instrument('binance', 'BTCUSDT');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => String(from + i));

describe('TradePublisher batching (fake JetStream)', () => {
  it('seals a batch at maxBatchTrades and publishes it with its msg id to the symbol subject', async () => {
    const js = new FakeJetStream();
    const pub = new TradePublisher(js, { maxBatchTrades: 500, logger: silentLogger });
    for (let id = 1; id <= 1050; id++) pub.add(BTC, trade('binance', 'BTCUSDT', id));
    expect(js.calls).toHaveLength(1); // the first full batch went out at once; the next waits for its ack
    await pub.flush();
    expect(js.calls.map((c) => decodeTradeBatch(c.text).trades.length)).toEqual([500, 500, 50]);
    for (const c of js.calls) {
      const b = decodeTradeBatch(c.text);
      expect(c.subject).toBe('trades.binance.BTCUSDT');
      expect(c.opts.msgID).toBe(batchMsgId(b));
      expect(c.opts.expect).toEqual({ streamName: 'TRADES' });
      expect(b).toMatchObject({ exchange: 'binance', symbol: 'BTCUSDT', priceScale: 2, quantityScale: 5 });
    }
    expect(js.ids('trades.binance.BTCUSDT')).toEqual(range(1, 1050));
    expect(pub.stats()).toMatchObject({ tradesIn: 1050, tradesAcked: 1050, batchesAcked: 3, buffered: 0, retries: 0 });
  });

  it('seals a batch maxBatchDelayMs after its first trade', async () => {
    const js = new FakeJetStream();
    const pub = new TradePublisher(js, { maxBatchDelayMs: 30, logger: silentLogger });
    pub.add(BTC, trade('binance', 'BTCUSDT', 1));
    await sleep(10);
    pub.add(BTC, trade('binance', 'BTCUSDT', 2));
    expect(js.calls).toHaveLength(0);
    await sleep(60);
    expect(js.calls).toHaveLength(1);
    expect(decodeTradeBatch(js.calls[0]!.text).trades.map((t) => t.id)).toEqual(['1', '2']);
    await pub.close();
  });

  it('starts a new batch when the instrument scales change', async () => {
    const js = new FakeJetStream();
    const pub = new TradePublisher(js, { logger: silentLogger });
    pub.add(BTC, trade('binance', 'BTCUSDT', 1));
    pub.add({ ...BTC, priceScale: 1 }, trade('binance', 'BTCUSDT', 2));
    await pub.close();
    expect(js.calls.map((c) => [decodeTradeBatch(c.text).priceScale, decodeTradeBatch(c.text).trades.length])).toEqual([
      [2, 1],
      [1, 1],
    ]);
  });

  it('keeps every symbol complete and in order through failures, lost acks and timeouts', async () => {
    let seed = 1;
    const rnd = () => (seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647;
    const js = new FakeJetStream(() => {
      const r = rnd();
      return r < 0.15 ? 'fail' : r < 0.25 ? 'lose-ack' : r < 0.28 ? 'hang' : 'ok';
    });
    const pub = new TradePublisher(js, {
      maxBatchTrades: 50,
      maxInFlight: 3,
      ackTimeoutMs: 20,
      retryBaseMs: 1,
      retryMaxMs: 8,
      logger: silentLogger,
    });
    const symbols = ['A', 'B', 'C', 'D', 'E'];
    const next = symbols.map(() => 1);
    for (let i = 0; i < 20_000; i++) {
      const k = Math.floor(rnd() * symbols.length);
      pub.add(instrument('okx', symbols[k]!), trade('okx', symbols[k]!, next[k]!++));
      if (i % 1000 === 0) await sleep(1);
    }
    await pub.flush();
    symbols.forEach((s, k) => expect(js.ids(`trades.okx.${s}`)).toEqual(range(1, next[k]! - 1)));
    const st = pub.stats();
    expect(st).toMatchObject({ tradesIn: 20_000, tradesAcked: 20_000, buffered: 0, inFlight: 0, queuedBatches: 0 });
    expect(st.retries).toBeGreaterThan(0);
    expect(st.duplicateAcks).toBeGreaterThan(0); // lost acks come back as duplicates
    expect(js.maxPerSubject).toBe(1); // one publish per symbol at a time: order can't break
    expect(js.maxInFlight).toBeLessThanOrEqual(3);
    await pub.close();
  });

  it('reports saturation and recovery and resolves onceDrained', async () => {
    const js = new FakeJetStream();
    let release!: () => void;
    js.gate = new Promise((r) => (release = r));
    const warnings: string[] = [];
    const pub = new TradePublisher(js, {
      maxBatchTrades: 10,
      maxBufferedTrades: 100,
      logger: { ...silentLogger, warn: (m) => void warnings.push(m) },
    });
    for (let id = 1; id <= 150; id++) pub.add(BTC, trade('binance', 'BTCUSDT', id));
    expect(pub.saturated).toBe(true);
    let drained = false;
    const waiting = pub.onceDrained().then(() => (drained = true));
    await sleep(20);
    expect(drained).toBe(false); // nothing acknowledged yet
    js.gate = null;
    release();
    await waiting;
    expect(pub.saturated).toBe(false);
    expect(pub.stats().buffered).toBeLessThan(50);
    expect(warnings.filter((w) => /SATURATED/.test(w))).toHaveLength(1);
    expect(warnings.filter((w) => /RECOVERED/.test(w))).toHaveLength(1);
    await pub.close();
  });

  it('refuses trades that could not be decoded downstream, or that do not match the instrument', async () => {
    const pub = new TradePublisher(new FakeJetStream(), { logger: silentLogger });
    expect(() => pub.add(BTC, trade('binance', 'ETHUSDT', 1))).toThrow(
      /trade 1 of binance ETHUSDT added under instrument binance BTCUSDT/,
    );
    expect(() => pub.add(BTC, { ...trade('binance', 'BTCUSDT', 1), price: 0 })).toThrow(
      /BTCUSDT trade 1: price must be a positive integer/,
    );
    expect(() => pub.add(BTC, { ...trade('binance', 'BTCUSDT', 1), receiveTimeMs: 1.5 })).toThrow(/receive time/);
    expect(() => pub.add(instrument('binance', 'BTC.USDT'), trade('binance', 'BTC.USDT', 1))).toThrow(
      /symbol "BTC.USDT" must be/,
    );
    expect(() => pub.add(instrument('binance', 'BTCUSDT', 16), trade('binance', 'BTCUSDT', 1))).toThrow(
      /scales must be integers 0..15/,
    );
    expect(() => new TradePublisher(new FakeJetStream(), { maxBatchTrades: 0 })).toThrow(
      /maxBatchTrades must be a positive integer/,
    );
    await pub.close();
    expect(() => pub.add(BTC, trade('binance', 'BTCUSDT', 1))).toThrow(/after close/);
  });

  it('close() with a timeout says how many trades never got acknowledged', async () => {
    const js = new FakeJetStream(() => 'fail');
    const pub = new TradePublisher(js, { retryBaseMs: 5, retryMaxMs: 10, logger: silentLogger });
    for (let id = 1; id <= 7; id++) pub.add(BTC, trade('binance', 'BTCUSDT', id));
    await expect(pub.close({ timeoutMs: 50 })).rejects.toThrow(/closed with 7 trades not acknowledged after 50 ms/);
    expect(pub.stats().retries).toBeGreaterThan(0);
  });
});
