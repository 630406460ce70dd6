/**
 * The dashboard end to end, in Chromium (Debian's /usr/bin/chromium driven by playwright-core),
 * against the real stack: its own nats-server (JetStream) and ClickHouse, a real aggregator shard
 * in-process, the gateway in-process serving the dashboard's build (GATEWAY_STATIC_DIR), and a
 * recorded Binance BTCUSDT session replayed as the collector publishes it.
 *
 * - with no instrument in the URL the page opens on the first one /api/instruments lists;
 * - every cell of every candle in view (window.__orderflow.cells: integer units and the exact
 *   decimals the page prints) equals ClickHouse's analyst view `footprint`, read by the test with its
 *   own SQL and grouped to the page's tick grouping by the test itself: for the snapshot, after the
 *   live updates, at another grouping and timeframe, and after a reconnect. Each comparison waits
 *   first until ClickHouse holds every trade published so far (the aggregator flushes the open
 *   minute too, and a replay ends, so nothing changes after that) and until the page's candles in
 *   view hold as many trades as ClickHouse's; then it compares once, exactly;
 * - a chosen cell's tooltip prints those figures;
 * - changing the tick grouping and the timeframe re-renders without reloading the page;
 * - the instrument picker searches as one types, lists the recently used first, and switches to
 *   another exchange's instrument or a merged view with the keyboard;
 * - a bad symbol in the URL shows the gateway's refusal in words, and the picker gets out of it;
 * - no test leaves a page error: an uncaught exception, a console error, a failed request, an HTTP
 *   error answer or a Content-Security-Policy violation fails the test it happened in, unless that
 *   test declares it as the behaviour under test (a stopped gateway, an unreachable allowed one).
 *
 * Screenshots go to a new temporary directory, printed at the start and the end, or to
 * ORDERFLOW_SCREENSHOTS_DIR (`npm run screenshots` sets it to regenerate docs/screenshots/). Skipped
 * (with a message) where Chromium or the recordings are missing. A second recording, replayed as
 * Bybit's BTCUSDT, makes the picker's list span two exchanges and the merged view merged BTC-USDT.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { consumerName, loadAggregatorConfig, startAggregatorApp } from '@orderflow/aggregator';
import { connectClickHouse } from '@orderflow/clickhouse';
import type { FootprintResponse } from '@orderflow/contracts';
import { loadGatewayConfig, startGatewayApp } from '@orderflow/gateway';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClickHouseServer,
  type Recording,
  ensureTradeStreams,
  publish,
  recording,
  startClickHouse,
  waitAllAcked,
} from './aggregator-support.js';
import {
  type Cleanup,
  connectTo,
  SHARED_DATA_MISSING,
  haveSharedData,
  requires,
  runCleanup,
  startNatsWithStore,
  waitFor,
} from './support.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
const DASHBOARD = fileURLToPath(new URL('../../apps/dashboard/', import.meta.url));
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
declare const document: {
  addEventListener(
    type: 'securitypolicyviolation',
    cb: (e: { violatedDirective: string; blockedURI: string; sourceFile: string; lineNumber: number }) => void,
  ): void;
};
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
  scales: { priceScale: number; quantityScale: number; tick: number } | null;
  seq: number;
  updates: number;
  candles: number;
}

/** The instrument's scales as the test publishes it (tick 0.01, quantity step 0.00001): one tick is one price unit. */
const PRICE_SCALE = 2;
const QUANTITY_SCALE = 5;

/**
 * A price (units) grouped to `step` units: the nearest multiple, ties to the even multiple (README, "Grouping to N
 * ticks").
 */
function groupPrice(p: bigint, step: bigint): bigint {
  const r = ((p % step) + step) % step;
  const below = p - r;
  if (2n * r !== step) return 2n * r < step ? below : below + step;
  return (below / step) % 2n === 0n ? below : below + step;
}

/** buy volume, sell volume (units), buy trades, sell trades. */
type StoredCell = [bigint, bigint, bigint, bigint];

