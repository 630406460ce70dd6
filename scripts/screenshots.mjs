#!/usr/bin/env node
/**
 * `npm run screenshots`: regenerates docs/screenshots/*.png, the dashboard pictures that README.md
 * shows. They are the screenshots the dashboard's end-to-end suite takes
 * (tests/src/dashboard.e2e.spec.ts: Chromium against NATS, ClickHouse, an aggregator and the
 * gateway fed by a recorded Binance session), so a picture is always of a page that passed it.
 *
 * The suite runs with its screenshots in a temporary directory (ORDERFLOW_SCREENSHOTS_DIR) and its
 * test summary beside them (so `npm test`'s summary in .data/test-results is left alone). Only when
 * every test passed, and none was skipped, are the pictures copied over docs/screenshots/; otherwise
 * docs/screenshots/ stays as it was and the exit status is 1.
 *
 * Needs what the suite needs: Debian's chromium (/usr/bin/chromium, or CHROMIUM_PATH),
 * nats-server and clickhouse-server (`ORDERFLOW_TEST_SETUP=1 bash scripts/setup.sh` installs all
 * three, as `npm test` does), and the recordings in ../shared/data (the project's machines).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TESTS = join(ROOT, 'tests');
const SPEC = 'src/dashboard.e2e.spec.ts';
const TARGET = join(ROOT, 'docs/screenshots');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const RECORDINGS = [
  'binance-spot_BTCUSDT_trade-ws_2024-08-08T2354.jsonl',
  'binance-futures_BTCUSDT_trade-ws_2024-08-08T2354.jsonl',
].map((f) => resolve(ROOT, '../shared/data', f));

function fail(message) {
  console.error(`screenshots: ${message}`);
  process.exit(1);
}

if (process.argv.length > 2)
  fail(`takes no arguments (got ${process.argv.slice(2).join(' ')}); it writes ${TARGET}/*.png`);
if (!existsSync(CHROMIUM)) fail(`no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`);
const missing = RECORDINGS.filter((f) => !existsSync(f));
if (missing.length) fail(`the suite replays recordings that are not here: ${missing.join(', ')}`);

const work = mkdtempSync(join(tmpdir(), 'orderflow-screenshots-'));
const shots = join(work, 'png');
const results = join(work, 'results');
console.log(`screenshots: running ${SPEC} (screenshots to ${shots})`);
const run = spawnSync('npx', ['vitest', 'run', SPEC], {
  cwd: TESTS,
  stdio: 'inherit',
  env: { ...process.env, ORDERFLOW_SCREENSHOTS_DIR: shots, ORDERFLOW_TEST_RESULTS_DIR: results },
});
if (run.status !== 0)
  fail(
    `${SPEC} did not pass (exit ${run.status ?? run.signal}): ${TARGET} is unchanged; this run's screenshots are in ${shots}`,
  );

// vitest's JSON summary (vitest.shared.ts): a skipped test took no screenshot, so a skip is a failure here
const summaries = existsSync(results) ? readdirSync(results).filter((f) => f.endsWith('.json')) : [];
if (summaries.length !== 1)
  fail(`expected one vitest JSON summary in ${results}, found ${summaries.length}: ${TARGET} is unchanged`);
const summary = JSON.parse(readFileSync(join(results, summaries[0]), 'utf8'));
const skipped = summary.numPendingTests + summary.numTodoTests;
if (summary.numPassedTests === 0 || skipped > 0)
  fail(`${SPEC}: ${summary.numPassedTests} passed, ${skipped} skipped: ${TARGET} is unchanged`);
const taken = existsSync(shots)
  ? readdirSync(shots)
      .filter((f) => f.endsWith('.png'))
      .sort()
  : [];
if (taken.length === 0) fail(`${SPEC} passed but took no screenshot: ${TARGET} is unchanged`);

mkdirSync(TARGET, { recursive: true });
for (const f of taken) copyFileSync(join(shots, f), join(TARGET, f));
const others = readdirSync(TARGET).filter((f) => f.endsWith('.png') && !taken.includes(f));
rmSync(work, { recursive: true, force: true });
console.log(`screenshots: ${taken.length} written to ${TARGET}: ${taken.join(', ')}`);
if (others.length) console.log(`screenshots: not taken by the suite, left as they are: ${others.join(', ')}`);
