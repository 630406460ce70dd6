/**
 * The dashboard end to end, in Chromium (Debian's /usr/bin/chromium driven by playwright-core),
 * against the real stack: its own nats-server (JetStream) and ClickHouse, a real aggregator shard
 * in-process, the gateway in-process serving the dashboard's build (GATEWAY_STATIC_DIR), and a
 * recorded Binance BTCUSDT session replayed as the collector publishes it.
 *
 * - with no instrument in the URL the page opens on the first one /api/instruments lists;
 * - the page loads, connects and draws the footprint;
 * - the figures the page shows for a chosen cell (its tooltip and window.__orderflow) equal
 *   ClickHouse's footprint view, grouped by the test itself;
 * - publishing more of the recording updates the page live (and it ends equal to ClickHouse);
 * - changing the tick grouping and the timeframe re-renders correctly without reloading the page;
 * - the instrument picker searches as one types, lists the recently used first, and switches to
 *   another exchange's instrument or a merged view with the keyboard;
 * - a bad symbol in the URL shows the gateway's refusal in words, and the picker gets out of it.
 *
 * Each test saves a screenshot under docs/screenshots/. Skipped (with a message) where Chromium or
 * the recordings are missing. A second recording, replayed as Bybit's BTCUSDT, makes the picker's
 * list span two exchanges and the merged view merged BTC-USDT.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { consumerName, loadAggregatorConfig, startAggregatorApp } from '@orderflow/aggregator';
import { connectClickHouse } from '@orderflow/clickhouse';
import { loadGatewayConfig, startGatewayApp } from '@orderflow/gateway';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClickHouseServer, type Recording, ensureTradeStreams, publish, recording, startClickHouse, waitAllAcked } from './aggregator-support.js';
import { refGroup } from './gateway-support.js';
import { type Cleanup, connectTo, SHARED_DATA_MISSING, haveSharedData, requires, runCleanup, startNatsWithStore, waitFor } from './support.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const DASHBOARD = fileURLToPath(new URL('../../apps/dashboard/', import.meta.url));
const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const DB = 'dash';
/** A gateway the served dashboard may connect to (GATEWAY_ALLOWED_ORIGINS). */
const OTHER_GATEWAY = 'http://127.0.0.1:9';
const quiet = !process.env['SYSTEM_TEST_LOGS'];

interface RenderedCell {
  openTime: number;
  price: number;
  buyVolume: number;
  sellVolume: number;
  buyTrades: number;
  sellTrades: number;
  priceText: string;
  buyText: string;
  sellText: string;
}
/** What the page exposes (apps/dashboard/src/data.layer.ts), as the test reads it inside the page. */
interface DataLayer {
  state(): PageState;
  render: { texts: number };
  visible(): number[];
  cells(openTime?: number): RenderedCell[];
  pixelOf(openTime: number, price: number): [number, number] | null;
}
// evaluated in the page, where these exist (this project's TypeScript has no DOM library)
declare const window: { __orderflow?: DataLayer; __marker?: number };
declare function requestAnimationFrame(cb: () => void): number;
/** The page's own globals the CSP and token checks read (the suite compiles without the DOM library). */
declare const document: { addEventListener(type: 'securitypolicyviolation', cb: (e: { violatedDirective: string; blockedURI: string; sourceFile: string; lineNumber: number }) => void): void };
declare const sessionStorage: { getItem(key: string): string | null; clear(): void };
declare const localStorage: object;

interface PageState {
  subscriptionId: string | null;
  exchange: string | null;
  symbol: string | null;
  connection: string;
  error: { code: string; reason: string } | null;
  loading: boolean;
  timeframe: string | null;
  ticks: number | null;
  step: number | null;
  seq: number;
  updates: number;
  candles: number;
}

