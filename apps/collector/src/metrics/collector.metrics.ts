import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { natsPermissionViolations } from '@orderflow/nats';
import type { CollectorRuntime } from '../collector.runtime.js';

/**
 * Prometheus metrics of one collector, read from the feed's and the publishers' counters at each
 * scrape (no per-trade metric calls on the hot path).
 */
export function collectorMetrics(runtime: CollectorRuntime): Registry {
  const registry = new Registry();
  const exchange = runtime.config.exchange.id;
  registry.setDefaultLabels({ exchange });
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

  gauge('collector_frames_total', 'WebSocket frames received', [], (g) =>
    g.set(runtime.feed?.status().counters.frames ?? 0),
  );
  gauge('collector_trades_total', 'Trades handed to the publisher', [], (g) =>
    g.set(runtime.feed?.status().counters.trades ?? 0),
  );
  gauge('collector_malformed_total', 'Frames set aside as malformed, by reason code', ['code'], (g) => {
    for (const [code, n] of Object.entries(runtime.feed?.status().counters.malformed ?? {})) g.set({ code }, n);
  });
  gauge('collector_duplicates_total', 'Trades dropped as already published (overlaps, repeats)', [], (g) =>
    g.set(runtime.feed?.status().counters.duplicates ?? 0),
  );
  gauge('collector_backfilled_trades_total', 'Trades fetched from REST to fill gaps', [], (g) =>
    g.set(runtime.feed?.status().counters.backfilledTrades ?? 0),
  );
  gauge('collector_gaps_total', 'Id gaps by outcome', ['status'], (g) => {
    const c = runtime.feed?.status().counters;
    g.set({ status: 'detected' }, c?.gapsDetected ?? 0);
    g.set({ status: 'filled' }, c?.gapsFilled ?? 0);
    g.set({ status: 'unfilled' }, c?.gapsUnfilled ?? 0);
  });
  gauge('collector_reconnects_total', 'WebSocket reconnects', [], (g) =>
    g.set(runtime.feed?.status().counters.reconnects ?? 0),
  );
  gauge('collector_rest_requests_total', 'REST requests (backfill, instruments)', [], (g) =>
    g.set(runtime.feed?.status().counters.restRequests ?? 0),
  );
  gauge('collector_connected', '1 when every exchange connection is open', [], (g) =>
    g.set(runtime.feed?.status().connected ? 1 : 0),
  );
  gauge('collector_symbol_last_trade_age_seconds', 'Seconds since the last trade of each symbol', ['symbol'], (g) => {
    for (const s of runtime.feed?.status().symbols ?? [])
      if (s.lastTradeAtMs !== null) g.set({ symbol: s.symbol }, (Date.now() - s.lastTradeAtMs) / 1000);
  });
  // catch-ups under way (a resume after a stop, a long id gap): how far, how fast, how long still
  const catchUps = () =>
    (runtime.feed?.status().symbols ?? []).flatMap((s) =>
      s.catchUp?.active ? [{ symbol: s.symbol, c: s.catchUp }] : [],
    );
  gauge(
    'collector_catchup_remaining_ids',
    'Ids a running catch-up still has to fetch from REST, by symbol and reason (resume, gap)',
    ['symbol', 'reason'],
    (g) => {
      for (const { symbol, c } of catchUps()) g.set({ symbol, reason: c.reason }, c.remaining);
    },
  );
  gauge(
    'collector_catchup_trades_per_second',
    'Trades a running catch-up fetches per second (last 10 s)',
    ['symbol'],
    (g) => {
      for (const { symbol, c } of catchUps()) g.set({ symbol }, c.ratePerSecond);
    },
  );
  gauge('collector_catchup_eta_seconds', 'Estimated seconds until a running catch-up is done', ['symbol'], (g) => {
    for (const { symbol, c } of catchUps()) if (c.etaSeconds !== null) g.set({ symbol }, c.etaSeconds);
  });
  gauge(
    'collector_catchup_behind_seconds',
    'Exchange time between the last trade a running catch-up published and where it ends',
    ['symbol'],
    (g) => {
      for (const { symbol, c } of catchUps()) if (c.behindSeconds !== null) g.set({ symbol }, c.behindSeconds);
    },
  );
  gauge('collector_publisher_trades_acked_total', 'Trades JetStream acknowledged', [], (g) =>
    g.set(runtime.publisher?.stats().tradesAcked ?? 0),
  );
  gauge('collector_publisher_buffered_trades', 'Trades not yet acknowledged', [], (g) =>
    g.set(runtime.publisher?.stats().buffered ?? 0),
  );
  gauge('collector_publisher_retries_total', 'Publishes retried', [], (g) =>
    g.set(runtime.publisher?.stats().retries ?? 0),
  );
  gauge('collector_publisher_duplicate_acks_total', 'Retried batches JetStream had already stored', [], (g) =>
    g.set(runtime.publisher?.stats().duplicateAcks ?? 0),
  );
  return registry;
}
