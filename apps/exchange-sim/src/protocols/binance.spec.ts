import { afterEach, describe, expect, it } from 'vitest';
import type { SimHandle } from '../core/simulator.types.js';
import { http, makeTrades, TestClient, until } from '../testing/helpers.js';
import type { SimTrade } from '../trade.js';
import { startBinanceFuturesSim, startBinanceSpotSim } from './binance.js';

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
async function open(url: string, options?: { autoPong?: boolean }): Promise<TestClient> {
  const c = await TestClient.open(url, options);
  clients.push(c);
  return c;
}

/** What Binance sends for a trade on a spot aggTrade stream (E = T in replays without an E). */
function spotFrame(t: SimTrade): string {
  return `{"e":"aggTrade","E":${t.eventTime ?? t.time},"s":"BTCUSDT","a":${t.id},"p":"${t.price}","q":"${t.quantity}","f":${t.firstId},"l":${t.lastId},"T":${t.time},"m":${t.side === 'sell'},"M":true}`;
}
function restItem(t: SimTrade, withM = true): string {
  return `{"a":${t.id},"p":"${t.price}","q":"${t.quantity}","f":${t.firstId},"l":${t.lastId},"T":${t.time},"m":${t.side === 'sell'}${withM ? ',"M":true' : ''}}`;
}

