import { describe, expect, it } from 'vitest';
import type { CollectorRuntime } from '../collector.runtime.js';
import { type FeedStatus, newCounters } from '../feeds/feed.types.js';
import { CatchUpProgress } from '../feeds/resume.js';
import { collectorMetrics } from './collector.metrics.js';

describe('collector metrics: catch-ups', () => {
  it('a running catch-up exports ids to go, trades/s, ETA and exchange time behind; a finished one nothing', async () => {
    const now = Date.now();
    const running = new CatchUpProgress('resume', 1001, 101_000, 2_000_000_000, 1_000_000_000, now - 10_000);
    running.advance(40_000, 41_001, 1_400_000_000, now);
    const finished = new CatchUpProgress('gap', 5, 9, null, null, now - 1000);
    finished.advance(5, 10, null, now - 500);
    finished.finish(now - 500);
    const status: FeedStatus = {
      exchange: 'binance',
      connected: true,
      connections: 1,
      counters: newCounters(),
      symbols: [
        {
          symbol: 'BTCUSDT',
          nextId: '41001',
          filling: true,
          queued: 12,
          lastTradeAtMs: now,
          catchUp: running.status(now),
        },
        {
          symbol: 'ETHUSDT',
          nextId: '10',
          filling: false,
          queued: 0,
          lastTradeAtMs: now,
          catchUp: finished.status(now),
        },
      ],
    };
    const runtime = {
      config: { exchange: { id: 'binance' } },
      feed: { status: () => status },
      publisher: null,
    } as unknown as CollectorRuntime;
    const text = await collectorMetrics(runtime).metrics();
    const line = (name: string) => text.split('\n').filter((l) => l.startsWith(name));
    expect(line('collector_catchup_remaining_ids')).toEqual([
      'collector_catchup_remaining_ids{symbol="BTCUSDT",reason="resume",exchange="binance"} 60000',
    ]);
    expect(line('collector_catchup_trades_per_second')).toEqual([
      'collector_catchup_trades_per_second{symbol="BTCUSDT",exchange="binance"} 4000',
    ]);
    expect(line('collector_catchup_eta_seconds')).toEqual([
      'collector_catchup_eta_seconds{symbol="BTCUSDT",exchange="binance"} 15',
    ]);
    expect(line('collector_catchup_behind_seconds')).toEqual([
      'collector_catchup_behind_seconds{symbol="BTCUSDT",exchange="binance"} 600',
    ]);
  });
});
