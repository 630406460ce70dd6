/**
 * Every metric name the chart's Grafana dashboard and alert rules read is one the services really
 * export. The names come from the chart as helm renders it with both on (deploy/src/observability.ts:
 * the dashboard ConfigMap's JSON and the PrometheusRule's expressions, parsed for their metric
 * identifiers); names of other exporters (kube-state-metrics) are listed there as external.
 *
 * The services: the collector as its own process (apps/collector/dist/main.js) on the Binance spot
 * simulator's synthetic market, a real aggregator shard and the gateway in-process (as
 * gateway.int.spec.ts runs them), on their own NATS and ClickHouse. Trades, a malformed frame, a
 * live Socket.IO client, a refused request and an HTTP request go through so that the counters and
 * histograms have samples; then each /metrics is scraped. A name counts when a scrape has a sample
 * of it (a histogram's _bucket, _sum and _count are sample names of their own).
 */
import { type SimHandle, startBinanceSpotSim } from '@orderflow/exchange-sim';
import { loadAggregatorConfig, startAggregatorApp } from '@orderflow/aggregator';
import { loadGatewayConfig, startGatewayApp } from '@orderflow/gateway';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES_URL, startClickHouse } from './aggregator-support.js';
import { LiveClient } from './gateway-support.js';
import { Proc } from './proof/pipeline.js';
import { type Cleanup, runCleanup, startNatsWithStore, waitFor } from './support.js';

const COLLECTOR_MAIN = fileURLToPath(new URL('../../apps/collector/dist/main.js', import.meta.url));
/**
 * The chart's dashboards and rules as data (a file of the deploy project, imported by URL like
 * scripts/lib/services.mjs).
 */
const OBSERVABILITY_URL = new URL('../../deploy/src/observability.ts', import.meta.url).href;

interface Query {
  where: string;
  expr: string;
}
interface Manifest {
  data?: Record<string, string>;
}
interface ObservabilityModule {
  EXTERNAL_METRICS: Readonly<Record<string, string>>;
  renderObservability(): Promise<{ dashboards: Manifest; rule: Manifest }>;
  dashboardQueries(dashboard: unknown): Query[];
  ruleQueries(rule: Manifest): Query[];
  namesUsed(queries: Query[]): Map<string, string[]>;
}

type Service = 'collector' | 'aggregator' | 'gateway';
const SERVICES: Service[] = ['collector', 'aggregator', 'gateway'];
const DB = 'observability';
const quiet = !process.env['SYSTEM_TEST_LOGS'];

/** Names with a sample in a Prometheus text exposition. */
function sampleNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)[{ ]/.exec(line);
    if (m) out.add(m[1]!);
  }
  return out;
}

/**
 * The names among `names` that the scrapes do not export: a collector_/aggregator_/gateway_ name must
 * be in its own service's scrape, a process one (process_, nodejs_) in every service's, any other in
 * one of them.
 */
function unexported(names: Iterable<string>, scrapes: Record<Service, Set<string>>): string[] {
  const missing: string[] = [];
  for (const name of names) {
    const own = SERVICES.find((s) => name.startsWith(`${s}_`));
    const where = own ? [own] : /^(process|nodejs)_/.test(name) ? SERVICES : null;
    const ok = where ? where.every((s) => scrapes[s].has(name)) : SERVICES.some((s) => scrapes[s].has(name));
    if (!ok) missing.push(name);
  }
  return missing;
}

