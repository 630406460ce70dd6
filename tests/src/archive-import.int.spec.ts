/**
 * `npm run import` (the built CLI, as a user runs it) publishing a real Binance public-data
 * archive onto a real nats-server: every row arrives, exactly, in order; a bad line is reported
 * with file and line number and the good ones still import; importing the same file again adds
 * nothing (JetStream drops the repeated batches by their Nats-Msg-Id).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { formatFixedTrimmed } from '@orderflow/footprint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DATA, connectTo, needsSharedData, readTrades, startNats, trimZeros } from './support.js';
import { zipOneFile } from './zip.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARCHIVE = 'BTCUSDT-aggTrades-2026-01-01_first5000.csv';

describe('archive import', needsSharedData, () => {
  let nats: Awaited<ReturnType<typeof startNats>>;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orderflow-import-'));
    nats = await startNats();
    // the CLI as `npm run import` runs it (built by the test target's ^build dependency)
    await run('npx', ['nx', 'run', '@orderflow/collector:build', '--outputStyle=static'], { cwd: ROOT });
  });
  afterAll(async () => {
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const importFiles = (...files: string[]) =>
    run(process.execPath, [join(ROOT, 'apps/collector/dist/import.main.js'), '--exchange', 'binance', '--symbol', 'BTCUSDT', '--tick', '0.01', '--step', '0.00001', ...files], {
      cwd: ROOT,
      env: { ...process.env, NATS_URL: nats.url },
    });

  it('imports every row exactly, reports a bad line by file and number, and a second import adds nothing', async () => {
    const rows = readFileSync(SHARED_DATA + ARCHIVE, 'utf8').trim().split('\n');
    const file = join(dir, ARCHIVE);
    // a copy with one broken line in the middle (line 1001)
    const lines = [...rows.slice(0, 1000), '3800398495,not-a-price,0.1,1,1,1767225600039409,True,True', ...rows.slice(1000)];
    writeFileSync(file, `${lines.join('\n')}\n`);
    const first = await importFiles(file);
    expect(first.stderr).toContain(`${file}:1001: skipped: INVALID_FIELD: price:`);
    expect(first.stderr).toMatch(/imported 5,000 trades of binance BTCUSDT, all acknowledged by JetStream; 1 bad lines skipped/);

    const again = join(dir, 'again.csv');
    copyFileSync(file, again);
    await importFiles(again);

    const nc = await connectTo(nats.url);
    try {
      const { trades, scales } = await readTrades(nc);
      expect(trades.length).toBe(5000);
      const want = rows.map((r) => r.split(','));
      expect(trades.map((t) => [t.id, formatFixedTrimmed(t.price, scales!.priceScale), formatFixedTrimmed(t.quantity, scales!.quantityScale), t.side, t.exchangeTimeUs])).toEqual(
        want.map(([a, p, q, , , ts, maker]) => [a, trimZeros(p!), trimZeros(q!), maker === 'True' ? 'sell' : 'buy', Number(ts)]),
      );
    } finally {
      await nc.close();
    }
  });

  it('reads .zip archives as Binance publishes them', async () => {
    const content = readFileSync(SHARED_DATA + ARCHIVE);
    const zip = join(dir, 'BTCUSDT-aggTrades-2026-01-01.zip');
    writeFileSync(zip, zipOneFile('BTCUSDT-aggTrades-2026-01-01.csv', content));
    const r = await importFiles(zip);
    expect(r.stderr).toMatch(/imported 5,000 trades of binance BTCUSDT, all acknowledged by JetStream; 0 bad lines skipped/);
    // the same trades were imported from the .csv before: the stream still holds each once
    const nc = await connectTo(nats.url);
    try {
      expect((await readTrades(nc)).trades.length).toBe(5000);
    } finally {
      await nc.close();
    }
  });
});