/**
 * ClickHouse's footprint of binance BTCUSDT at `tf`, buckets `from`..`to` (open times, ms), read
 * from the analyst view `footprint` (the final row of each stored cell) and grouped to `step` price
 * units by the test: open time -> grouped price -> figures.
 */
async function storedCandles(
  ch: ClickHouseClient,
  tf: string,
  from: number,
  to: number,
  step: number,
): Promise<Map<number, Map<bigint, StoredCell>>> {
  const rs = await ch.query({
    query: `SELECT toUInt32(bucket), price, buy_volume, sell_volume, buy_trades, sell_trades FROM ${DB}.footprint
            WHERE exchange = 'binance' AND symbol = 'BTCUSDT' AND timeframe = '${tf}' AND bucket >= toDateTime(${from / 1000}) AND bucket <= toDateTime(${to / 1000})`,
    format: 'TabSeparated',
    clickhouse_settings: { enable_optimize_predicate_expression: 1 } as never,
  });
  const out = new Map<number, Map<bigint, StoredCell>>();
  for (const line of (await rs.text()).split('\n')) {
    if (!line) continue;
    const [t, p, bv, sv, bt, st] = line.split('\t');
    const openTime = Number(t) * 1000;
    const level = groupPrice(BigInt(p!), BigInt(step));
    const candle = out.get(openTime) ?? new Map<bigint, StoredCell>();
    out.set(openTime, candle);
    const c = candle.get(level) ?? [0n, 0n, 0n, 0n];
    candle.set(level, [c[0] + BigInt(bv!), c[1] + BigInt(sv!), c[2] + BigInt(bt!), c[3] + BigInt(st!)]);
  }
  return out;
}

/** Trades of binance BTCUSDT in ClickHouse's 1m footprint: every trade the aggregator has written. */
async function storedTradeCount(ch: ClickHouseClient): Promise<number> {
  const rs = await ch.query({
    query: `SELECT sum(buy_trades + sell_trades) FROM ${DB}.footprint WHERE exchange = 'binance' AND symbol = 'BTCUSDT' AND timeframe = '1m'`,
    format: 'TabSeparated',
    clickhouse_settings: { enable_optimize_predicate_expression: 1 } as never,
  });
  return Number((await rs.text()).trim() || '0');
}

/** "0.01234" for 1234 units at scale 5 (the test's own formatting). */
function decimal(units: bigint, scale: number): string {
  const neg = units < 0n;
  const s = (neg ? -units : units).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? s : `${s.slice(0, -scale)}.${s.slice(-scale)}`.replace(/0+$/, '').replace(/\.$/, '');
  return (neg ? '-' : '') + text;
}

