import { afterEach, describe, expect, it } from 'vitest';
import type { SimHandle } from '../core/simulator.types.js';
import { http, makeTrades, TestClient, until } from '../testing/helpers.js';
import { bybitExecId, comparePrices, startBybitSim } from './bybit.js';

const sims: SimHandle[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of sims.splice(0)) await s.stop();
});
async function track(p: Promise<SimHandle>): Promise<SimHandle> {
  const s = await p;
  sims.push(s);
  return s;
}
async function open(url: string): Promise<TestClient> {
  const c = await TestClient.open(url);
  clients.push(c);
  return c;
}
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

interface BybitItem {
  T: number;
  s: string;
  S: string;
  v: string;
  p: string;
  L: string;
  i: string;
  BT: boolean;
  seq: number;
}

describe('Bybit v5 simulator', () => {
  it('acknowledges subscribe and ping exactly like Bybit spot and linear', async () => {
    const sim = await track(startBybitSim({ symbols: ['BTCUSDT'], rate: 5 }));
    expect(sim.endpoints).toEqual({
      spot: `${sim.wsUrl}/v5/public/spot`,
      linear: `${sim.wsUrl}/v5/public/linear`,
    });
    const spot = await open(sim.endpoints['spot']!);
    const sub = await spot.request('{"op":"subscribe","args":["publicTrade.BTCUSDT"],"req_id":"1"}');
    expect(sub).toMatch(
      new RegExp(`^\\{"success":true,"ret_msg":"subscribe","conn_id":"${UUID}","req_id":"1","op":"subscribe"\\}$`),
    );
    const conn = (JSON.parse(sub) as { conn_id: string }).conn_id;
    spot.send('{"op":"ping"}');
    await until(() => spot.frames.includes(`{"success":true,"ret_msg":"pong","conn_id":"${conn}","op":"ping"}`));
    spot.send('{"op":"subscribe","args":["publicTrade.NOPEUSDT"],"req_id":"2"}');
    await until(() =>
      spot.frames.includes(
        `{"success":false,"ret_msg":"Invalid symbol :[publicTrade.NOPEUSDT]","conn_id":"${conn}","req_id":"2","op":"subscribe"}`,
      ),
    );

    const linear = await open(sim.endpoints['linear']!);
    const lsub = await linear.request('{"op":"subscribe","args":["publicTrade.BTCUSDT"]}');
    const lconn = (JSON.parse(lsub) as { conn_id: string }).conn_id;
    expect(lsub).toBe(`{"success":true,"ret_msg":"","conn_id":"${lconn}","req_id":"","op":"subscribe"}`);
    linear.send('{"req_id":"100001","op":"ping"}');
    await until(() =>
      linear.frames.includes(`{"success":true,"ret_msg":"pong","conn_id":"${lconn}","req_id":"100001","op":"ping"}`),
    );
    expect(sim.controls.stats().topics).toEqual({
      'spot|publicTrade.BTCUSDT': 1,
      'linear|publicTrade.BTCUSDT': 1,
    });
    expect((await TestClient.open(`${sim.wsUrl}/v5/public/inverse`).catch((e: Error) => e)) as Error).toBeInstanceOf(
      Error,
    );
  });

  it('batches the trades of one millisecond into one byte-exact publicTrade frame', async () => {
    const trades = makeTrades(90, {
      perMs: 3,
      price: (i) => ['61800.10', '61800.20', '61800.20', '61800.10'][i % 4]!,
    });
    const sim = await track(
      startBybitSim({
        replay: [
          { trades, symbol: 'BTCUSDT', category: 'spot' },
          { trades, symbol: 'BTCUSDT', category: 'linear' },
        ],
        startAfterClients: 2,
      }),
    );
    const spot = await open(sim.endpoints['spot']!);
    const linear = await open(sim.endpoints['linear']!);
    spot.send('{"op":"subscribe","args":["publicTrade.BTCUSDT"],"req_id":"a"}');
    linear.send('{"op":"subscribe","args":["publicTrade.BTCUSDT"]}');
    await spot.frameCount(31);
    await linear.frameCount(31);
    const t0 = trades[0]!.time;
    expect(spot.frames[1]).toBe(
      `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":${t0},"data":[` +
        `{"T":${t0},"s":"BTCUSDT","S":"Sell","v":"0.001","p":"61800.10","L":"ZeroPlusTick","i":"5000000","BT":false,"seq":5000000},` +
        `{"T":${t0},"s":"BTCUSDT","S":"Buy","v":"0.002","p":"61800.20","L":"PlusTick","i":"5000001","BT":false,"seq":5000001},` +
        `{"T":${t0},"s":"BTCUSDT","S":"Buy","v":"0.003","p":"61800.20","L":"ZeroPlusTick","i":"5000002","BT":false,"seq":5000002}]}`,
    );
    const items = linear.frames.slice(1).flatMap((f) => (JSON.parse(f) as { data: BybitItem[] }).data);
    expect(items).toHaveLength(90);
    expect(items.map((x) => x.seq)).toEqual(trades.map((t) => t.id));
    expect(items.every((x) => new RegExp(`^${UUID}$`).test(x.i))).toBe(true);
    expect(new Set(items.map((x) => x.i)).size).toBe(90);
    expect(items[3]!.L).toBe('MinusTick');
    expect(items[4]!.L).toBe('ZeroMinusTick');
    // REST: newest first, the same execution ids
    const recent = await http(`${sim.restUrl}/v5/market/recent-trade?category=linear&symbol=BTCUSDT&limit=2`);
    const body = recent.json<{
      retCode: number;
      result: { category: string; list: Record<string, unknown>[] };
    }>();
    expect(body.retCode).toBe(0);
    const last = trades[89]!;
    expect(body.result.list[0]).toEqual({
      execId: items[89]!.i,
      symbol: 'BTCUSDT',
      price: last.price,
      size: last.quantity,
      side: 'Buy',
      time: String(last.time),
      isBlockTrade: false,
      isRPITrade: false,
      seq: String(last.id),
    });
    expect(body.result.list[1]!['execId']).toBe(items[88]!.i);
    expect(bybitExecId(1, 2)).toBe(bybitExecId(1, 2));
  });

  it('serves recent-trade newest first with Bybit limits (spot 60, linear 1000) and instruments-info', async () => {
    const trades = makeTrades(1500);
    const sim = await track(
      startBybitSim({
        replay: [
          { trades, symbol: 'BTCUSDT', category: 'spot' },
          { trades, symbol: 'BTCUSDT', category: 'linear' },
        ],
      }),
    );
    await sim.controls.replayFinished();
    const get = async (q: string) =>
      (await http(`${sim.restUrl}/v5/market/recent-trade?${q}`)).json<{
        retCode: number;
        retMsg: string;
        result: { list: { execId: string; time: string }[] };
      }>();
    const spotDefault = await get('category=spot&symbol=BTCUSDT');
    expect(spotDefault.result.list.map((x) => Number(x.execId))).toEqual(
      trades
        .slice(-60)
        .map((t) => t.id)
        .reverse(),
    );
    expect((await get('category=spot&symbol=BTCUSDT&limit=1000')).result.list).toHaveLength(60);
    expect((await get('category=linear&symbol=BTCUSDT')).result.list).toHaveLength(500);
    expect((await get('category=linear&symbol=BTCUSDT&limit=1000')).result.list).toHaveLength(1000);
    expect(await get('category=spot&symbol=ETHUSDT')).toMatchObject({
      retCode: 10001,
    });
    expect(await get('category=option&symbol=BTCUSDT')).toMatchObject({
      retCode: 10001,
    });
    const info = (await http(`${sim.restUrl}/v5/market/instruments-info?category=linear&symbol=BTCUSDT`)).json<{
      result: { list: Record<string, Record<string, string>>[] };
    }>();
    expect(info.result.list[0]!['priceFilter']!['tickSize']).toBe('0.01');
    expect(info.result.list[0]!['lotSizeFilter']!['qtyStep']).toBe('0.001');
    const spotInfo = (await http(`${sim.restUrl}/v5/market/instruments-info?category=spot`)).json<{
      result: { list: Record<string, Record<string, string>>[] };
    }>();
    expect(spotInfo.result.list[0]!['lotSizeFilter']!['basePrecision']).toBe('0.000001');
  });

  it('skipIds: the WebSocket misses trades that recent-trade still has', async () => {
    const trades = makeTrades(400);
    const sim = await track(
      startBybitSim({
        categories: ['linear'],
        replay: { trades, symbol: 'BTCUSDT' },
        startAfterClients: 1,
        replayRate: 2000,
        batchSize: 10,
      }),
    );
    const c = await open(sim.endpoints['linear']!);
    c.send('{"op":"subscribe","args":["publicTrade.BTCUSDT"]}');
    await until(() => c.frames.length > 50);
    sim.controls.skipIds(20);
    await sim.controls.replayFinished();
    await until(
      () => c.frames.slice(1).reduce((n, f) => n + (JSON.parse(f) as { data: unknown[] }).data.length, 0) === 380,
    );
    const seqs = c.frames.slice(1).flatMap((f) => (JSON.parse(f) as { data: BybitItem[] }).data.map((x) => x.seq));
    const missing = trades.map((t) => t.id).filter((id) => !seqs.includes(id));
    expect(missing).toHaveLength(20);
    expect(missing[19]! - missing[0]!).toBe(19);
    const recent = (
      await http(`${sim.restUrl}/v5/market/recent-trade?category=linear&symbol=BTCUSDT&limit=1000`)
    ).json<{ result: { list: { seq: string }[] } }>();
    const restSeqs = new Set(recent.result.list.map((x) => Number(x.seq)));
    expect(missing.every((id) => restSeqs.has(id))).toBe(true);
  });

  it('drops idle clients, keeps pinging ones, and stallPings leaves pings unanswered', async () => {
    const sim = await track(startBybitSim({ symbols: ['BTCUSDT'], paused: true, idleTimeoutMs: 150 }));
    const idle = await open(sim.endpoints['spot']!);
    const active = await open(sim.endpoints['spot']!);
    const timer = setInterval(() => active.send('{"op":"ping"}'), 40);
    try {
      expect(await idle.closed).toBe(1006);
      await until(() => active.frames.length >= 3);
      sim.controls.stallPings(250);
      // a pong the server sent just before the stall may still be on its way (CI saw one land here)
      await new Promise((r) => setTimeout(r, 20));
      const n = active.frames.length;
      await new Promise((r) => setTimeout(r, 150));
      expect(active.frames.length).toBe(n);
      await until(() => active.frames.length > n, 2000, 'pongs after the stall');
      expect(active.closeCode).toBeUndefined();
    } finally {
      clearInterval(timer);
    }
  });

  it('compares decimal strings exactly', () => {
    expect(comparePrices('61800.10', '61800.1')).toBe(0);
    expect(comparePrices('9.99', '10.0')).toBe(-1);
    expect(comparePrices('0.000101', '0.0001')).toBe(1);
  });
});
