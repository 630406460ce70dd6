import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { natsPermissionViolations } from '@orderflow/nats';
import type { AggregatorRuntime } from '../aggregator.runtime.js';
import type { ActorCounters } from '../symbol.actor.js';

/** Prometheus metrics of one shard, read from the runtime's counters at each scrape (nothing on the hot path). */
export function aggregatorMetrics(runtime: AggregatorRuntime): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ shard: String(runtime.config.shardIndex) });
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'nats_permission_violations_total',
    help: "Operations the NATS server refused under this component's user permissions, by operation (publish, subscription) and subject",
    labelNames: ['operation', 'subject'],
    registers: [registry],
    collect() {
      this.reset();
      for (const v of natsPermissionViolations()) this.set({ operation: v.operation, subject: v.subject }, v.count);
    },
  });
  const gauge = (name: string, help: string, labelNames: string[], read: (g: Gauge) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        read(this);
      },
    });
  const perSymbol = (name: string, help: string, key: keyof ActorCounters) =>
    gauge(name, help, ['exchange', 'symbol'], (g) => {
      for (const a of runtime.actors.values()) g.set({ exchange: a.exchange, symbol: a.symbol }, a.counters[key]);
    });
  perSymbol('aggregator_messages_total', 'JetStream messages handled', 'messages');
  perSymbol('aggregator_trades_total', 'Trades received', 'trades');
  perSymbol('aggregator_trades_applied_total', 'Trades counted (new ids)', 'applied');
  perSymbol('aggregator_duplicates_total', 'Trades dropped because their id was already counted', 'duplicates');
  perSymbol('aggregator_rejected_total', 'Invalid trades set aside on deadletter.<exchange>', 'rejected');
  perSymbol('aggregator_malformed_total', 'Malformed messages set aside on deadletter.<exchange>', 'malformed');
  perSymbol(
    'aggregator_out_of_window_total',
    'Trades of minutes no longer in memory, merged with ClickHouse',
    'outOfWindow',
  );
  perSymbol('aggregator_corrections_total', 'Stored minutes re-written with late trades', 'corrections');
  perSymbol('aggregator_live_updates_total', 'Live updates published', 'liveUpdates');
  gauge(
    'aggregator_consumer_pending_messages',
    'Messages in JetStream not yet delivered to this shard (lag)',
    ['exchange', 'symbol'],
    (g) => {
      for (const a of runtime.actors.values()) {
        const lag = runtime.lag.get(`${a.exchange}.${a.symbol}`);
        if (lag !== undefined) g.set({ exchange: a.exchange, symbol: a.symbol }, lag);
      }
    },
  );
  gauge('aggregator_memory_ids', 'Trade ids held for dedupe', ['exchange', 'symbol'], (g) => {
    for (const a of runtime.actors.values())
      if (a.state) g.set({ exchange: a.exchange, symbol: a.symbol }, a.state.sizes.ids);
  });
  gauge('aggregator_symbols', 'Symbols owned by this shard', [], (g) => g.set(runtime.actors.size));
  gauge('aggregator_pending_trades', 'Trades handled but not yet written to ClickHouse', [], (g) =>
    g.set(runtime.pendingTrades()),
  );
  gauge('aggregator_flushes_total', 'Writes to ClickHouse', ['result'], (g) => {
    g.set({ result: 'ok' }, runtime.stats.flushes);
    g.set({ result: 'failed' }, runtime.stats.failedFlushes);
  });
  gauge('aggregator_written_trades_total', 'Raw trades written', [], (g) => g.set(runtime.stats.tradesWritten));
  gauge('aggregator_written_minutes_total', '1m candle states written', [], (g) => g.set(runtime.stats.minutesWritten));
  gauge('aggregator_last_flush_seconds', 'Duration of the last write', [], (g) =>
    g.set(runtime.stats.lastFlushMs / 1000),
  );
  gauge('aggregator_write_failing_seconds', 'How long writing has been failing (0 when it works)', [], (g) =>
    g.set(runtime.stats.failingSince === 0 ? 0 : (Date.now() - runtime.stats.failingSince) / 1000),
  );
  gauge('aggregator_gap_events_written_total', 'Collector gap events written to ClickHouse (shard 0)', [], (g) =>
    g.set(runtime.stats.gapsWritten),
  );
  gauge('aggregator_dead_letters_total', 'Messages and trades set aside', [], (g) => g.set(runtime.stats.deadLetters));
  return registry;
}
