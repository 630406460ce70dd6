import { afterEach, describe, expect, it } from 'vitest';
import type { SimHandle } from '../core/simulator.types.js';
import { http, makeTrades, TestClient, until } from '../testing/helpers.js';
import type { SimTrade } from '../trade.js';
import { startOkxSim } from './okx.js';

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

interface OkxRest {
  code: string;
  msg: string;
  data: {
    instId: string;
    side: string;
    sz: string;
    px: string;
    source: string;
    tradeId: string;
    ts: string;
  }[];
}
const rest = (t: SimTrade, instId = 'BTC-USDT') => ({
  instId,
  side: t.side,
  sz: t.quantity,
  px: t.price,
  source: '0',
  tradeId: String(t.id),
  ts: String(t.time),
});

describe('OKX v5 simulator', () => {
  it('subscribes `trades` on /ws/v5/public and `trades-all` on /ws/v5/business, with byte-exact frames', async () => {
    const trades = makeTrades(40, {
      startId: 130639474,
      price: (i) => `42219.${i % 10}`,
    });
    const sim = await track(
      startOkxSim({
        replay: { trades, symbol: 'BTC-USDT' },
        startAfterClients: 2,
      }),
    );
    const pub = await open(sim.endpoints['public']!);
    const biz = await open(sim.endpoints['business']!);
    const ack = await pub.request('{"op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}');
    expect(ack).toMatch(
      /^\{"event":"subscribe","arg":\{"channel":"trades","instId":"BTC-USDT"\},"connId":"[0-9a-f]{8}"\}$/,
    );
    const wrong = await biz.request('{"op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}');
    expect(wrong).toMatch(
      /^\{"event":"error","code":"60018","msg":"Wrong URL or channel:trades,instId:BTC-USDT doesn't exist\. .*","connId":"[0-9a-f]{8}"\}$/,
    );
    expect(
      await biz.request('{"id":"7","op":"subscribe","args":[{"channel":"trades-all","instId":"BTC-USDT"}]}'),
    ).toMatch(
      /^\{"id":"7","event":"subscribe","arg":\{"channel":"trades-all","instId":"BTC-USDT"\},"connId":"[0-9a-f]{8}"\}$/,
    );
    await pub.frameCount(41);
    await biz.frameCount(42);
    const t = trades[0]!;
    expect(pub.frames[1]).toBe(
      `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"130639474","px":"42219.0","sz":"0.001","side":"sell","ts":"${t.time}","count":"1","source":"0","seqId":130639474}]}`,
    );
    expect(biz.frames[2]).toBe(
      `{"arg":{"channel":"trades-all","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"130639474","px":"42219.0","sz":"0.001","side":"sell","source":"0","ts":"${t.time}"}]}`,
    );
    const ids = biz.frames
      .slice(2)
      .map((f) => Number((JSON.parse(f) as { data: { tradeId: string }[] }).data[0]!.tradeId));
    expect(ids).toEqual(trades.map((x) => x.id));
    expect(await pub.request('ping')).toBe('pong');
    expect(await pub.request('{"op":"login"}')).toMatch(/^\{"event":"error","code":"60012",/);
  });

  it('paginates history-trades by tradeId (`after`, newest first) and by timestamp; trades; instruments', async () => {
    const trades = makeTrades(1050, { startId: 242720000 });
    const sim = await track(startOkxSim({ replay: { trades, symbol: 'BTC-USDT' }, rateLimit: false }));
    await sim.controls.replayFinished();
    const walked: unknown[] = [];
    let after = '';
    for (;;) {
      const page = (
        await http(`${sim.restUrl}/api/v5/market/history-trades?instId=BTC-USDT&type=1${after}&limit=100`)
      ).json<OkxRest>();
      expect(page.code).toBe('0');
      if (page.data.length === 0) break;
      expect(page.data.length).toBeLessThanOrEqual(100);
      walked.push(...page.data);
      after = `&after=${page.data[page.data.length - 1]!.tradeId}`;
    }
    expect(walked).toEqual([...trades].reverse().map((t) => rest(t)));
    // the collector's forward step: ids fromId .. fromId+99 via after=fromId+100
    const fromId = trades[500]!.id;
    const forward = (
      await http(`${sim.restUrl}/api/v5/market/history-trades?instId=BTC-USDT&type=1&after=${fromId + 100}&limit=100`)
    ).json<OkxRest>();
    expect(forward.data.map((x) => Number(x.tradeId))).toEqual(
      trades
        .slice(500, 600)
        .map((t) => t.id)
        .reverse(),
    );
    const between = (
      await http(`${sim.restUrl}/api/v5/market/history-trades?instId=BTC-USDT&after=${fromId + 5}&before=${fromId}`)
    ).json<OkxRest>();
    expect(between.data.map((x) => Number(x.tradeId))).toEqual([4, 3, 2, 1].map((d) => fromId + d));
    const ts = trades[700]!.time;
    const byTime = (
      await http(`${sim.restUrl}/api/v5/market/history-trades?instId=BTC-USDT&type=2&after=${ts}&limit=3`)
    ).json<OkxRest>();
    expect(byTime.data.map((x) => Number(x.ts))).toEqual(
      trades
        .filter((t) => t.time < ts)
        .slice(-3)
        .map((t) => t.time)
        .reverse(),
    );
    const recent = (await http(`${sim.restUrl}/api/v5/market/trades?instId=BTC-USDT&limit=500`)).json<OkxRest>();
    expect(recent.data).toHaveLength(500);
    expect(recent.data[0]).toEqual(rest(trades[1049]!));
    const missing = await http(`${sim.restUrl}/api/v5/market/history-trades?instId=ETH-USDT`);
    expect([missing.status, missing.json<OkxRest>().code]).toEqual([400, '51001']);
    expect((await http(`${sim.restUrl}/api/v5/market/trades`)).json<OkxRest>().code).toBe('50014');
    const inst = (await http(`${sim.restUrl}/api/v5/public/instruments?instType=SPOT&instId=BTC-USDT`)).json<{
      data: Record<string, string>[];
    }>();
    expect(inst.data[0]).toMatchObject({
      instId: 'BTC-USDT',
      instType: 'SPOT',
      tickSz: '0.01',
      lotSz: '0.00000001',
      baseCcy: 'BTC',
      quoteCcy: 'USDT',
    });
  });

  it('serves SWAP instruments (contracts) and rate-limits per endpoint with 429 / 50011', async () => {
    const sim = await track(
      startOkxSim({
        symbols: ['BTCUSDT', 'ETH-USDT-SWAP'],
        rate: 20,
        rateLimit: { limit: 2, windowMs: 3_600_000 },
      }),
    );
    expect(sim.markets).toEqual(['BTC-USDT', 'ETH-USDT-SWAP']);
    const swap = (await http(`${sim.restUrl}/api/v5/public/instruments?instType=SWAP`)).json<{
      data: Record<string, string>[];
    }>();
    expect(swap.data).toHaveLength(1);
    expect(swap.data[0]).toMatchObject({
      instId: 'ETH-USDT-SWAP',
      ctVal: '0.1',
      ctValCcy: 'ETH',
      lotSz: '0.01',
      tickSz: '0.01',
      settleCcy: 'USDT',
      ctType: 'linear',
    });
    await http(`${sim.restUrl}/api/v5/market/trades?instId=BTC-USDT`);
    await http(`${sim.restUrl}/api/v5/market/trades?instId=BTC-USDT`);
    const limited = await http(`${sim.restUrl}/api/v5/market/trades?instId=BTC-USDT`);
    expect([limited.status, limited.text]).toEqual([429, '{"msg":"Too Many Requests","code":"50011"}']);
  });

  it('skipIds: a tradeId gap on the WebSocket that history-trades fills', async () => {
    const trades = makeTrades(500, { startId: 9_000_000 });
    const sim = await track(
      startOkxSim({
        replay: { trades, symbol: 'BTC-USDT' },
        startAfterClients: 1,
        replayRate: 3000,
        batchSize: 10,
      }),
    );
    const c = await open(sim.endpoints['business']!);
    c.send('{"op":"subscribe","args":[{"channel":"trades-all","instId":"BTC-USDT"}]}');
    await c.frameCount(80);
    await http(`${sim.restUrl}/__sim/skipIds`, {
      method: 'POST',
      body: '{"n":30,"symbol":"BTC-USDT"}',
    });
    await sim.controls.replayFinished();
    await c.frameCount(471);
    const ids = c.frames
      .slice(1)
      .map((f) => Number((JSON.parse(f) as { data: { tradeId: string }[] }).data[0]!.tradeId));
    const gapAt = ids.findIndex((id, i) => i > 0 && id !== ids[i - 1]! + 1);
    const from = ids[gapAt - 1]! + 1;
    expect(ids[gapAt]! - from).toBe(30);
    const fill = (
      await http(`${sim.restUrl}/api/v5/market/history-trades?instId=BTC-USDT&type=1&after=${from + 30}&limit=100`)
    ).json<OkxRest>();
    expect(fill.data.slice(0, 30)).toEqual(
      trades
        .filter((t) => t.id >= from && t.id < from + 30)
        .reverse()
        .map((t) => rest(t)),
    );
  });

  it('closes a connection idle for the timeout with 4004; text ping keeps it open; stallPings mutes pong', async () => {
    const sim = await track(startOkxSim({ symbols: ['BTC-USDT'], paused: true, idleTimeoutMs: 150 }));
    const idle = await open(sim.endpoints['public']!);
    const active = await open(sim.endpoints['public']!);
    const timer = setInterval(() => active.send('ping'), 40);
    try {
      expect(await idle.closed).toBe(4004);
      expect(idle.closeReason).toBe('No data received in 30s.');
      await until(() => active.frames.length >= 3);
      sim.controls.stallPings(250);
      // a pong already on its way when the stall began still arrives: count from after it
      await new Promise((r) => setTimeout(r, 30));
      const n = active.frames.length;
      await new Promise((r) => setTimeout(r, 120));
      expect(active.frames.length).toBe(n);
      await until(() => active.frames.length > n, 2000, 'pongs after the stall');
      expect(active.closeCode).toBeUndefined();
    } finally {
      clearInterval(timer);
    }
  });
});
