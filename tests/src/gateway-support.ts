/**
 * The gateway's system tests: a client-side model of the live protocol (snapshot + updates), an
 * independent reference grouping (BigInt, written apart from the engine and the gateway), a raw
 * WebSocket client that stops reading, and small statistics.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type {
  ClientToServerEvents,
  ErrorMessage,
  ServerToClientEvents,
  SnapshotMessage,
  UpdateMessage,
  WireCandle,
  WireCell,
} from '@orderflow/contracts';
import type { Trade } from '@orderflow/footprint';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import type { Recording } from './aggregator-support.js';

/** What a client following one subscription knows: the snapshot, then each update applied as the protocol says. */
export class SubscriptionModel {
  readonly candles = new Map<number, { summary: WireCandle; cells: Map<number, WireCell> }>();
  readonly seqs: number[] = [];
  updates = 0;
  snapshot: SnapshotMessage | null = null;

  applySnapshot(s: SnapshotMessage): void {
    this.snapshot = s;
    this.candles.clear();
    for (const c of s.candles) {
      const { cells, ...summary } = c;
      this.candles.set(c.openTime, { summary, cells: new Map(cells.map((x) => [x[0], x])) });
    }
  }

  applyUpdate(u: UpdateMessage): void {
    this.updates++;
    this.seqs.push(u.seq);
    let c = this.candles.get(u.candle.openTime);
    if (!c || u.replace) {
      c = { summary: u.candle, cells: new Map() };
      this.candles.set(u.candle.openTime, c);
    }
    c.summary = u.candle;
    for (const x of u.cells) c.cells.set(x[0], x);
  }

  /** "openTime price buy sell buyTrades sellTrades" lines, sorted. */
  cellLines(): string[] {
    const out: string[] = [];
    for (const [t, c] of this.candles)
      for (const x of c.cells.values()) out.push(`${t} ${x[0]} ${x[1]} ${x[2]} ${x[3]} ${x[4]}`);
    return out.sort();
  }

  /** "openTime open high low close buy sell trades" lines, sorted. */
  candleLines(): string[] {
    return [...this.candles.values()]
      .map(
        ({ summary: s }) =>
          `${s.openTime} ${s.open} ${s.high} ${s.low} ${s.close} ${s.buyVolume} ${s.sellVolume} ${s.buyTrades + s.sellTrades}`,
      )
      .sort();
  }
}

/** A socket.io-client connection with every snapshot/update/error routed to models by subscription id. */
export class LiveClient {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  readonly models = new Map<string, SubscriptionModel>();
  readonly errors: ErrorMessage[] = [];
  /** Per update: receive time - aggregator publish time, and receive time - newest trade time (ms). */
  readonly delays: { fromSource: number; fromTrade: number }[] = [];

  constructor(url: string, auth?: Record<string, unknown>) {
    this.socket = io(url, {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      ...(auth ? { auth } : {}),
    });
    this.socket.on('snapshot', (s) => this.model(s.subscriptionId).applySnapshot(s));
    this.socket.on('update', (u) => {
      const now = Date.now();
      if (u.sourceSentAtMs !== null)
        this.delays.push({
          fromSource: now - u.sourceSentAtMs,
          fromTrade: u.lastTradeUs === null ? NaN : now - u.lastTradeUs / 1000,
        });
      this.model(u.subscriptionId).applyUpdate(u);
    });
    this.socket.on('error', (e) => this.errors.push(e));
  }

  model(id: string): SubscriptionModel {
    let m = this.models.get(id);
    if (!m) this.models.set(id, (m = new SubscriptionModel()));
    return m;
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.connected) return resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('connect_error', (e) => reject(e));
    });
  }

  /**
   * Emits an event and waits for its acknowledgement: any event and payload (the suites send malformed ones too), hence
   * the untyped socket.
   */
  request<T = { ok: boolean; subscriptionId?: string; error?: { code: string; reason: string } }>(
    event: string,
    ...args: unknown[]
  ): Promise<T> {
    return (this.socket as Socket).timeout(20_000).emitWithAck(event, ...args) as Promise<T>;
  }

  async subscribe(req: Record<string, unknown>): Promise<SubscriptionModel> {
    const ack = await this.request('subscribe', req);
    if (!ack.ok) throw new Error(`subscribe ${JSON.stringify(req)} refused: ${JSON.stringify(ack.error)}`);
    const m = this.model(ack.subscriptionId!);
    if (!m.snapshot) throw new Error('acknowledged before its snapshot');
    return m;
  }

  close(): void {
    this.socket.close();
  }
}

/** An independent grouping to `step` units, ties to the even multiple (BigInt). */
export function refGroup(p: bigint, step: bigint): bigint {
  const r = p % step;
  const base = p - r;
  if (2n * r < step) return base;
  if (2n * r > step) return base + step;
  return (base / step) % 2n === 0n ? base : base + step;
}

export interface RefMember {
  rec: Recording;
  /** Member units x factor = view units. */
  priceFactor: bigint;
  quantityFactor: bigint;
}

const TF_MS: Record<string, number> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '4h': 14_400_000,
  '1d': 86_400_000,
};

/**
 * The reference: every trade of the members (each id once per member), in view units, grouped by
 * `step` and bucketed by `tf`, in SubscriptionModel.cellLines' format; and candle summaries
 * (open/close by trade time, members in order for ties) in candleLines' format.
 */
