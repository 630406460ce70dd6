/**
 * SQL injection through every value FootprintStore (libs/clickhouse/src/footprint.store.ts) puts
 * into SQL text or TSV: exchange, symbol, trade ids, gap ids and reasons, the database name, and
 * the read paths' filters. Against a real ClickHouse: each hostile value is refused with an error
 * naming it, or stored and read back byte for byte; the server keeps answering; the rows that were
 * there before (another symbol's trades, minutes and gaps) are unchanged.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { FootprintStore, type IngestedTrade, connectClickHouse, migrate } from '@orderflow/clickhouse';
import type { GapEvent } from '@orderflow/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClickHouseServer, startClickHouse } from '../aggregator-support.js';

const DB = 'proof_sqli';
const HOSTILE = [
  "x'); DROP TABLE proof_sqli.trades; --",
  "' OR '1'='1",
  "\\'; DROP DATABASE proof_sqli; --",
  'a\tb\nc\rd',
  '\\N',
  'x\u0000y',
  "BTCUSDT' UNION SELECT * FROM system.users --",
  '`; SYSTEM SHUTDOWN; `',
  '\ud800\udfff\ufffd',
  '"; DROP TABLE proof_sqli.gaps; --',
  'x'.repeat(100_000),
];

const base = { exchange: 'binance', symbol: 'BTCUSDT', price: 9351234, quantity: 1234, side: 'buy' as const, exchangeTimeUs: 1_735_689_600_099_000, receiveTimeMs: 1_735_689_600_123 };

describe('SQL injection through FootprintStore, against a real ClickHouse', () => {
  let server: ClickHouseServer;
  let ch: ClickHouseClient;
  let store: FootprintStore;
  const outcomes: string[] = [];
  const snapshot = async () => {
    const q = async (query: string) => (await ch.query({ query, format: 'TabSeparated' })).text();
    return [
      await q(`SELECT exchange, symbol, trade_id, price, quantity, side, exchange_time_us FROM ${DB}.trades WHERE symbol = 'BTCUSDT' ORDER BY trade_id`),
      await q(`SELECT exchange, symbol, from_id, to_id, reason FROM ${DB}.gaps WHERE symbol = 'BTCUSDT' ORDER BY from_id`),
      await q(`SELECT name FROM system.tables WHERE database = '${DB}' ORDER BY name`),
    ];
  };

  beforeAll(async () => {
    server = await startClickHouse();
    ch = connectClickHouse({ url: server.url });
    await migrate(ch, DB);
    store = new FootprintStore(ch, DB);
    await store.insertTrades([1, 2, 3].map((i) => ({ ...base, id: String(i), ingestSeq: i })));
    const gap: GapEvent = { exchange: 'binance', symbol: 'BTCUSDT', fromId: '10', toId: '19', missing: 10, fromTimeUs: base.exchangeTimeUs, toTimeUs: base.exchangeTimeUs + 1_000_000, detectedAtMs: base.receiveTimeMs, status: 'unfilled', reason: 'baseline' };
    await store.insertGaps([gap]);
  }, 120_000);
  afterAll(async () => {
    console.log(['[proof] SQL injection outcomes:', ...outcomes].join('\n  '));
    await ch?.close();
    await server?.stop();
  });

  /** Refused (an Error, not a server failure) or stored; either way the server answers and the baseline is intact. */
  async function attempt(what: string, value: string, act: () => Promise<unknown>, readBack?: () => Promise<string[]>): Promise<void> {
    const before = await snapshot();
    let outcome: string;
    try {
      await act();
      if (readBack) {
        const got = await readBack();
        expect(got, `${what} ${JSON.stringify(value.slice(0, 60))}`).toContain(value);
        outcome = 'stored and read back verbatim';
      } else outcome = 'accepted (read path: quoted)';
    } catch (e) {
      const msg = String((e as Error).message);
      // a refusal by our own validation, never a ClickHouse syntax error (which would mean the value reached SQL text unquoted)
      expect(msg, `${what}: ${msg.slice(0, 200)}`).not.toMatch(/Syntax error|Code: 62|DB::Exception/);
      outcome = `refused: ${msg.slice(0, 100)}`;
    }
    outcomes.push(`${what} ${JSON.stringify(value.slice(0, 50))}${value.length > 50 ? `… (${value.length} chars)` : ''}: ${outcome}`);
    const r = await fetch(`${server.url}/ping`);
    expect(await r.text()).toBe('Ok.\n');
    const after = await snapshot();
    expect(after[2]).toBe(before[2]); // no table dropped or created
    expect(after[0]).toBe(before[0]); // BTCUSDT's trades unchanged
    expect(after[1]).toBe(before[1]); // BTCUSDT's gaps unchanged
  }

  it('hostile exchange and symbol names are refused on every write and quoted on every read', async () => {
    for (const v of HOSTILE) {
      await attempt('trade exchange', v, () => store.insertTrades([{ ...base, exchange: v, id: '9', ingestSeq: 9 }]));
      await attempt('trade symbol', v, () => store.insertTrades([{ ...base, symbol: v, id: '9', ingestSeq: 9 }]));
      await attempt('minutes symbol', v, () => store.insertMinutes('binance', v, []));
      await attempt('gap symbol', v, () => store.insertGaps([{ exchange: 'binance', symbol: v, fromId: '1', toId: '2', missing: 2, detectedAtMs: 1, status: 'unfilled', reason: 'x' }]));
      await attempt('loadTrades symbol', v, () => store.loadTrades('binance', v, 0, Number.MAX_SAFE_INTEGER));
      await attempt('loadTrades exchange', v, () => store.loadTrades(v, 'BTCUSDT', 0, Number.MAX_SAFE_INTEGER));
      await attempt('loadMinutes symbol', v, () => store.loadMinutes('binance', v, 0, 4_000_000_000_000));
      await attempt('latestTimeUs symbol', v, () => store.latestTimeUs('binance', v));
      await attempt('loadDailyLevels symbol', v, () => store.loadDailyLevels('binance', v, 0, 4_000_000_000_000));
    }
  }, 300_000);

  it('hostile trade ids are refused or stored verbatim, never executed', async () => {
    let seq = 100;
    for (const v of HOSTILE)
      await attempt('trade id', v, () => store.insertTrades([{ ...base, symbol: 'ETHUSDT', id: v, ingestSeq: seq++ } as IngestedTrade]), async () => (await store.loadTrades('binance', 'ETHUSDT', 0, Number.MAX_SAFE_INTEGER)).map((t) => t.id));
  }, 300_000);

  it('hostile gap ids and reasons are refused or stored verbatim', async () => {
    const read = async () => (await (await ch.query({ query: `SELECT from_id, to_id, reason FROM ${DB}.gaps WHERE symbol = 'ETHUSDT'`, format: 'JSONEachRow' })).json<{ from_id: string; to_id: string; reason: string }>()).flatMap((r) => [r.from_id, r.to_id, r.reason]);
    for (const v of HOSTILE) {
      await attempt('gap reason', v, () => store.insertGaps([{ exchange: 'binance', symbol: 'ETHUSDT', fromId: '1', toId: '2', missing: 2, detectedAtMs: 1, status: 'unfilled', reason: v }]), read);
      await attempt('gap fromId', v, () => store.insertGaps([{ exchange: 'binance', symbol: 'ETHUSDT', fromId: v, toId: '2', missing: 2, detectedAtMs: 1, status: 'unfilled', reason: 'x' }]), read);
    }
  }, 300_000);

  it('a hostile database name is refused before any SQL is sent', async () => {
    for (const v of HOSTILE) expect(() => new FootprintStore(ch, v)).toThrow();
  });
});