describe('Binance spot simulator', () => {
  it('streams byte-exact aggTrade frames on /ws/<stream> (raw) and /stream?streams= (combined)', async () => {
    const first: SimTrade = {
      id: 5266583935,
      price: '61800.30000000',
      quantity: '0.00600000',
      time: 1723161256321,
      eventTime: 1723161256322,
      side: 'buy',
      firstId: 5266583935,
      lastId: 5266583937,
    };
    const trades = [first, ...makeTrades(99, { startId: 5266583938 })];
    const sim = await track(
      startBinanceSpotSim({
        replay: { trades, symbol: 'BTCUSDT' },
        startAfterClients: 2,
      }),
    );
    const raw = await open(`${sim.wsUrl}/ws/btcusdt@aggTrade`);
    const combined = await open(`${sim.wsUrl}/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade`);
    await raw.frameCount(100);
    await combined.frameCount(100);
    expect(raw.frames[0]).toBe(
      '{"e":"aggTrade","E":1723161256322,"s":"BTCUSDT","a":5266583935,"p":"61800.30000000","q":"0.00600000","f":5266583935,"l":5266583937,"T":1723161256321,"m":false,"M":true}',
    );
    expect(combined.frames[0]).toBe(
      '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1723161256322,"s":"BTCUSDT","a":5266583935,"p":"61800.30000000","q":"0.00600000","f":5266583935,"l":5266583937,"T":1723161256321,"m":false,"M":true}}',
    );
    expect(raw.frames).toEqual(trades.map(spotFrame));
    expect(combined.frames).toEqual(trades.map((t) => `{"stream":"btcusdt@aggTrade","data":${spotFrame(t)}}`));
    const report = await sim.controls.replayFinished();
    expect(report.trades).toBe(100);
  });

  it('answers SUBSCRIBE / LIST_SUBSCRIPTIONS / UNSUBSCRIBE / SET_PROPERTY like Binance, live', async () => {
    const sim = await track(
      startBinanceSpotSim({
        symbols: ['BTCUSDT', 'ETHUSDT'],
        rate: 400,
        maxIncomingPerSecond: 0,
      }),
    );
    const c = await open(`${sim.wsUrl}/ws`);
    expect(await c.request('{"method":"SUBSCRIBE","params":["btcusdt@aggTrade"],"id":1}')).toBe(
      '{"result":null,"id":1}',
    );
    await c.frameCount(5);
    const shape =
      /^\{"e":"aggTrade","E":\d{13},"s":"BTCUSDT","a":(\d+),"p":"\d+\.\d{8}","q":"\d+\.\d{8}","f":\1,"l":\1,"T":\d{13},"m":(true|false),"M":true\}$/;
    for (const f of c.frames.slice(1, 5)) expect(f).toMatch(shape);
    const live = JSON.parse(c.frames[1]!) as { E: number; T: number };
    expect(live.E).toBeGreaterThanOrEqual(live.T);
    expect(Math.abs(live.E - Date.now())).toBeLessThan(5000);
    expect(await c.request('{"method":"LIST_SUBSCRIPTIONS","id":"two"}')).toMatch(
      /^\{"result":\["btcusdt@aggTrade"\],"id":"two"\}$|^\{"e"/,
    );
    expect(await c.request('not json')).toMatch(/^\{"error":\{"code":3,"msg":"Invalid JSON|^\{"e"/);
    c.send('{"method":"SET_PROPERTY","params":["combined",true],"id":4}');
    await until(() => c.frames.includes('{"result":null,"id":4}'));
    const before = c.frames.length;
    await c.frameCount(before + 3);
    expect(c.frames[before + 1]).toMatch(/^\{"stream":"btcusdt@aggTrade","data":\{"e":"aggTrade",/);
    c.send('{"method":"UNSUBSCRIBE","params":["btcusdt@aggTrade"],"id":5}');
    await until(() => c.frames.includes('{"result":null,"id":5}'));
    expect(c.frames).toContain('{"result":["btcusdt@aggTrade"],"id":"two"}');
    expect(c.frames.some((f) => f.startsWith('{"error":{"code":3,'))).toBe(true);
    expect(sim.controls.stats().subscriptions).toBe(0);
  });

  it('serves the REST history: fromId pages of 1000, ascending, exactly; time windows; errors', async () => {
    // 2,500 trades with a hole of 10 ids, as a recording with a real gap would have
    const trades = makeTrades(2510).filter((t) => t.id < 5_001_000 || t.id >= 5_001_010);
    const sim = await track(startBinanceSpotSim({ replay: { trades, symbol: 'BTCUSDT' } }));
    await sim.controls.replayFinished();
    const got: string[] = [];
    let fromId = trades[0]!.id;
    const sizes: number[] = [];
    for (;;) {
      const r = await http(`${sim.restUrl}/api/v3/aggTrades?symbol=BTCUSDT&fromId=${fromId}&limit=1000`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/application\/json/);
      const page = r.json<{ a: number }[]>();
      if (page.length === 0) break;
      sizes.push(page.length);
      got.push(...(r.text.slice(1, -1).match(/\{[^}]*\}/g) ?? []));
      fromId = page[page.length - 1]!.a + 1;
    }
    expect(sizes).toEqual([1000, 1000, 500]);
    expect(got).toEqual(trades.map((t) => restItem(t)));
    // fromId inside the hole starts at the next existing trade
    const inHole = (await http(`${sim.restUrl}/api/v3/aggTrades?symbol=BTCUSDT&fromId=5001003&limit=2`)).json<
      { a: number }[]
    >();
    expect(inHole.map((t) => t.a)).toEqual([5_001_010, 5_001_011]);
    // no cursor: the most recent, ascending (default 500); limit is capped at 1000
    const recent = (await http(`${sim.restUrl}/api/v3/aggTrades?symbol=BTCUSDT`)).json<{ a: number }[]>();
    expect(recent).toHaveLength(500);
    expect(recent[499]!.a).toBe(trades[trades.length - 1]!.id);
    expect(
      (await http(`${sim.restUrl}/api/v3/aggTrades?symbol=BTCUSDT&fromId=0&limit=5000`)).json<unknown[]>(),
    ).toHaveLength(1000);
    const t0 = trades[100]!.time;
    const window = (
      await http(`${sim.restUrl}/api/v3/aggTrades?symbol=BTCUSDT&startTime=${t0}&endTime=${t0 + 9}`)
    ).json<{ T: number }[]>();
    expect(window.map((t) => t.T)).toEqual(trades.filter((t) => t.time >= t0 && t.time <= t0 + 9).map((t) => t.time));
    const errors = await Promise.all([
      http(`${sim.restUrl}/api/v3/aggTrades`),
      http(`${sim.restUrl}/api/v3/aggTrades?symbol=DOGEBTC`),
      http(`${sim.restUrl}/api/v3/aggTrades?symbol=BTCUSDT&fromId=x`),
      http(`${sim.restUrl}/api/v3/aggTrades?symbol=BTCUSDT&startTime=0&endTime=3600001`),
    ]);
    expect(errors.map((e) => [e.status, e.json<{ code: number }>().code])).toEqual([
      [400, -1102],
      [400, -1121],
      [400, -1100],
      [400, -1127],
    ]);
    expect((await http(`${sim.restUrl}/api/v3/ping`)).text).toBe('{}');
    const info = (await http(`${sim.restUrl}/api/v3/exchangeInfo?symbol=BTCUSDT`)).json<{
      symbols: { symbol: string; filters: Record<string, string>[] }[];
    }>();
    expect(info.symbols[0]!.symbol).toBe('BTCUSDT');
    expect(info.symbols[0]!.filters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          filterType: 'PRICE_FILTER',
          tickSize: '0.01000000',
        }),
        expect.objectContaining({
          filterType: 'LOT_SIZE',
          stepSize: '0.00001000',
        }),
      ]),
    );
  });

  it('counts request weight in x-mbx-used-weight-1m and answers 429 over the budget', async () => {
    const sim = await track(
      startBinanceSpotSim({
        replay: { trades: makeTrades(10), symbol: 'BTCUSDT' },
        rateLimit: { limit: 10, windowMs: 3_600_000 },
      }),
    );
    const a = await http(`${sim.restUrl}/api/v3/aggTrades?symbol=BTCUSDT`);
    const b = await http(`${sim.restUrl}/api/v3/aggTrades?symbol=BTCUSDT`);
    const c = await http(`${sim.restUrl}/api/v3/aggTrades?symbol=BTCUSDT`);
    expect([a.status, b.status, c.status]).toEqual([200, 200, 429]);
    expect([
      a.headers.get('x-mbx-used-weight-1m'),
      b.headers.get('x-mbx-used-weight-1m'),
      c.headers.get('x-mbx-used-weight-1m'),
    ]).toEqual(['4', '8', '12']);
    expect(Number(c.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(c.json<{ code: number }>().code).toBe(-1003);
  });

  it('skipIds leaves a WebSocket gap that REST fromId fills exactly', async () => {
    const trades = makeTrades(600);
    const sim = await track(
      startBinanceSpotSim({
        replay: { trades, symbol: 'BTCUSDT' },
        startAfterClients: 1,
        replayRate: 3000,
        batchSize: 10,
      }),
    );
    const c = await open(`${sim.wsUrl}/ws/btcusdt@aggTrade`);
    await c.frameCount(100);
    sim.controls.skipIds(25);
    await sim.controls.replayFinished();
    await c.frameCount(575);
    const ids = c.frames.map((f) => (JSON.parse(f) as { a: number }).a);
    const gaps = ids.flatMap((id, i) => (i > 0 && id !== ids[i - 1]! + 1 ? [[ids[i - 1]! + 1, id - 1]] : []));
    expect(gaps).toHaveLength(1);
    const [from, to] = gaps[0]!;
    expect(to! - from! + 1).toBe(25);
    const fill = await http(`${sim.restUrl}/api/v3/aggTrades?symbol=BTCUSDT&fromId=${from}&limit=25`);
    expect(fill.text).toBe(
      `[${trades
        .filter((t) => t.id >= from! && t.id <= to!)
        .map((t) => restItem(t))
        .join(',')}]`,
    );
    expect(sim.controls.stats()).toMatchObject({
      tradesProduced: 600,
      tradesSent: 575,
      tradesSkipped: 25,
    });
  });

  it('dropConnections closes every socket abruptly; sendMalformed frames arrive as sent (API and HTTP)', async () => {
    const sim = await track(startBinanceSpotSim({ symbols: ['BTCUSDT'], rate: 20 }));
    const a = await open(`${sim.wsUrl}/ws/btcusdt@aggTrade`);
    const b = await open(`${sim.wsUrl}/stream?streams=btcusdt@aggTrade`);
    expect(sim.controls.sendMalformed('{"e":"aggTrade","E":17231612')).toBe(2);
    const http1 = await http(`${sim.restUrl}/__sim/sendMalformed`, {
      method: 'POST',
      body: 'not json at all \u0000',
    });
    expect(http1.json()).toEqual({ ok: true, clients: 2 });
    await until(() => a.frames.includes('not json at all \u0000') && b.frames.includes('not json at all \u0000'));
    expect(a.frames).toContain('{"e":"aggTrade","E":17231612');
    expect(sim.controls.dropConnections()).toBe(2);
    expect(await a.closed).toBe(1006);
    expect(await b.closed).toBe(1006);
    const c = await open(`${sim.wsUrl}/ws/btcusdt@aggTrade`);
    const dropped = await http(`${sim.restUrl}/__sim/dropConnections`, {
      method: 'POST',
    });
    expect(dropped.json()).toEqual({ ok: true, dropped: 1 });
    expect(await c.closed).toBe(1006);
    expect(sim.controls.stats().clients).toBe(0);
  });

  it('pings every interval, drops clients that do not pong, and stallPings silences pings and pongs', async () => {
    const sim = await track(
      startBinanceSpotSim({
        symbols: ['BTCUSDT'],
        rate: 5,
        pingIntervalMs: 40,
        pongTimeoutMs: 150,
        maxIncomingPerSecond: 0,
      }),
    );
    const good = await open(`${sim.wsUrl}/ws/btcusdt@aggTrade`);
    const mute = await open(`${sim.wsUrl}/ws/btcusdt@aggTrade`, {
      autoPong: false,
    });
    await until(() => good.pings >= 3, 2000, 'three pings');
    expect(await mute.closed).toBe(1006);
    expect(good.closeCode).toBeUndefined();
    sim.controls.stallPings(300);
    const pingsAtStall = good.pings;
    good.ws.ping();
    await new Promise((r) => setTimeout(r, 200));
    expect(good.pongs).toBe(0);
    expect(good.pings).toBe(pingsAtStall);
    await until(() => good.pings > pingsAtStall, 2000, 'pings after the stall');
    good.ws.ping();
    await until(() => good.pongs >= 1, 2000, 'a pong after the stall');
    expect(good.closeCode).toBeUndefined();
  });

  it('closes a client sending more than 5 messages a second', async () => {
    const sim = await track(startBinanceSpotSim({ symbols: ['BTCUSDT'], rate: 5 }));
    const c = await open(`${sim.wsUrl}/ws`);
    for (let i = 0; i < 7; i++) c.send(`{"method":"LIST_SUBSCRIPTIONS","id":${i}}`);
    expect(await c.closed).toBe(1008);
  });

  it('has /health, the control API and waitForClients', async () => {
    const sim = await track(startBinanceSpotSim({ symbols: ['BTCUSDT'], rate: 50, paused: true }));
    const health = await http(`${sim.restUrl}/health`);
    expect(health.status).toBe(200);
    expect(health.json()).toMatchObject({
      status: 'ok',
      protocol: 'binance-spot',
    });
    const waiting = http(`${sim.restUrl}/__sim/waitForClients?n=1&timeoutMs=3000`, { method: 'POST' });
    await open(`${sim.wsUrl}/ws/btcusdt@aggTrade`);
    expect((await waiting).json()).toEqual({ ok: true, subscribedClients: 1 });
    expect(sim.controls.stats()).toMatchObject({
      state: 'paused',
      tradesProduced: 0,
      clients: 1,
      subscriptions: 1,
      topics: { 'btcusdt@aggTrade': 1 },
    });
    expect((await http(`${sim.restUrl}/__sim/resume`, { method: 'POST' })).json()).toEqual({
      ok: true,
      state: 'running',
    });
    await until(() => sim.controls.stats().tradesProduced > 0, 3000, 'trades after resume');
    expect(
      (
        await http(`${sim.restUrl}/__sim/skipIds`, {
          method: 'POST',
          body: '{"n":3}',
        })
      ).json(),
    ).toEqual({ ok: true, skipPending: 3 });
    expect((await http(`${sim.restUrl}/__sim/skipIds?n=x`, { method: 'POST' })).status).toBe(400);
    expect((await http(`${sim.restUrl}/__sim/stallPings?ms=10`, { method: 'POST' })).status).toBe(200);
    expect((await http(`${sim.restUrl}/__sim/nope`, { method: 'POST' })).status).toBe(404);
    expect((await http(`${sim.restUrl}/__sim/stats`)).json()).toMatchObject({
      ok: true,
      protocol: 'binance-spot',
      clients: 1,
    });
    expect((await http(`${sim.restUrl}/api/v3/nothing`)).status).toBe(404);
    await expect(sim.controls.waitForClients(5, 50)).rejects.toThrow(/only 1 subscribed/);
  });
});

describe('Binance USDT-M futures simulator', () => {
  it('sends futures aggTrade frames without "M" and serves /fapi/v1', async () => {
    const trades = makeTrades(30, { price: (i) => `${61800 + i}.${i % 10}0` });
    const sim = await track(
      startBinanceFuturesSim({
        replay: { trades, symbol: 'BTCUSDT' },
        startAfterClients: 1,
      }),
    );
    const c = await open(`${sim.wsUrl}/stream?streams=btcusdt@aggTrade`);
    await c.frameCount(30);
    const t = trades[0]!;
    expect(c.frames[0]).toBe(
      `{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":${t.time},"s":"BTCUSDT","a":${t.id},"p":"${t.price}","q":"${t.quantity}","f":${t.id},"l":${t.id},"T":${t.time},"m":true}}`,
    );
    const rest = await http(`${sim.restUrl}/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=${t.id}&limit=2`);
    expect(rest.text).toBe(
      `[${trades
        .slice(0, 2)
        .map((x) => restItem(x, false))
        .join(',')}]`,
    );
    expect(rest.headers.get('x-mbx-used-weight-1m')).toBe('20');
    const info = (await http(`${sim.restUrl}/fapi/v1/exchangeInfo`)).json<{
      symbols: { filters: Record<string, string>[] }[];
    }>();
    expect(info.symbols[0]!.filters.slice(0, 2)).toEqual([
      {
        filterType: 'PRICE_FILTER',
        maxPrice: '4529764',
        tickSize: '0.10',
        minPrice: '0.10',
      },
      {
        filterType: 'LOT_SIZE',
        stepSize: '0.001',
        maxQty: '1000000',
        minQty: '0.001',
      },
    ]);
    expect((await http(`${sim.restUrl}/api/v3/ping`)).status).toBe(404);
    // a recording finer than the venue's tick advertises the recording's resolution instead
    const fine = await track(
      startBinanceFuturesSim({
        replay: { trades: makeTrades(5), symbol: 'BTCUSDT' },
      }),
    );
    const fineInfo = (await http(`${fine.restUrl}/fapi/v1/exchangeInfo`)).json<{
      symbols: { filters: Record<string, string>[] }[];
    }>();
    expect(fineInfo.symbols[0]!.filters[0]!['tickSize']).toBe('0.01');
  });
});
