import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTradeBatch, TRADES_STREAM } from '@orderflow/contracts';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from './logger.js';
import { connectNats, drainNats } from './nats.connection.js';
import { ensureStreams } from './streams.js';
import { readStream, recordingLogger, startNats, type NatsServer } from './testing/nats-server.js';
import { instrument, trade } from './testing/trades.js';
import { TradePublisher } from './trade.publisher.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('TradePublisher across a nats-server restart', () => {
  const storeDir = mkdtempSync(join(tmpdir(), 'orderflow-nats-restart-'));
  const servers: NatsServer[] = [];
  let nc: NatsConnection | undefined;

  afterAll(async () => {
    if (nc) await drainNats(nc);
    for (const s of servers) await s.stop();
    rmSync(storeDir, { recursive: true, force: true });
  });

  it(
    'loses nothing and duplicates nothing when the server stops mid-publish and comes back',
    { timeout: 25_000 },
    async () => {
      const first = await startNats({ storeDir });
      servers.push(first);
      nc = await connectNats({
        servers: first.url,
        name: 'restart-spec',
        reconnectTimeWaitMs: 100,
        reconnectJitterMs: 50,
        logger: silentLogger,
      });
      await ensureStreams(nc, { maxAgeMs: 3_600_000, maxBytes: 512 * 1024 * 1024, duplicateWindowMs: 120_000 });

      const log = recordingLogger();
      const pub = new TradePublisher(jetstream(nc), {
        maxBatchTrades: 100,
        ackTimeoutMs: 500,
        retryBaseMs: 50,
        retryMaxMs: 300,
        logger: log,
      });
      const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
      const instruments = symbols.map((s) => instrument('binance', s));
      const next = symbols.map(() => 1);
      const TOTAL = 60_000;
      let added = 0;

      // the feed keeps going, about 100 trades a millisecond, whatever happens to NATS
      const feed = (async () => {
        while (added < TOTAL) {
          for (let i = 0; i < 100 && added < TOTAL; i++, added++) {
            const k = added % 7 < 4 ? 0 : added % 7 < 6 ? 1 : 2;
            pub.add(instruments[k]!, trade('binance', symbols[k]!, next[k]!++));
          }
          await sleep(1);
        }
      })();

      while (added < TOTAL / 4) await sleep(1);
      const ackedBefore = pub.stats().tradesAcked;
      await first.stop(); // SIGTERM while publishes are in flight
      const addedWhileDown = added;
      await sleep(700); // trades keep coming and buffering while nothing listens
      expect(added).toBeGreaterThan(addedWhileDown);
      const second = await startNats({ port: first.port, storeDir });
      servers.push(second);

      await feed;
      await pub.flush();
      const s = pub.stats();
      await pub.close();
      expect(ackedBefore).toBeGreaterThan(0);
      expect(s).toMatchObject({ tradesIn: TOTAL, tradesAcked: TOTAL, buffered: 0, inFlight: 0 });
      expect(s.retries).toBeGreaterThan(0); // the outage did hit publishes
      expect(log.lines.some((l) => l.level === 'warn' && /failed \(attempt 1/.test(l.message))).toBe(true);

      // every trade exactly once, in order, per symbol
      const ids = new Map<string, number[]>();
      for (const m of await readStream(nc, TRADES_STREAM)) {
        const b = decodeTradeBatch(m.text);
        const list = ids.get(b.symbol) ?? [];
        for (const t of b.trades) list.push(Number(t.id));
        ids.set(b.symbol, list);
      }
      symbols.forEach((sym, k) => {
        const got = ids.get(sym)!;
        expect(got.length).toBe(next[k]! - 1);
        expect(got.every((id, i) => id === i + 1)).toBe(true);
      });
    },
  );
});