/** ClickHouse's footprint cell of a bucket, the native prices grouped by the test (ties to even). */
async function storedCell(ch: ClickHouseClient, tf: string, openTime: number, price: number, step: number): Promise<[bigint, bigint, number, number]> {
  const rs = await ch.query({
    query: `SELECT price, buy_volume, sell_volume, buy_trades, sell_trades FROM ${DB}.footprint WHERE exchange = 'binance' AND symbol = 'BTCUSDT' AND timeframe = '${tf}' AND bucket = toDateTime(${openTime / 1000})`,
    format: 'TabSeparated',
    clickhouse_settings: { enable_optimize_predicate_expression: 1 } as never,
  });
  const out: [bigint, bigint, number, number] = [0n, 0n, 0, 0];
  for (const line of (await rs.text()).split('\n')) {
    if (!line) continue;
    const [p, bv, sv, bt, st] = line.split('\t');
    if (refGroup(BigInt(p!), BigInt(step)) !== BigInt(price)) continue;
    out[0] += BigInt(bv!);
    out[1] += BigInt(sv!);
    out[2] += Number(bt);
    out[3] += Number(st);
  }
  return out;
}

/** "0.01234" for 1234 units at scale 5 (the test's own formatting). */
function decimal(units: bigint, scale: number): string {
  const neg = units < 0n;
  const s = (neg ? -units : units).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? s : `${s.slice(0, -scale)}.${s.slice(-scale)}`.replace(/0+$/, '').replace(/\.$/, '');
  return (neg ? '-' : '') + text;
}

