import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimHandle } from './core/simulator.types.js';
import { startBinanceFuturesSim, startBinanceSpotSim } from './protocols/binance.js';
import { startBybitSim } from './protocols/bybit.js';
import { startOkxSim } from './protocols/okx.js';
import { needsData, dataFile, http, TestClient, until } from './testing/helpers.js';

const FUTURES = 'binance-futures_BTCUSDT_trade-ws_2024-08-08T2354.jsonl';
const LTC = 'binance-spot_LTCUSDT_aggtrade-ws_2025-06-21T12_2025-06-22T19.csv';

const sims: SimHandle[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of sims.splice(0)) await s.stop();
});

interface TradeMsg {
  E: number;
  T: number;
  s: string;
  t: number;
  p: string;
  q: string;
  m: boolean;
}

describe('replay of the real recordings', needsData(FUTURES), () => {
  it(`sends every record of ${FUTURES} in order as byte-exact aggTrades (21,313)`, async () => {
    const records = readFileSync(dataFile(FUTURES), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as TradeMsg);
    expect(records).toHaveLength(21_313);
    const sim = await startBinanceFuturesSim({
      replay: dataFile(FUTURES),
      startAfterClients: 1,
    });
    sims.push(sim);
    const c = await TestClient.open(`${sim.wsUrl}/ws/btcusdt@aggTrade`);
    clients.push(c);
    const report = await sim.controls.replayFinished();
    expect(report.trades).toBe(21_313);
    await c.frameCount(21_313, 15_000);
    expect(c.frames).toHaveLength(21_313);
    const expected = records.map(
      (r) =>
        `{"e":"aggTrade","E":${r.E},"s":"BTCUSDT","a":${r.t},"p":"${r.p}","q":"${r.q}","f":${r.t},"l":${r.t},"T":${r.T},"m":${r.m}}`,
    );
    const mismatch = c.frames.findIndex((f, i) => f !== expected[i]);
    expect(mismatch === -1 ? 'all equal' : `frame ${mismatch}: ${c.frames[mismatch]} vs ${expected[mismatch]}`).toBe(
      'all equal',
    );
    // values equal the file's strings, parsed independently
    const f0 = JSON.parse(c.frames[0]!) as { p: string; q: string };
    expect([f0.p, f0.q]).toEqual([records[0]!.p, records[0]!.q]);
    // the whole recording is in the REST history, ascending
    const last = records[21_312]!;
    const tail = (await http(`${sim.restUrl}/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=${last.t - 1}`)).json<
      { a: number; p: string }[]
    >();
    expect(tail).toEqual([
      {
        a: last.t - 1,
        p: records[21_311]!.p,
        q: records[21_311]!.q,
        f: last.t - 1,
        l: last.t - 1,
        T: records[21_311]!.T,
        m: records[21_311]!.m,
      },
      {
        a: last.t,
        p: last.p,
        q: last.q,
        f: last.t,
        l: last.t,
        T: last.T,
        m: last.m,
      },
    ]);
  });

  it('serves the same recording on Bybit linear and OKX (ids, prices and quantities unchanged)', async () => {
    const bybit = await startBybitSim({
      categories: ['linear'],
      replay: dataFile(FUTURES),
      startAfterClients: 1,
    });
    const okx = await startOkxSim({
      replay: { file: dataFile(FUTURES), symbol: 'BTC-USDT-SWAP' },
      startAfterClients: 1,
    });
    sims.push(bybit, okx);
    const b = await TestClient.open(bybit.endpoints['linear']!);
    const o = await TestClient.open(okx.endpoints['business']!);
    clients.push(b, o);
    b.send('{"op":"subscribe","args":["publicTrade.BTCUSDT"]}');
    o.send('{"op":"subscribe","args":[{"channel":"trades-all","instId":"BTC-USDT-SWAP"}]}');
    await Promise.all([bybit.controls.replayFinished(), okx.controls.replayFinished()]);
    await o.frameCount(21_314, 15_000);
    const okxIds = o.frames.slice(1).map((f) => (JSON.parse(f) as { data: { tradeId: string }[] }).data[0]!.tradeId);
    expect(okxIds).toHaveLength(21_313);
    const items = () =>
      b.frames.slice(1).flatMap((f) => (JSON.parse(f) as { data: { seq: number; p: string }[] }).data);
    // replayFinished means the sockets drained into the kernel, not that this process read them all
    await until(() => items().length >= 21_313, 15_000, 'the Bybit trades');
    const bybitItems = items();
    expect(bybitItems).toHaveLength(21_313);
    expect(bybitItems[0]!.p).toBe('61800.30');
  });
});

describe('replay of the LTCUSDT recording with real gaps', needsData(LTC), () => {
  it('sends all 149,944 aggTrades; the 25 recorded gaps stay gaps on the WebSocket and in REST', async () => {
    const sim = await startBinanceSpotSim({
      replay: dataFile(LTC),
      startAfterClients: 1,
    });
    sims.push(sim);
    const c = await TestClient.open(`${sim.wsUrl}/ws/ltcusdt@aggTrade`);
    clients.push(c);
    const report = await sim.controls.replayFinished();
    expect(report.trades).toBe(149_944);
    await c.frameCount(149_944, 20_000);
    let gaps = 0;
    let prev = -1;
    for (const f of c.frames) {
      const a = Number(f.slice(f.indexOf('"a":') + 4, f.indexOf(',"p"')));
      if (prev >= 0 && a !== prev + 1) gaps++;
      prev = a;
    }
    expect(gaps).toBe(25);
    expect(c.frames[0]).toBe(
      '{"e":"aggTrade","E":1750507467356,"s":"LTCUSDT","a":293517768,"p":"83.29","q":"0.107","f":293517768,"l":293517768,"T":1750507467356,"m":false,"M":true}',
    );
    const info = (await http(`${sim.restUrl}/api/v3/exchangeInfo?symbol=LTCUSDT`)).json<{
      symbols: { filters: Record<string, string>[] }[];
    }>();
    expect(info.symbols[0]!.filters.map((f) => f['tickSize'] ?? f['stepSize'])).toEqual(['0.01000000', '0.00100000']);
  });
});