describe('observability: the metric names of the Grafana dashboard and the alert rules', () => {
  const cleanup: Cleanup = [];
  let obs: ObservabilityModule;
  let used: Map<string, string[]>;
  let sim: SimHandle;
  let urls: Record<Service, string>;
  let client: LiveClient;

  beforeAll(async () => {
    obs = (await import(OBSERVABILITY_URL)) as ObservabilityModule;
    const { dashboards, rule } = await obs.renderObservability();
    const queries = [
      ...Object.values(dashboards.data ?? {}).flatMap((json) => obs.dashboardQueries(JSON.parse(json))),
      ...obs.ruleQueries(rule),
    ];
    used = obs.namesUsed(queries);

    const nats = await startNatsWithStore(cleanup);
    const ch = await startClickHouse();
    cleanup.push(() => ch.stop());
    sim = await startBinanceSpotSim({ symbols: ['BTCUSDT'], rate: 200, seed: 17 });
    cleanup.push(() => sim.stop());
    const port = await ((await import(SERVICES_URL)) as { getFreePort(): Promise<number> }).getFreePort();
    const collector = new Proc('collector', [COLLECTOR_MAIN], {
      NATS_URL: nats.url,
      COLLECTOR_EXCHANGE: 'sim-binance',
      COLLECTOR_SYMBOLS: 'BTCUSDT',
      COLLECTOR_WS_URL: sim.wsUrl,
      COLLECTOR_REST_URL: sim.restUrl,
      COLLECTOR_HTTP_PORT: String(port),
      COLLECTOR_BACKFILL_MINUTES: '0',
    });
    cleanup.push(() => collector.kill('SIGKILL'));
    const env = { NATS_URL: nats.url, CLICKHOUSE_URL: ch.url, CLICKHOUSE_DATABASE: DB };
    const agg = await startAggregatorApp(
      loadAggregatorConfig({
        ...env,
        AGG_HTTP_PORT: '0',
        AGG_FLUSH_INTERVAL_MS: '200',
        AGG_DISCOVER_INTERVAL_MS: '200',
      }),
      quiet ? { logger: false } : {},
    );
    cleanup.push(() => agg.app.close());
    const gw = await startGatewayApp(loadGatewayConfig({ ...env, GATEWAY_PORT: '0' }), quiet ? { logger: false } : {});
    cleanup.push(() => gw.app.close());
    urls = { collector: `http://127.0.0.1:${port}`, aggregator: agg.url, gateway: gw.metricsUrl };
    await waitFor(
      'the collector ready',
      async () =>
        !collector.alive ||
        (await fetch(`${urls.collector}/health/ready`).then(
          (r) => r.status,
          () => 0,
        )) === 200,
      30_000,
    );
    if (!collector.alive) throw new Error(`the collector exited:\n${collector.tail()}`);
    await waitFor('the shard counting BTCUSDT', () => agg.runtime.actors.size > 0 && agg.runtime.lag.size > 0, 30_000);

    // the live path: a client following the symbol, a refused subscription, an HTTP request, a malformed frame
    client = new LiveClient(gw.url);
    cleanup.push(async () => client.close());
    await client.connected();
    const model = await client.subscribe({
      exchange: 'sim-binance',
      symbol: 'BTCUSDT',
      timeframe: '1m',
      ticks: 1,
      candles: 10,
    });
    await waitFor('live updates at the client', () => model.updates >= 3, 30_000);
    const refused = await client.request('subscribe', {
      exchange: 'sim-binance',
      symbol: 'NOSUCHSYMBOL',
      timeframe: '1m',
      ticks: 1,
      candles: 10,
    });
    expect(refused.ok).toBe(false);
    expect((await fetch(`${gw.url}/api/instruments`)).status).toBe(200);
    expect(sim.controls.sendMalformed('not json at all')).toBe(1);
  }, 90_000);

  afterAll(() => runCleanup(cleanup));

  async function scrape(): Promise<Record<Service, Set<string>>> {
    const texts = await Promise.all(SERVICES.map((s) => fetch(`${urls[s]}/metrics`).then((r) => r.text())));
    return Object.fromEntries(SERVICES.map((s, i) => [s, sampleNames(texts[i]!)])) as Record<Service, Set<string>>;
  }

  it('every name a dashboard panel, variable or alert rule reads is exported by the services (or listed as external)', async () => {
    const own = [...used.keys()].filter((n) => !obs.EXTERNAL_METRICS[n]);
    expect(own.length).toBeGreaterThan(30);
    // the shard's lag and the collector's malformed-frame count appear once read: scrape until complete or 15 s
    let scrapes = await scrape();
    await waitFor(
      'every name in a scrape',
      async () => unexported(own, (scrapes = await scrape())).length === 0,
      15_000,
    ).catch(() => undefined);
    const missing = unexported(own, scrapes).map((n) => `${n} (read by ${used.get(n)!.join('; ')})`);
    expect(missing, 'metric names read by the dashboard or the rules that no service exports').toEqual([]);

    // the external names are read, and no service exports them (else they are not external)
    for (const [name, exporter] of Object.entries(obs.EXTERNAL_METRICS)) {
      expect(used.has(name), `${name} (${exporter}) is listed as external but nothing reads it`).toBe(true);
      expect(
        SERVICES.filter((s) => scrapes[s].has(name)),
        name,
      ).toEqual([]);
    }
    // the check itself: a misspelt name, a name in the wrong service, a histogram without its suffix
    expect(
      unexported(
        [
          'collector_trades_totl',
          'gateway_trades_total',
          'gateway_update_delay_seconds',
          'gateway_update_delay_seconds_bucket',
          'process_cpu_seconds_total',
        ],
        scrapes,
      ),
    ).toEqual(['collector_trades_totl', 'gateway_trades_total', 'gateway_update_delay_seconds']);
  });
});