describe('dashboard in Chromium against the real stack', requires([haveSharedData, SHARED_DATA_MISSING], [haveChromium, `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`]), () => {
  const stack: Cleanup = [];
  let ch: ClickHouseServer;
  let client: ClickHouseClient;
  let nc: NatsConnection;
  let gwUrl: string;
  let gwApp: { close(): Promise<void> } | null = null;
  let gwEnv: Record<string, string>;
  let browser: Browser;
  let page: Page;
  let spot: Recording;
  const cspViolations: string[] = [];
  /** Every URL the page requested or opened a WebSocket to. */
  const requested: string[] = [];
  const PICKER = '[data-testid=instrument]';
  /** The picker's options as "exchange symbol", in order. */
  const options = () => page.locator('[role=option]').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-exchange')} ${e.getAttribute('data-symbol')}`));
  const state = () => page.evaluate(() => window.__orderflow!.state()) as Promise<PageState>;
  const cells = (openTime?: number) => page.evaluate((t) => (t === null ? window.__orderflow!.cells() : window.__orderflow!.cells(t)), openTime ?? null) as Promise<RenderedCell[]>;
  const shot = (name: string) => page.screenshot({ path: `${SHOTS}${name}.png` });
  const settled = async (what: string, check: (s: PageState) => boolean) => {
    await waitFor(what, async () => {
      const s = await state();
      return s.connection === 'connected' && !s.loading && s.candles > 0 && check(s);
    }, 30_000);
    // one more frame so that what is checked has been drawn
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
  };

  /** The POC cell of the newest candle: its figures on the page, in its tooltip, and in ClickHouse. */
  async function checkCell(tf: string): Promise<void> {
    const s = await state();
    // the newest candle in view that has cells (see the snapshot test below for candles without)
    const withCells = await page.evaluate(() => window.__orderflow!.visible().filter((t: number) => window.__orderflow!.cells(t).length > 0));
    expect(withCells.length).toBeGreaterThan(0);
    const all = await cells(withCells[withCells.length - 1]);
    const cell = all.reduce((a, c) => (c.buyVolume + c.sellVolume > a.buyVolume + a.sellVolume ? c : a));
    const stored = await storedCell(client, tf, cell.openTime, cell.price, s.step!);
    expect([cell.buyVolume, cell.sellVolume, cell.buyTrades, cell.sellTrades].map(String), `${tf} x${s.ticks} cell ${cell.priceText} at ${new Date(cell.openTime).toISOString()}`).toEqual(stored.map(String));
    // what a trader reads: hover the cell, its tooltip prints the exact decimals
    const px = (await page.evaluate(([t, p]) => window.__orderflow!.pixelOf(t, p), [cell.openTime, cell.price] as const))!;
    const box = (await page.locator('[data-testid=chart]').boundingBox())!;
    await page.mouse.move(box.x + px[0], box.y + px[1]);
    const tip = page.locator('[data-testid=tooltip]');
    await tip.waitFor({ state: 'visible', timeout: 10_000 });
    const text = await tip.innerText();
    expect(text).toContain(`price ${cell.priceText}`);
    expect(text).toContain(`ask (bought) ${decimal(stored[0], 5)}`);
    expect(text).toContain(`bid (sold) ${decimal(stored[1], 5)}`);
    expect(text).toContain(`trades ${stored[2] + stored[3]} (${stored[2]} buy / ${stored[3]} sell)`);
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // the dashboard as the gateway serves it: a fresh production build, in a folder of its own (a
    // concurrent `nx build` of the dashboard writes apps/dashboard/dist)
    const dist = mkdtempSync(join(tmpdir(), 'orderflow-dashboard-'));
    stack.push(async () => rmSync(dist, { recursive: true, force: true }));
    execFileSync('npx', ['vite', 'build', '--logLevel', 'error', '--outDir', dist, '--emptyOutDir'], { cwd: DASHBOARD, stdio: 'inherit' });
    ch = await startClickHouse();
    stack.push(() => ch.stop());
    client = connectClickHouse({ url: ch.url });
    stack.push(() => client.close());
    const nats = await startNatsWithStore(stack);
    nc = await connectTo(nats.url);
    stack.push(() => nc.close());
    await ensureTradeStreams(nc);
    const agg = await startAggregatorApp(
      loadAggregatorConfig({ NATS_URL: nats.url, CLICKHOUSE_URL: ch.url, CLICKHOUSE_DATABASE: DB, AGG_HTTP_PORT: '0', AGG_FLUSH_INTERVAL_MS: '200', AGG_DISCOVER_INTERVAL_MS: '200' }),
      quiet ? { logger: false } : {},
    );
    stack.push(() => agg.app.close());
    spot = recording('binance-spot_BTCUSDT_trade-ws_2024-08-08T2354.jsonl', 'binance', 'BTCUSDT', '0.01', '0.00001');
    // the futures recording of the same minutes as if it were Bybit spot (other scales): a second exchange and a merged view
    const bybit = recording('binance-futures_BTCUSDT_trade-ws_2024-08-08T2354.jsonl', 'bybit', 'BTCUSDT', '0.1', '0.001');
    await Promise.all([publish(nc, spot, spot.trades.slice(0, Math.floor(spot.trades.length * 0.6))), publish(nc, bybit, bybit.trades.slice(0, Math.floor(bybit.trades.length * 0.4)))]);
    await waitAllAcked(nc, [consumerName('binance', 'BTCUSDT'), consumerName('bybit', 'BTCUSDT')]);
    // the metrics on any free port (the restarted gateway below takes a fixed public port)
    gwEnv = { NATS_URL: nats.url, CLICKHOUSE_URL: ch.url, CLICKHOUSE_DATABASE: DB, GATEWAY_STATIC_DIR: dist, GATEWAY_METRICS_PORT: '0', GATEWAY_ALLOWED_ORIGINS: OTHER_GATEWAY };
    const gw = await startGatewayApp(loadGatewayConfig({ ...gwEnv, GATEWAY_PORT: '0' }), quiet ? { logger: false } : {});
    gwApp = gw.app;
    stack.push(async () => gwApp?.close());
    gwUrl = gw.url;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    stack.push(() => browser.close());
    page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    // every Content-Security-Policy violation of the page, as the page's event and as Chromium's console message
    await page.exposeFunction('__reportCspViolation', (v: string) => void cspViolations.push(v));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        (window as unknown as { __reportCspViolation(v: string): void }).__reportCspViolation(`${e.violatedDirective} ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`);
      });
    });
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(`console: ${m.text()}`);
    });
    page.on('request', (r) => requested.push(r.url()));
    page.on('websocket', (w) => requested.push(w.url()));
  }, 180_000);

  afterAll(() => runCleanup(stack));

  it('with no instrument in the URL, opens on the first listed one within seconds and without an error', async () => {
    const t0 = Date.now();
    const response = await page.goto(`${gwUrl}/`);
    // the page is under the gateway's policy: what it draws below is drawn within it
    expect(response!.headers()['content-security-policy']).toMatch(/(^|; )default-src 'self'(;|$)/);
    expect(response!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await settled('a listed instrument is drawn', (s) => s.exchange !== null);
    const opened = Date.now() - t0;
    const s = await state();
    // /api/instruments lists by exchange, then symbol; the browser has no recently used one yet
    expect([s.exchange, s.symbol, s.error]).toEqual(['binance', 'BTCUSDT', null]);
    expect(new URL(page.url()).search).toContain('exchange=binance&symbol=BTCUSDT');
    expect((await cells()).length).toBeGreaterThan(0);
    expect(await page.locator('[role=alert]').count()).toBe(0);
    expect(await page.locator('[data-testid=instrument-note]').count()).toBe(0);
    expect(await page.inputValue(PICKER)).toBe('binance BTCUSDT');
    // a few seconds alone; the bound leaves room for npm test's parallel suites on 2 cores
    expect(opened, 'from navigation to cells drawn').toBeLessThan(15_000);
  });

  it('loads, connects and shows for a chosen cell exactly what ClickHouse holds', async () => {
    await page.goto(`${gwUrl}/?exchange=binance&symbol=BTCUSDT&tf=1m&ticks=100`);
    await settled('the footprint is drawn', (s) => s.ticks === 100);
    expect(await page.locator('[data-testid=connection]').innerText()).toBe('Connected');
    expect(await page.locator('[role=alert]').count()).toBe(0);
    await checkCell('1m');
    await shot('dashboard-footprint');
    // zoomed into prices (shift + wheel) the cells are tall enough to print their figures
    const texts = await page.evaluate(() => window.__orderflow!.render.texts);
    const box = (await page.locator('[data-testid=chart]').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.4);
    await page.keyboard.down('Shift');
    for (let i = 0; i < 14; i++) await page.mouse.wheel(0, -120);
    await page.keyboard.up('Shift');
    await waitFor('cell figures drawn', async () => (await page.evaluate(() => window.__orderflow!.render.texts)) > texts, 10_000);
    await shot('dashboard-cells-zoomed');
    await page.mouse.dblclick(box.x + box.width * 0.5, box.y + box.height * 0.3);
  });

  it('every candle of the snapshot carries the cells that /api/footprint has for it', async () => {
    const s = await state();
    const shown = await page.evaluate(() => window.__orderflow!.visible().map((t: number) => [t, window.__orderflow!.cells(t).length]));
    const from = shown[0]![0]!;
    const to = shown[shown.length - 1]![0]! + 60_000;
    const r = (await (await fetch(`${gwUrl}/api/footprint?exchange=binance&symbol=BTCUSDT&timeframe=1m&from=${from}&to=${to}&ticks=${s.ticks}`)).json()) as { candles: { openTime: number; cells: unknown[] }[] };
    expect(shown, 'cells per candle on the page vs /api/footprint').toEqual(r.candles.map((c) => [c.openTime, c.cells.length]));
  });

  it('applies live updates as the recording goes on, and ends equal to ClickHouse', async () => {
    const before = await state();
    const last = (await cells()).reduce((n, c) => n + c.buyTrades + c.sellTrades, 0);
    await publish(nc, spot, spot.trades.slice(Math.floor(spot.trades.length * 0.6)));
    await waitAllAcked(nc, [consumerName('binance', 'BTCUSDT')]);
    await settled('live updates arrived', (s) => s.seq > before.seq);
    const after = await state();
    expect(after.updates).toBeGreaterThan(0);
    const newest = await cells();
    expect(newest.reduce((n, c) => n + c.buyTrades + c.sellTrades, 0) !== last || after.candles > before.candles).toBe(true);
    // every cell of the newest candle equals ClickHouse once the aggregator has written it
    await waitFor('the newest candle equals ClickHouse', async () => {
      for (const c of await cells()) {
        const stored = await storedCell(client, '1m', c.openTime, c.price, after.step!);
        if (stored.join() !== [c.buyVolume, c.sellVolume, c.buyTrades, c.sellTrades].join()) return false;
      }
      return true;
    }, 30_000);
    expect(await page.locator('[data-testid=connection]').innerText()).toBe('Connected');
    await shot('dashboard-live');
  });

  it('re-renders a new tick grouping and timeframe without reloading the page', async () => {
    await page.evaluate(() => (window.__marker = 42));
    await page.selectOption('[data-testid=ticks]', '250');
    await settled('grouped by 250 ticks', (s) => s.ticks === 250 && s.step === 250);
    await checkCell('1m');
    await shot('dashboard-ticks-250');
    await page.selectOption('[data-testid=timeframe]', '5m');
    await settled('5m candles', (s) => s.timeframe === '5m' && s.ticks === 250);
    await checkCell('5m');
    await page.selectOption('[data-testid=cell-mode]', 'deltaVolume');
    await page.check('[data-testid=tpo-toggle]');
    await page.locator('[data-testid=tpo]').waitFor({ state: 'visible', timeout: 10_000 });
    await shot('dashboard-5m-tpo');
    expect(await page.evaluate(() => window.__marker)).toBe(42);
  });

  it('the picker searches as one types, the recently used first, and switches instrument with the keyboard', async () => {
    await page.click(PICKER);
    await page.keyboard.type('btc');
    await waitFor('the picker lists the matches', async () => (await options()).length === 3, 5_000);
    expect(await options()).toEqual(['binance BTCUSDT', 'bybit BTCUSDT', 'merged BTC-USDT']);
    expect(await page.locator('[role=option]').first().innerText()).toContain('recent');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await page.locator('[role=option][aria-selected=true]').getAttribute('data-symbol')).toBe('BTC-USDT');
    await shot('dashboard-instrument-picker');
    await page.keyboard.press('Enter');
    await settled('the merged view', (s) => s.exchange === 'merged' && s.symbol === 'BTC-USDT');
    expect((await cells()).length).toBeGreaterThan(0);
    const search = new URL(page.url()).searchParams;
    expect([search.get('exchange'), search.get('symbol'), search.get('tf')]).toEqual(['merged', 'BTC-USDT', '5m']);
    expect(await page.locator('[role=listbox]').count()).toBe(0);
    expect(await page.inputValue(PICKER)).toBe('merged BTC-USDT');
  });

  it('says in words that an instrument in the URL does not exist, and the picker gets out of it', async () => {
    await page.goto(`${gwUrl}/?exchange=binance&symbol=NOPEUSDT&tf=5m&ticks=250&mode=deltaVolume&tpo=1`);
    const alert = page.locator('[role=alert]');
    await alert.waitFor({ state: 'visible', timeout: 15_000 });
    const text = await alert.innerText();
    expect(text).toContain('unknown-symbol');
    expect(text).toContain('NOPEUSDT');
    await shot('dashboard-bad-symbol');
    // the picker still works: it opens with the recently used (most recent first) and chooses a listed one
    await page.click(PICKER);
    await waitFor('the picker lists the instruments', async () => (await options()).length === 3, 5_000);
    expect(await options()).toEqual(['merged BTC-USDT', 'binance BTCUSDT', 'bybit BTCUSDT']);
    await page.keyboard.type('binance btc');
    await waitFor('one match', async () => (await options()).join() === 'binance BTCUSDT', 5_000);
    await page.keyboard.press('Enter');
    await settled('back to binance BTCUSDT', (s) => s.error === null && s.exchange === 'binance' && s.symbol === 'BTCUSDT');
    expect(await alert.count()).toBe(0);
    expect(new URL(page.url()).searchParams.get('symbol')).toBe('BTCUSDT');
  });

  it('says when the gateway is down, and reconnects and re-subscribes by itself', async () => {
    await gwApp!.close();
    gwApp = null;
    const connection = page.locator('[data-testid=connection]');
    await waitFor('the page says it lost the gateway', async () => /^Reconnecting: /.test(await connection.innerText()), 20_000);
    expect(await connection.innerText()).toMatch(/Reconnecting: (cannot reach the gateway|connection lost)/);
    await shot('dashboard-gateway-down');
    const port = new URL(gwUrl).port;
    const gw = await startGatewayApp(loadGatewayConfig({ ...gwEnv, GATEWAY_PORT: port }), quiet ? { logger: false } : {});
    gwApp = gw.app;
    await settled('connected and subscribed again', (s) => s.subscriptionId !== null && s.error === null);
    expect(await connection.innerText()).toBe('Connected');
    await checkCell('5m');
  });

  it('takes ?token= out of the address bar and keeps it for the tab, across a reload', async () => {
    const token = 'a-token-for-this-tab-0123456789';
    await page.goto(`${gwUrl}/?exchange=binance&symbol=BTCUSDT&token=${token}&tf=1m`);
    await settled('the page connected', () => true);
    const url = new URL(page.url());
    expect(url.searchParams.has('token')).toBe(false);
    expect(url.searchParams.get('symbol')).toBe('BTCUSDT');
    expect(await page.evaluate(() => sessionStorage.getItem('orderflow.dashboard.token.'))).toBe(token);
    expect(await page.evaluate(() => JSON.stringify(localStorage)), 'never in localStorage').not.toContain(token);
    await page.reload();
    await settled('the page connected again', () => true);
    expect(new URL(page.url()).searchParams.has('token')).toBe(false);
    expect(await page.evaluate(() => sessionStorage.getItem('orderflow.dashboard.token.'))).toBe(token);
    await page.evaluate(() => sessionStorage.clear());
  });

  it('?gateway= outside the allowed origins: says so and connects nowhere; an allowed one is tried', async () => {
    const before = requested.length;
    await page.goto(`${gwUrl}/?exchange=binance&symbol=BTCUSDT&gateway=${encodeURIComponent('https://evil.example')}`);
    const connection = page.locator('[data-testid=connection]');
    await waitFor('the page refuses the gateway', async () => /^Disconnected: gateway https:\/\/evil\.example is not allowed/.test(await connection.innerText()), 15_000);
    expect(await connection.innerText()).toContain(`(allowed: ${gwUrl}, ${OTHER_GATEWAY};`);
    await shot('dashboard-gateway-not-allowed');
    await new Promise((r) => setTimeout(r, 500));
    expect(requested.slice(before).filter((u) => new URL(u).hostname === 'evil.example')).toEqual([]);
    // every request went to the serving gateway (the page, its assets, /dashboard-config.json)
    expect(requested.slice(before).filter((u) => !u.startsWith(gwUrl))).toEqual([]);
    // an allowed gateway is connected to (nothing listens there: the page says it cannot reach it)
    const tried = requested.length;
    await page.goto(`${gwUrl}/?exchange=binance&symbol=BTCUSDT&gateway=${encodeURIComponent(OTHER_GATEWAY)}`);
    await waitFor('the page tries the allowed gateway', () => requested.slice(tried).some((u) => u.startsWith(OTHER_GATEWAY.replace('http', 'ws'))), 15_000);
    await page.goto(`${gwUrl}/?exchange=binance&symbol=BTCUSDT&tf=5m`);
    await settled('back on its own gateway', (s) => s.timeframe === '5m');
  });

  it('reported no Content-Security-Policy violation in any of the above', () => {
    expect(cspViolations).toEqual([]);
  });
});
