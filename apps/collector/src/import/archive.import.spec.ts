import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GapEvent } from '@orderflow/contracts';
import { instrumentFromSteps, type Trade } from '@orderflow/footprint';
import { afterAll, describe, expect, it } from 'vitest';
import { IMPORT_GAP_REASON, importBinanceArchives } from './archive.import.js';

const dir = mkdtempSync(join(tmpdir(), 'orderflow-import-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const btc = instrumentFromSteps('binance', 'BTCUSDT', '0.01', '0.00001');

/** A spot archive row (8 columns, µs) of aggregate id `a` at time `us`. */
const row = (a: number, us: number) => `${a},87648.21000000,0.08185000,${a * 2},${a * 2},${us},True,True`;

function file(name: string, rows: readonly string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${rows.join('\n')}\n`);
  return path;
}

async function importFiles(...files: string[]) {
  const trades: Trade[] = [];
  const gaps: GapEvent[] = [];
  let unflushed = 0;
  let mostUnflushed = 0;
  const result = await importBinanceArchives({
    exchange: 'binance',
    instrument: btc,
    files,
    sink: {
      add: (_i, t) => trades.push(t),
      saturated: false,
      onceDrained: async () => undefined,
      flush: async () => undefined,
    },
    events: {
      gap: (g) => {
        gaps.push(g);
        mostUnflushed = Math.max(mostUnflushed, ++unflushed);
      },
      deadLetter: () => undefined,
      flush: async () => {
        unflushed = 0;
      },
    },
  });
  return { result, trades, gaps, mostUnflushed };
}

const T0 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z in µs

describe('importBinanceArchives: id holes', () => {
  it('publishes each hole as an unfilled gap with the times of the trades around it', async () => {
    // ids 100..120 at one second apart, without 105 and 110..112; a bad line stands for 118
    const ids = Array.from({ length: 21 }, (_, i) => 100 + i).filter((a) => a !== 105 && (a < 110 || a > 112));
    const rows = ids.map((a) => (a === 118 ? '118,oops,1,1,1,1,True,True' : row(a, T0 + (a - 100) * 1_000_000)));
    const { result, trades, gaps } = await importFiles(file('holes.csv', rows));
    expect(trades.length).toBe(ids.length - 1);
    expect(result.badLines.map((b) => b.line)).toEqual([ids.indexOf(118) + 1]);
    const at = (a: number) => T0 + (a - 100) * 1_000_000;
    const gap = (from: number, to: number): Partial<GapEvent> => ({
      exchange: 'binance',
      symbol: 'BTCUSDT',
      fromId: String(from),
      toId: String(to),
      missing: to - from + 1,
      fromTimeUs: at(from - 1),
      toTimeUs: at(to + 1),
      status: 'unfilled',
      reason: IMPORT_GAP_REASON,
    });
    expect(gaps).toEqual([gap(105, 105), gap(110, 112), gap(118, 118)].map((g) => expect.objectContaining(g)));
    expect(result.holes.map((h) => [h.fromId, h.toId, h.missing])).toEqual([
      [105, 105, 1],
      [110, 112, 3],
      [118, 118, 1],
    ]);
  });

  it('two files with a day between them: the hole spans the files; files without holes publish nothing', async () => {
    const a = file('a.csv', [row(1, T0), row(2, T0 + 1)]);
    const b = file('b.csv', [row(3, T0 + 2), row(4, T0 + 3)]);
    const c = file('c.csv', [row(10, T0 + 86_400_000_000), row(11, T0 + 86_400_000_001)]);
    expect((await importFiles(a, b)).gaps).toEqual([]);
    // given out of order: the hole is still 5..9, between the last trade of b and the first of c
    const { gaps } = await importFiles(c, b, a);
    expect(gaps.map((g) => [g.fromId, g.toId, g.missing, g.fromTimeUs, g.toTimeUs])).toEqual([
      ['5', '9', 5, T0 + 3, T0 + 86_400_000_000],
    ]);
  });

  it('USDT-M futures archives (header, 7 columns, ms): consecutive ids give no gap, a missing one gives one', async () => {
    const fut = instrumentFromSteps('binance-futures', 'BTCUSDT', '0.1', '0.001');
    const header = 'agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker';
    const frow = (a: number) => `${a},42313.7,0.002,${a * 3},${a * 3 + 2},${1_704_067_200_000 + a},true`;
    const run = async (path: string) => {
      const gaps: GapEvent[] = [];
      await importBinanceArchives({
        exchange: 'binance-futures',
        instrument: fut,
        files: [path],
        sink: {
          add: () => undefined,
          saturated: false,
          onceDrained: async () => undefined,
          flush: async () => undefined,
        },
        events: { gap: (g) => gaps.push(g), deadLetter: () => undefined, flush: async () => undefined },
      });
      return gaps;
    };
    expect(await run(file('fut.csv', [header, ...[7, 8, 9, 10].map(frow)]))).toEqual([]);
    const gaps = await run(file('fut-hole.csv', [header, ...[7, 8, 10].map(frow)]));
    expect(gaps.map((g) => [g.exchange, g.fromId, g.toId, g.missing, g.fromTimeUs, g.toTimeUs])).toEqual([
      ['binance-futures', '9', '9', 1, (1_704_067_200_000 + 8) * 1000, (1_704_067_200_000 + 10) * 1000],
    ]);
  });

  it('many holes: every one published, never more than 1,000 waiting for their acknowledgements', async () => {
    // odd ids 1..5001: 2,500 holes of one id each
    const rows = Array.from({ length: 2501 }, (_, k) => row(2 * k + 1, T0 + k));
    const { gaps, mostUnflushed } = await importFiles(file('sparse.csv', rows));
    expect(gaps.length).toBe(2500);
    expect(gaps.every((g, k) => g.fromId === String(2 * k + 2) && g.toId === g.fromId && g.missing === 1)).toBe(true);
    expect(mostUnflushed).toBe(1000);
  });
});