describe(
  'dashboard in Chromium against the real stack',
  requires(
    [haveSharedData, SHARED_DATA_MISSING],
    [haveChromium, `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`],
  ),
  () => {
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
    /** Distinct ids of the spot trades published so far: what ClickHouse must hold before a comparison. */
    const publishedSpot = new Set<string>();
    const cspViolations: string[] = [];
    /** Every URL the page requested or opened a WebSocket to. */
    const requested: string[] = [];
    /**
     * What went wrong in the page since the last test ended: uncaught exceptions, console errors,
     * failed requests, HTTP error answers, WebSocket errors, CSP violations. afterEach fails the test
     * with those it did not declare with expectProblems.
     */
    const problems: string[] = [];
    let expected: { pattern: RegExp; why: string; required: boolean }[] = [];
    /**
     * Declares page problems that the running test provokes on purpose (matched against the problem's
     * text); `required`: the test fails unless at least one happened (it proves they are caught).
     */
    const expectProblems = (pattern: RegExp, why: string, required = false) =>
      void expected.push({ pattern, why, required });
    let shots = '';
    let shotCount = 0;
    const PICKER = '[data-testid=instrument]';
    /** The picker's options as "exchange symbol", in order. */
    const options = () =>
      page
        .locator('[role=option]')
        .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-exchange')} ${e.getAttribute('data-symbol')}`));
    const state = () => page.evaluate(() => window.__orderflow!.state()) as Promise<PageState>;
    const cells = (openTime?: number) =>
      page.evaluate(
        (t) => (t === null ? window.__orderflow!.cells() : window.__orderflow!.cells(t)),
        openTime ?? null,
      ) as Promise<RenderedCell[]>;
    const shot = async (name: string) => {
      await page.screenshot({ path: join(shots, `${name}.png`) });
      shotCount++;
    };
    const settled = async (what: string, check: (s: PageState) => boolean) => {
      await waitFor(
        what,
        async () => {
          const s = await state();
          return s.connection === 'connected' && !s.loading && s.candles > 0 && check(s);
        },
        30_000,
      );
      // one more frame so that what is checked has been drawn
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    };

    /**
     * Every cell of every candle in view, as the page holds it: open time (ISO) -> one line per cell, in the page's
     * order.
     */
    const cellsInView = () =>
      page.evaluate(() => {
        const layer = window.__orderflow!;
        return layer
          .visible()
          .map(
            (t: number) =>
              [
                t,
                layer
                  .cells(t)
                  .map((c) => [
                    c.price,
                    c.buyVolume,
                    c.sellVolume,
                    c.buyTrades,
                    c.sellTrades,
                    c.priceText,
                    c.buyText,
                    c.sellText,
                  ]),
              ] as const,
          );
      }) as Promise<[number, [number, number, number, number, number, string, string, string][]][]>;

    /**
     * Every cell of every candle in view equals ClickHouse's, exactly: the same candles, the same
     * levels, the same integer units, and the decimals the page prints equal the test's own
     * formatting of ClickHouse's units. Waits first until ClickHouse holds every trade published so
     * far and the page's candles in view hold as many trades as ClickHouse's for them (the page has
     * applied the last live update); then compares once.
     */
    async function checkEveryCell(what: string): Promise<void> {
      await waitFor(
        `ClickHouse holds the ${publishedSpot.size} trades published`,
        async () => (await storedTradeCount(client)) === publishedSpot.size,
        30_000,
      );
      const s = await state();
      expect([s.exchange, s.symbol, s.scales], what).toEqual([
        'binance',
        'BTCUSDT',
        { priceScale: PRICE_SCALE, quantityScale: QUANTITY_SCALE, tick: 1 },
      ]);
      expect(s.step, 'one tick is one price unit').toBe(s.ticks);
      const tf = s.timeframe!;
      const step = s.ticks!;
      let shown = await cellsInView();
      expect(shown.length, `${what}: candles in view`).toBeGreaterThan(0);
      const read = () => storedCandles(client, tf, shown[0]![0], shown[shown.length - 1]![0], step);
      let stored = await read();
      const tradesOf = (rows: typeof shown) => rows.reduce((n, [, cs]) => cs.reduce((m, c) => m + c[3] + c[4], n), 0);
      const storedTrades = () =>
        [...stored.values()].reduce((n, m) => [...m.values()].reduce((k, c) => k + Number(c[2] + c[3]), n), 0);
      // when the page does not catch up, the comparison below shows where it differs
      let caughtUp = true;
      await waitFor(
        `${what}: the page's candles in view hold ClickHouse's trades`,
        async () => {
          shown = await cellsInView();
          stored = await read();
          return tradesOf(shown) === storedTrades();
        },
        15_000,
      ).catch(() => (caughtUp = false));
      const onPage: Record<string, string[]> = {};
      const clickhouse: Record<string, string[]> = {};
      for (const [t, cs] of shown) {
        onPage[new Date(t).toISOString()] = cs.map(
          ([p, bv, sv, bt, st, pt, bx, sx]) => `${pt} (${p}): buy ${bx} (${bv}) in ${bt}, sell ${sx} (${sv}) in ${st}`,
        );
        clickhouse[new Date(t).toISOString()] = [];
      }
      for (const [t, levels] of stored) {
        clickhouse[new Date(t).toISOString()] = [...levels]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(
            ([p, [bv, sv, bt, st]]) =>
              `${decimal(p, PRICE_SCALE)} (${p}): buy ${decimal(bv, QUANTITY_SCALE)} (${bv}) in ${bt}, sell ${decimal(sv, QUANTITY_SCALE)} (${sv}) in ${st}`,
          );
      }
      const compared = Object.values(onPage).reduce((n, l) => n + l.length, 0);
      expect(compared, `${what}: cells in view`).toBeGreaterThan(0);
      expect(
        onPage,
        `${what}: ${tf} x${step}, every cell of the ${shown.length} candles in view, page vs ClickHouse${caughtUp ? '' : ' (their trade counts still differed after 15 s)'}`,
      ).toEqual(clickhouse);
      console.log(
        `${what}: ${compared} cells of ${shown.length} candles in view (${tf}, ${step} ticks) equal ClickHouse's`,
      );
    }

    /** The POC cell of the newest candle in view: what its tooltip prints is what ClickHouse holds. */
    async function checkTooltip(): Promise<void> {
      const s = await state();
      // the newest candle in view that has cells (see the snapshot test below for candles without)
      const withCells = await page.evaluate(() =>
        window.__orderflow!.visible().filter((t: number) => window.__orderflow!.cells(t).length > 0),
      );
      expect(withCells.length).toBeGreaterThan(0);
      const all = await cells(withCells[withCells.length - 1]);
      const cell = all.reduce((a, c) => (c.buyVolume + c.sellVolume > a.buyVolume + a.sellVolume ? c : a));
      const [bv, sv, bt, st] = (await storedCandles(client, s.timeframe!, cell.openTime, cell.openTime, s.ticks!))
        .get(cell.openTime)
        ?.get(BigInt(cell.price)) ?? [0n, 0n, 0n, 0n];
      // what a trader reads: hover the cell, its tooltip prints the exact decimals
      const px = (await page.evaluate(([t, p]) => window.__orderflow!.pixelOf(t, p), [
        cell.openTime,
        cell.price,
      ] as const))!;
      const box = (await page.locator('[data-testid=chart]').boundingBox())!;
      await page.mouse.move(box.x + px[0], box.y + px[1]);
      const tip = page.locator('[data-testid=tooltip]');
      await tip.waitFor({ state: 'visible', timeout: 10_000 });
      const text = await tip.innerText();
      expect(text).toContain(`price ${decimal(BigInt(cell.price), PRICE_SCALE)}`);
      expect(text).toContain(`ask (bought) ${decimal(bv, QUANTITY_SCALE)}`);
      expect(text).toContain(`bid (sold) ${decimal(sv, QUANTITY_SCALE)}`);
      expect(text).toContain(`trades ${bt + st} (${bt} buy / ${st} sell)`);
    }

    /** The snapshot or live view at this moment: every cell in view, and the tooltip of one. */
    async function checkView(what: string): Promise<void> {
      await checkEveryCell(what);
      await checkTooltip();
    }

    beforeAll(async () => {
      shots =
        process.env['ORDERFLOW_SCREENSHOTS_DIR'] || mkdtempSync(join(tmpdir(), 'orderflow-dashboard-screenshots-'));
      mkdirSync(shots, { recursive: true });
      console.log(`dashboard screenshots: ${shots}`);
      // the dashboard as the gateway serves it: a fresh production build, in a folder of its own (a
      // concurrent `nx build` of the dashboard writes apps/dashboard/dist)
      const dist = mkdtempSync(join(tmpdir(), 'orderflow-dashboard-'));
      stack.push(async () => rmSync(dist, { recursive: true, force: true }));
      execFileSync('npx', ['vite', 'build', '--logLevel', 'error', '--outDir', dist, '--emptyOutDir'], {
        cwd: DASHBOARD,
        stdio: 'inherit',
      });
      ch = await startClickHouse();
      stack.push(() => ch.stop());
      client = connectClickHouse({ url: ch.url });
      stack.push(() => client.close());
      const nats = await startNatsWithStore(stack);
      nc = await connectTo(nats.url);
      stack.push(() => nc.close());
      await ensureTradeStreams(nc);
      const agg = await startAggregatorApp(
        loadAggregatorConfig({
          NATS_URL: nats.url,
          CLICKHOUSE_URL: ch.url,
          CLICKHOUSE_DATABASE: DB,
          AGG_HTTP_PORT: '0',
          AGG_FLUSH_INTERVAL_MS: '200',
          AGG_DISCOVER_INTERVAL_MS: '200',
        }),
        quiet ? { logger: false } : {},
      );
      stack.push(() => agg.app.close());
      spot = recording('binance-spot_BTCUSDT_trade-ws_2024-08-08T2354.jsonl', 'binance', 'BTCUSDT', '0.01', '0.00001');
      // the futures recording of the same minutes as if it were Bybit spot (other scales): a second exchange and a
      // merged view
      const bybit = recording(
        'binance-futures_BTCUSDT_trade-ws_2024-08-08T2354.jsonl',
        'bybit',
        'BTCUSDT',
        '0.1',
        '0.001',
      );
      const first = spot.trades.slice(0, Math.floor(spot.trades.length * 0.6));
      await Promise.all([
        publish(nc, spot, first),
        publish(nc, bybit, bybit.trades.slice(0, Math.floor(bybit.trades.length * 0.4))),
      ]);
      for (const t of first) publishedSpot.add(t.id);
      await waitAllAcked(nc, [consumerName('binance', 'BTCUSDT'), consumerName('bybit', 'BTCUSDT')]);
      // the metrics on any free port (the restarted gateway below takes a fixed public port)
      gwEnv = {
        NATS_URL: nats.url,
        CLICKHOUSE_URL: ch.url,
        CLICKHOUSE_DATABASE: DB,
        GATEWAY_STATIC_DIR: dist,
        GATEWAY_METRICS_PORT: '0',
        GATEWAY_ALLOWED_ORIGINS: OTHER_GATEWAY,
      };
      const gw = await startGatewayApp(
        loadGatewayConfig({ ...gwEnv, GATEWAY_PORT: '0' }),
        quiet ? { logger: false } : {},
      );
      gwApp = gw.app;
      stack.push(async () => gwApp?.close());
      gwUrl = gw.url;
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      stack.push(() => browser.close());
      page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
      page.on('pageerror', (e) => void problems.push(`uncaught exception: ${e.message}`));
      // every Content-Security-Policy violation of the page, as the page's event and as Chromium's console message
      await page.exposeFunction('__reportCspViolation', (v: string) => {
        cspViolations.push(v);
        problems.push(`CSP violation: ${v}`);
      });
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
          (window as unknown as { __reportCspViolation(v: string): void }).__reportCspViolation(
            `${e.violatedDirective} ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`,
          );
        });
      });
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) cspViolations.push(`console: ${m.text()}`);
        if (m.type() === 'error') problems.push(`console error: ${m.text()} (${m.location().url})`);
      });
      page.on('request', (r) => requested.push(r.url()));
      // net::ERR_ABORTED is a request cancelled by the page (a superseded history read) or by a navigation, not a
      // failure
      page.on('requestfailed', (r) => {
        const reason = r.failure()?.errorText ?? 'failed';
        if (reason !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.method()} ${r.url()}: ${reason}`);
      });
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
      });
      page.on('websocket', (w) => {
        requested.push(w.url());
        w.on('socketerror', (e) => void problems.push(`WebSocket error: ${w.url()}: ${e}`));
      });
    }, 180_000);

    afterEach(() => {
      const unexpected = problems.filter((p) => !expected.some((e) => e.pattern.test(p)));
      const missing = expected
        .filter((e) => e.required && !problems.some((p) => e.pattern.test(p)))
        .map((e) => `${e.pattern}: ${e.why}`);
      problems.length = 0;
      expected = [];
      expect(unexpected, 'page errors, failed requests or CSP violations in this test').toEqual([]);
      expect(missing, 'page problems this test provokes, not seen').toEqual([]);
    });

    afterAll(async () => {
      await runCleanup(stack);
      if (shots)
        console.log(
          `dashboard screenshots: ${shotCount} in ${shots}${shotCount ? ` (${readdirSync(shots).join(', ')})` : ''}`,
        );
    });

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
      await checkEveryCell('the first open');
    });

    it('loads, connects and shows in every cell in view exactly what ClickHouse holds', async () => {
      await page.goto(`${gwUrl}/?exchange=binance&symbol=BTCUSDT&tf=1m&ticks=100`);
      await settled('the footprint is drawn', (s) => s.ticks === 100);
      expect(await page.locator('[data-testid=connection]').innerText()).toBe('Connected');
      expect(await page.locator('[role=alert]').count()).toBe(0);
      await checkView('the snapshot');
      await shot('dashboard-footprint');
      // zoomed into prices (shift + wheel) the cells are tall enough to print their figures
      const texts = await page.evaluate(() => window.__orderflow!.render.texts);
      const box = (await page.locator('[data-testid=chart]').boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.4);
      await page.keyboard.down('Shift');
      for (let i = 0; i < 14; i++) await page.mouse.wheel(0, -120);
      await page.keyboard.up('Shift');
      await waitFor(
        'cell figures drawn',
        async () => (await page.evaluate(() => window.__orderflow!.render.texts)) > texts,
        10_000,
      );
      await shot('dashboard-cells-zoomed');
      await page.mouse.dblclick(box.x + box.width * 0.5, box.y + box.height * 0.3);
    });

    it('every candle of the snapshot carries the cells that /api/footprint has for it', async () => {
      const s = await state();
      const shown = await page.evaluate(() =>
        window.__orderflow!.visible().map((t: number) => [t, window.__orderflow!.cells(t).length]),
      );
      const from = shown[0]![0]!;
      const to = shown[shown.length - 1]![0]! + 60_000;
      const r = (await (
        await fetch(
          `${gwUrl}/api/footprint?exchange=binance&symbol=BTCUSDT&timeframe=1m&from=${from}&to=${to}&ticks=${s.ticks}`,
        )
      ).json()) as FootprintResponse;
      expect(shown, 'cells per candle on the page vs /api/footprint').toEqual(
        r.candles.map((c) => [c.openTime, c.cells.length]),
      );
    });

    it('applies live updates as the recording goes on, and ends with every cell in view equal to ClickHouse', async () => {
      const before = await state();
      const last = (await cells()).reduce((n, c) => n + c.buyTrades + c.sellTrades, 0);
      const rest = spot.trades.slice(Math.floor(spot.trades.length * 0.6));
      await publish(nc, spot, rest);
      for (const t of rest) publishedSpot.add(t.id);
      await waitAllAcked(nc, [consumerName('binance', 'BTCUSDT')]);
      await settled('live updates arrived', (s) => s.seq > before.seq);
      const after = await state();
      expect(after.updates).toBeGreaterThan(0);
      const newest = await cells();
      expect(
        newest.reduce((n, c) => n + c.buyTrades + c.sellTrades, 0) !== last || after.candles > before.candles,
      ).toBe(true);
      await checkView('after the live updates');
      expect(await page.locator('[data-testid=connection]').innerText()).toBe('Connected');
      await shot('dashboard-live');
    });

    it('re-renders a new tick grouping and timeframe without reloading the page', async () => {
      await page.evaluate(() => (window.__marker = 42));
      await page.selectOption('[data-testid=ticks]', '250');
      await settled('grouped by 250 ticks', (s) => s.ticks === 250 && s.step === 250);
      await checkView('1m grouped by 250 ticks');
      await shot('dashboard-ticks-250');
      await page.selectOption('[data-testid=timeframe]', '5m');
      await settled('5m candles', (s) => s.timeframe === '5m' && s.ticks === 250);
      await checkView('5m grouped by 250 ticks');
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
      await settled(
        'back to binance BTCUSDT',
        (s) => s.error === null && s.exchange === 'binance' && s.symbol === 'BTCUSDT',
      );
      expect(await alert.count()).toBe(0);
      expect(new URL(page.url()).searchParams.get('symbol')).toBe('BTCUSDT');
    });

    it('says when the gateway is down, and reconnects and re-subscribes by itself', async () => {
      const host = new URL(gwUrl).host.replace(/\./g, '\\.');
      // any network error of a request or WebSocket to the stopped gateway (refused, reset, closed while connecting)
      expectProblems(
        new RegExp(`${host}/(socket\\.io|api)/.*(net::ERR_|closed before)|net::ERR_.*${host}/(socket\\.io|api)/`),
        'the stopped gateway: the reconnection attempts fail until it is back',
      );
      await gwApp!.close();
      gwApp = null;
      const connection = page.locator('[data-testid=connection]');
      await waitFor(
        'the page says it lost the gateway',
        async () => /^Reconnecting: /.test(await connection.innerText()),
        20_000,
      );
      expect(await connection.innerText()).toMatch(/Reconnecting: (cannot reach the gateway|connection lost)/);
      await shot('dashboard-gateway-down');
      const port = new URL(gwUrl).port;
      const gw = await startGatewayApp(
        loadGatewayConfig({ ...gwEnv, GATEWAY_PORT: port }),
        quiet ? { logger: false } : {},
      );
      gwApp = gw.app;
      await settled('connected and subscribed again', (s) => s.subscriptionId !== null && s.error === null);
      expect(await connection.innerText()).toBe('Connected');
      await checkView('after the reconnect');
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
      await page.goto(
        `${gwUrl}/?exchange=binance&symbol=BTCUSDT&gateway=${encodeURIComponent('https://evil.example')}`,
      );
      const connection = page.locator('[data-testid=connection]');
      await waitFor(
        'the page refuses the gateway',
        async () => /^Disconnected: gateway https:\/\/evil\.example is not allowed/.test(await connection.innerText()),
        15_000,
      );
      expect(await connection.innerText()).toContain(`(allowed: ${gwUrl}, ${OTHER_GATEWAY};`);
      await shot('dashboard-gateway-not-allowed');
      await new Promise((r) => setTimeout(r, 500));
      expect(requested.slice(before).filter((u) => new URL(u).hostname === 'evil.example')).toEqual([]);
      // every request went to the serving gateway (the page, its assets, /dashboard-config.json)
      expect(requested.slice(before).filter((u) => !u.startsWith(gwUrl))).toEqual([]);
      // an allowed gateway is connected to (nothing listens there: the page says it cannot reach it)
      expectProblems(
        new RegExp(`${OTHER_GATEWAY.replace('http://', '').replace(/\./g, '\\.')}/`),
        'nothing listens at the allowed gateway (Chromium refuses its port outright): the attempts to reach it fail',
        true,
      );
      const tried = requested.length;
      await page.goto(`${gwUrl}/?exchange=binance&symbol=BTCUSDT&gateway=${encodeURIComponent(OTHER_GATEWAY)}`);
      await waitFor(
        'the page tries the allowed gateway',
        () => requested.slice(tried).some((u) => u.startsWith(OTHER_GATEWAY.replace('http', 'ws'))),
        15_000,
      );
      await page.goto(`${gwUrl}/?exchange=binance&symbol=BTCUSDT&tf=5m`);
      await settled('back on its own gateway', (s) => s.timeframe === '5m');
    });

    it('reported no Content-Security-Policy violation in any of the above', () => {
      expect(cspViolations).toEqual([]);
    });
  },
);
