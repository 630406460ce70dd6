/**
 * The dashboard's rendering benchmark, in Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core; no browser is downloaded). Run on demand:
 *
 *   node tests/bench/dashboard.bench.mjs            # builds apps/dashboard first (vite build)
 *   BENCH_RUNS=5 BENCH_LIVE_SECONDS=10 node tests/bench/dashboard.bench.mjs
 *
 * The page uses its in-page synthetic gateway (`?source=synthetic`), which speaks the gateway's
 * messages: a snapshot, then one `update` per synthetic trade (no server-side conflation: the
 * worst case for the client). Figures:
 * - first paint of 300 candles x 60 levels (18,000 cells) all in view: the synchronous render
 *   (model + ECharts setOption + bitmaps) and the time from navigation to the first drawn frame;
 * - the same zoomed in to 24 candles and 1.6x in price, where every cell in view prints bid x ask;
 * - live at 1,000 trades/s: per animation frame, the work of applying the frame's batch of updates
 *   and redrawing (p50/p95/p99/max; every LIVE_SERIES_MS = 500 ms a frame also hands the profile,
 *   delta, CVD and developing POC to ECharts), the interval between frames (the browser's own
 *   painting included), and how many updates each frame took.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'apps/dashboard/dist');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const LIVE_SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 10);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

function serve(dir) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(dir, path);
    if (!file.startsWith(dir) || !existsSync(file) || path === '/') file = join(dir, 'index.html');
    res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
    res.end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() }),
    ),
  );
}

const pct = (xs, p) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const median = (xs) => pct(xs, 50);
const f = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

async function firstPaint(page, base, visible, extra = '') {
  await page.goto(
    `${base}/?source=synthetic&candles=300&levels=60&rate=0&tf=1m&ticks=1&visible=${visible}&big=0${extra}`,
  );
  await page.waitForFunction(() => (window.__orderflow?.render.renders ?? 0) > 0, null, { timeout: 30_000 });
  // the first frame after the render: the browser has drawn it
  return page.evaluate(
    () =>
      new Promise((resolve) =>
        requestAnimationFrame(() => {
          const r = window.__orderflow.render;
          resolve({
            renderMs: r.times[0],
            toFrameMs: performance.now(),
            cells: r.cells,
            texts: r.texts,
            candles: window.__orderflow.state().candles,
            visible: window.__orderflow.visible().length,
          });
        }),
      ),
  );
}

async function main() {
  if (!existsSync(CHROMIUM)) {
    console.log(`dashboard bench: skipped, no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
    return;
  }
  // the bundle as it is now (a second)
  execFileSync('npx', ['vite', 'build', '--logLevel', 'error'], {
    cwd: join(ROOT, 'apps/dashboard'),
    stdio: 'inherit',
  });
  const server = await serve(DIST);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    page.on('pageerror', (e) => console.error('page error:', e.message));
    console.log(`Chromium ${browser.version()}, viewport 1920x1080, ${RUNS} runs after a warm-up`);

    for (const [name, visible, extra] of [
      ['300 candles x 60 levels, all 300 in view (18,000 cells)', 300, ''],
      ['300 candles x 60 levels, 24 in view, prices zoomed so that every cell prints bid x ask', 24, '&yzoom=1.6'],
    ]) {
      await firstPaint(page, server.url, visible, extra); // warm-up
      const runs = [];
      for (let i = 0; i < RUNS; i++) runs.push(await firstPaint(page, server.url, visible, extra));
      const r0 = runs[0];
      console.log(
        `first paint, ${name}: render ${f(median(runs.map((r) => r.renderMs)))} ms (median; min ${f(Math.min(...runs.map((r) => r.renderMs)))}, max ${f(Math.max(...runs.map((r) => r.renderMs)))}), navigation to first drawn frame ${f(median(runs.map((r) => r.toFrameMs)))} ms; ${r0.visible} candles drawn, ${r0.cells} cells painted, ${r0.texts} cells with text (2 figures each in bid x ask)`,
      );
    }
    await page.screenshot({ path: join(ROOT, 'docs/screenshots/dashboard-bench-24.png') });

    // live: 1,000 synthetic trades a second, one update each
    await page.goto(`${server.url}/?source=synthetic&candles=300&levels=60&rate=1000&tf=1m&ticks=1&visible=80`);
    await page.waitForFunction(() => (window.__orderflow?.render.renders ?? 0) > 0, null, { timeout: 30_000 });
    await page.waitForTimeout(1000);
    const live = await page.evaluate(async (seconds) => {
      const o = window.__orderflow;
      const flushStart = o.render.flushMs.length;
      const updatesStart = o.state().updates;
      const framesStart = o.render.frames;
      const intervals = [];
      let last = performance.now();
      let running = true;
      const loop = (t) => {
        intervals.push(t - last);
        last = t;
        if (running) requestAnimationFrame(loop);
      };
      requestAnimationFrame((t) => {
        last = t;
        requestAnimationFrame(loop);
      });
      let longTasks = 0;
      const po = new PerformanceObserver((l) => (longTasks += l.getEntries().length));
      try {
        po.observe({ type: 'longtask' });
      } catch {
        /* not supported */
      }
      await new Promise((r) => setTimeout(r, seconds * 1000));
      running = false;
      po.disconnect();
      const flush = o.render.flushMs.slice(flushStart);
      return {
        flush,
        intervals,
        updates: o.state().updates - updatesStart,
        frames: o.render.frames - framesStart,
        longTasks,
        resyncs: o.state().resyncs,
      };
    }, LIVE_SECONDS);
    await page.screenshot({ path: join(ROOT, 'docs/screenshots/dashboard-bench-live.png') });
    console.log(
      `live, 1,000 trades/s for ${LIVE_SECONDS} s (80 candles in view): ${live.updates} updates in ${live.frames} frames (${f(live.updates / Math.max(1, live.frames))} per frame, one redraw each); ` +
        `work per frame (apply the batch + draw) p50 ${f(pct(live.flush, 50))} ms, p95 ${f(pct(live.flush, 95))} ms, p99 ${f(pct(live.flush, 99))} ms, max ${f(Math.max(...live.flush))} ms, ${live.flush.filter((x) => x > 16).length} of ${live.flush.length} frames over 16 ms; ` +
        `frame interval p50 ${f(pct(live.intervals, 50))} ms, p95 ${f(pct(live.intervals, 95))} ms (16.7 = no frame dropped); long tasks ${live.longTasks}; re-snapshots ${live.resyncs}`,
    );
    const p95 = pct(live.flush, 95);
    console.log(
      `targets: first paint of 18,000 cells < 500 ms; live frame p95 < 16 ms -> ${p95 < 16 ? 'met' : 'NOT met'} (${f(p95)} ms)`,
    );
  } finally {
    await browser.close();
    server.close();
  }
}

await main();