export function referenceLines(
  members: RefMember[],
  tf: string,
  step: bigint,
  trades?: Map<Recording, readonly Trade[]>,
): { cells: string[]; candles: string[] } {
  const len = TF_MS[tf]!;
  const cells = new Map<string, [bigint, bigint, number, number]>();
  type K = { o: bigint; oT: number; h: bigint; l: bigint; c: bigint; cT: number; b: bigint; s: bigint; n: number };
  const candles = new Map<number, K>();
  for (const m of members) {
    const seen = new Set<string>();
    const mine = new Map<number, K>();
    for (const t of trades?.get(m.rec) ?? m.rec.trades) {
      if (seen.has(t.id)) continue;
      seen.add(t.id);
      const timeMs = Math.floor(t.exchangeTimeUs / 1000);
      const bucket = timeMs - (timeMs % len);
      const p = BigInt(t.price) * m.priceFactor;
      const q = BigInt(t.quantity) * m.quantityFactor;
      const key = `${bucket} ${refGroup(p, step)}`;
      const c = cells.get(key) ?? [0n, 0n, 0, 0];
      if (t.side === 'buy') {
        c[0] += q;
        c[2]++;
      } else {
        c[1] += q;
        c[3]++;
      }
      cells.set(key, c);
      const k = mine.get(bucket);
      if (!k)
        mine.set(bucket, {
          o: p,
          oT: t.exchangeTimeUs,
          h: p,
          l: p,
          c: p,
          cT: t.exchangeTimeUs,
          b: t.side === 'buy' ? q : 0n,
          s: t.side === 'sell' ? q : 0n,
          n: 1,
        });
      else {
        k.c = p; // the member's own order: its last trade closes
        k.cT = t.exchangeTimeUs;
        if (p > k.h) k.h = p;
        if (p < k.l) k.l = p;
        if (t.side === 'buy') k.b += q;
        else k.s += q;
        k.n++;
      }
    }
    // across members, in member order: a strictly earlier first trade opens, a strictly later last trade closes
    for (const [bucket, k] of mine) {
      const all = candles.get(bucket);
      if (!all) {
        candles.set(bucket, { ...k });
        continue;
      }
      if (k.oT < all.oT) {
        all.o = k.o;
        all.oT = k.oT;
      }
      if (k.cT > all.cT) {
        all.c = k.c;
        all.cT = k.cT;
      }
      if (k.h > all.h) all.h = k.h;
      if (k.l < all.l) all.l = k.l;
      all.b += k.b;
      all.s += k.s;
      all.n += k.n;
    }
  }
  return {
    cells: [...cells].map(([k, c]) => `${k} ${c[0]} ${c[1]} ${c[2]} ${c[3]}`).sort(),
    candles: [...candles].map(([t, k]) => `${t} ${k.o} ${k.h} ${k.l} ${k.c} ${k.b} ${k.s} ${k.n}`).sort(),
  };
}

/** The footprint view's native cells of a symbol and timeframe, grouped by the test (in view units). */
export async function clickHouseLines(
  ch: ClickHouseClient,
  db: string,
  members: { exchange: string; symbol: string; priceFactor: bigint; quantityFactor: bigint }[],
  tf: string,
  step: bigint,
): Promise<string[]> {
  const cells = new Map<string, [bigint, bigint, number, number]>();
  for (const m of members) {
    const rs = await ch.query({
      query: `SELECT toUInt32(bucket), price, buy_volume, sell_volume, buy_trades, sell_trades FROM ${db}.footprint WHERE exchange = '${m.exchange}' AND symbol = '${m.symbol}' AND timeframe = '${tf}'`,
      format: 'TabSeparated',
      clickhouse_settings: { enable_optimize_predicate_expression: 1 } as never,
    });
    for (const line of (await rs.text()).split('\n')) {
      if (!line) continue;
      const [b, p, bv, sv, bt, st] = line.split('\t');
      const key = `${Number(b) * 1000} ${refGroup(BigInt(p!) * m.priceFactor, step)}`;
      const c = cells.get(key) ?? [0n, 0n, 0, 0];
      c[0] += BigInt(bv!) * m.quantityFactor;
      c[1] += BigInt(sv!) * m.quantityFactor;
      c[2] += Number(bt);
      c[3] += Number(st);
      cells.set(key, c);
    }
  }
  return [...cells].map(([k, c]) => `${k} ${c[0]} ${c[1]} ${c[2]} ${c[3]}`).sort();
}

/**
 * A Socket.IO client spoken by hand over a raw WebSocket (Engine.IO 4 framing) that subscribes and
 * then stops reading: its TCP socket is paused, so the kernel buffers fill and the gateway's
 * writes to it back up.
 */
export async function stuckClient(
  url: string,
  requests: Record<string, unknown>[],
  auth?: Record<string, unknown>,
): Promise<{ close(): void }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('0')) ws.send(`40${auth ? JSON.stringify(auth) : ''}`);
      else if (text.startsWith('40')) resolve();
      else if (text === '2') ws.send('3');
    });
  });
  for (const r of requests) ws.send(`42${JSON.stringify(['subscribe', r])}`);
  // stop reading: nothing more is taken from the socket
  const raw = (ws as unknown as { _socket: import('node:net').Socket })._socket;
  await new Promise((r) => setTimeout(r, 50));
  raw.pause();
  ws.removeAllListeners('message');
  return { close: () => raw.destroy() };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/**
 * The HTTP API's fair-use limits (GATEWAY_HTTP_*) out of the way, for suites that read the API
 * faster than a person would (their subject is something else; gateway-exposure.int.spec.ts tests
 * the limits).
 */
export const UNLIMITED_HTTP = {
  GATEWAY_HTTP_RATE_PER_MINUTE: '1000000',
  GATEWAY_HTTP_BURST: '1000000',
  GATEWAY_HTTP_MAX_CONCURRENT_PER_CLIENT: '1000',
  GATEWAY_HTTP_MAX_CONCURRENT: '10000',
} as const;
