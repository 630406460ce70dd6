/**
 * A live Socket.IO client of the proof suite, written as a long-lived application would: a real
 * socket.io-client with reconnection enabled, following a few views by applying the snapshot and
 * then each update as apps/gateway/README.md says. After a reconnect it subscribes again (a new
 * connection has no subscriptions); an update of another epoch, or whose seq is not the previous
 * + 1, makes it unsubscribe and subscribe again (a fresh snapshot). `compare()` then checks that
 * what it holds equals ClickHouse's final footprint and candles of the same candles.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { io, type Socket } from 'socket.io-client';
import type { FootprintResponse, SnapshotMessage, UpdateMessage, WireCandle, WireCell } from '@orderflow/contracts';
import { clickHouseLines } from '../gateway-support.js';
import { metricsOf, profileOfLevels } from '../oracles/profile.js';

export interface LiveView {
  exchange: string;
  symbol: string;
  timeframe: string;
  ticks: number;
  candles: number;
}

export const viewName = (v: LiveView) => `${v.exchange} ${v.symbol} ${v.timeframe} x${v.ticks}`;

interface Held {
  summary: WireCandle;
  cells: Map<number, WireCell>;
}

/** One followed view: the current subscription and what it was told. */
class ViewState {
  subscriptionId: string | null = null;
  epoch: string | null = null;
  seq = 0;
  step = 0;
  /** A subscribe request is outstanding (its snapshot is the next one of this view). */
  pending = false;
  readonly candles = new Map<number, Held>();
  /** Receive times (ms) of each snapshot, and whether the owning shard was reachable for it. */
  readonly snapshots: { at: number; live: boolean; history: boolean; candles: number }[] = [];
  /** Receive times of updates (the first after each snapshot is what recovery looks for). */
  readonly updateTimes: number[] = [];
  updates = 0;
  /** Updates of another epoch, or with a seq that is not the previous + 1 (each costs a re-subscription). */
  readonly gaps: string[] = [];
  constructor(readonly view: LiveView) {}

  applySnapshot(s: SnapshotMessage, now: number): void {
    this.subscriptionId = s.subscriptionId;
    this.epoch = s.epoch;
    this.seq = s.seq;
    this.step = s.step;
    this.pending = false;
    this.candles.clear();
    for (const c of s.candles) {
      const { cells, ...summary } = c;
      this.candles.set(c.openTime, { summary, cells: new Map(cells.map((x) => [x[0], x])) });
    }
    this.snapshots.push({ at: now, live: s.live, history: s.history, candles: s.candles.length });
  }

  applyUpdate(u: UpdateMessage, now: number): void {
    this.seq = u.seq;
    this.updates++;
    this.updateTimes.push(now);
    let c = this.candles.get(u.candle.openTime);
    if (!c || u.replace) {
      c = { summary: u.candle, cells: new Map() };
      this.candles.set(u.candle.openTime, c);
    }
    c.summary = u.candle;
    for (const x of u.cells) c.cells.set(x[0], x);
  }
}

export interface LiveClientStats {
  view: string;
  snapshots: number;
  /** Snapshots answered without the owning shard (live: false) or without ClickHouse (history: false). */
  notLive: number;
  noHistory: number;
  updates: number;
  gaps: number;
  candlesHeld: number;
}

export interface LiveComparison {
  view: string;
  candles: number;
  /**
   * Held candles' cells and summaries that differ from ClickHouse (either side), ClickHouse candles from the first held
   * one on that the client lacks.
   */
  cellDiffs: number;
  candleDiffs: number;
  missingCandles: number;
  /** Candles whose POC / value area differ from the profile oracle's (tests/src/oracles) on the same cells. */
  metricDiffs: number;
  /** Cells of the gateway's HTTP /api/footprint over the same range that differ from the client's. */
  httpDiffs: number;
  examples: string[];
}

export class ResilientLiveClient {
  readonly socket: Socket;
  readonly views: ViewState[];
  readonly errors: { code: string; reason: string }[] = [];
  connects = 0;
  disconnects = 0;
  /** Updates of a subscription this client no longer follows (sent before its unsubscribe was read). */
  stale = 0;
  /** Connection generation: work started for an older connection stops. */
  private generation = 0;
  private closed = false;
  readonly connectTimes: number[] = [];

  constructor(
    readonly url: string,
    views: LiveView[],
  ) {
    this.views = views.map((v) => new ViewState(v));
    // the dashboard's settings (reconnection with backoff, WebSocket only), with a shorter backoff so that the recovery
    // measured is the gateway's rather than the client's wait
    this.socket = io(url, {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: true,
      reconnectionDelay: 200,
      reconnectionDelayMax: 1000,
      randomizationFactor: 0.2,
      forceNew: true,
    });
    this.socket.on('connect', () => {
      this.connects++;
      this.connectTimes.push(Date.now());
      const gen = ++this.generation;
      for (const v of this.views) {
        v.subscriptionId = null;
        v.epoch = null;
        v.pending = false;
        void this.subscribe(v, gen);
      }
    });
    this.socket.on('disconnect', (reason) => {
      this.disconnects++;
      // closed by the gateway (a client too slow to keep up): Socket.IO does not reconnect by itself then; the
      // dashboard connects again, so does this client
      if (reason === 'io server disconnect')
        setTimeout(() => !this.closed && !this.socket.connected && this.socket.connect(), 500);
      this.generation++;
      for (const v of this.views) {
        v.subscriptionId = null;
        v.pending = false;
      }
    });
    this.socket.on('snapshot', (s: SnapshotMessage) => {
      const v = this.views.find(
        (x) =>
          x.pending &&
          x.view.exchange === s.exchange &&
          x.view.symbol === s.symbol &&
          x.view.timeframe === s.timeframe &&
          x.view.ticks === s.ticks,
      );
      if (v) v.applySnapshot(s, Date.now());
    });
    this.socket.on('update', (u: UpdateMessage) => {
      const v = this.views.find((x) => x.subscriptionId === u.subscriptionId);
      if (!v) {
        this.stale++;
        return;
      }
      if (u.epoch !== v.epoch || u.seq !== v.seq + 1) {
        v.gaps.push(u.epoch !== v.epoch ? `epoch ${u.epoch} instead of ${v.epoch}` : `seq ${u.seq} after ${v.seq}`);
        this.resubscribe(v);
        return;
      }
      v.applyUpdate(u, Date.now());
    });
    this.socket.on('error', (e: { code: string; reason: string }) =>
      this.errors.push({ code: e.code, reason: e.reason }),
    );
  }

  /**
   * Subscribes `v` on connection `gen`, again every 500 ms while refused (e.g. a symbol the gateway does not know yet).
   */
  private async subscribe(v: ViewState, gen: number): Promise<void> {
    while (!this.closed && gen === this.generation && this.socket.connected) {
      v.pending = true;
      try {
        const ack = (await this.socket.timeout(30_000).emitWithAck('subscribe', { ...v.view })) as {
          ok: boolean;
          subscriptionId?: string;
          error?: { code: string; reason: string };
        };
        if (ack.ok) return;
        this.errors.push(ack.error!);
      } catch {
        /* no answer (the connection went away): the next connection subscribes again */
      }
      if (gen === this.generation) v.pending = false;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** A fresh snapshot of `v`: the current subscription is dropped and a new one opened. */
  private resubscribe(v: ViewState): void {
    if (v.subscriptionId !== null && this.socket.connected)
      this.socket.emit('unsubscribe', { subscriptionId: v.subscriptionId });
    v.subscriptionId = null;
    v.epoch = null;
    if (this.socket.connected) void this.subscribe(v, this.generation);
  }

  /** Resolves once every view has a snapshot on the current connection. */
  async ready(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!(this.socket.connected && this.views.every((v) => v.subscriptionId !== null))) {
      if (Date.now() > until)
        throw new Error(
          `the live client did not get its snapshots within ${timeoutMs} ms (connected: ${this.socket.connected}; errors: ${JSON.stringify(this.errors.slice(-3))})`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * ms from `sinceMs` until every view has had a snapshot received after `sinceMs` and then an
   * update (the connection is back and live); null if that did not happen within `timeoutMs`.
   */
  async recoveredAfter(
    sinceMs: number,
    timeoutMs: number,
  ): Promise<{ ms: number; reconnectMs: number; snapshotMs: number } | null> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const snaps = this.views.map((v) => v.snapshots.find((s) => s.at >= sinceMs));
      const ups = this.views.map((v, i) => (snaps[i] ? v.updateTimes.find((t) => t >= snaps[i]!.at) : undefined));
      if (ups.every((t) => t !== undefined)) {
        const reconnect = this.connectTimes.find((t) => t >= sinceMs) ?? NaN;
        return {
          ms: Math.max(...ups.map((t) => t!)) - sinceMs,
          reconnectMs: reconnect - sinceMs,
          snapshotMs: Math.max(...snaps.map((s) => s!.at)) - sinceMs,
        };
      }
      if (Date.now() > until) return null;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  stats(): LiveClientStats[] {
    return this.views.map((v) => ({
      view: viewName(v.view),
      snapshots: v.snapshots.length,
      notLive: v.snapshots.filter((s) => !s.live).length,
      noHistory: v.snapshots.filter((s) => !s.history).length,
      updates: v.updates,
      gaps: v.gaps.length,
      candlesHeld: v.candles.size,
    }));
  }

  /**
   * The client's candles of every view against ClickHouse (`db`) and the gateway's HTTP footprint.
   * `truth` keeps what was read (pass the same one to compare another client against the same final state).
   */
  async compare(
    ch: ClickHouseClient,
    db: string,
    truth: Truth = new Truth(ch, db, this.url),
  ): Promise<LiveComparison[]> {
    return Promise.all(this.views.map((v) => compareView(truth, v)));
  }

  /**
   * Waits until every view equals ClickHouse (the last updates may still be on their way), then returns the comparison
   * and what it was made against.
   */
  async settle(
    ch: ClickHouseClient,
    db: string,
    timeoutMs = 60_000,
  ): Promise<{ comparison: LiveComparison[]; truth: Truth; rounds: number }> {
    const until = Date.now() + timeoutMs;
    for (let rounds = 1; ; rounds++) {
      const truth = new Truth(ch, db, this.url);
      const c = await this.compare(ch, db, truth);
      const clean = c.every(
        (x) => x.cellDiffs + x.candleDiffs + x.missingCandles + x.metricDiffs + x.httpDiffs === 0 && x.candles > 0,
      );
      if (clean || Date.now() > until) return { comparison: c, truth, rounds };
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  close(): void {
    this.closed = true;
    this.socket.close();
  }
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

function diffLines(a: readonly string[], b: readonly string[]): { n: number; examples: string[] } {
  const sa = new Set(a);
  const sb = new Set(b);
  const examples: string[] = [];
  let n = 0;
  for (const x of sa)
    if (!sb.has(x)) {
      n++;
      if (examples.length < 3) examples.push(`client only: ${x}`);
    }
  for (const x of sb)
    if (!sa.has(x)) {
      n++;
      if (examples.length < 6) examples.push(`other only: ${x}`);
    }
  return { n, examples };
}

/** ClickHouse's final state of the views (and the gateway's HTTP answers), each read once. */
export class Truth {
  private readonly cells = new Map<string, Promise<string[]>>();
  private readonly candles = new Map<string, Promise<string[]>>();
  private readonly http = new Map<string, Promise<string[]>>();

  constructor(
    private readonly ch: ClickHouseClient,
    private readonly db: string,
    private readonly url: string,
  ) {}

  /**
   * "openTime price buy sell buyTrades sellTrades" of every candle, ClickHouse's native footprint grouped by the test
   * (refGroup).
   */
  cellLines(v: LiveView, step: number): Promise<string[]> {
    const k = `${viewName(v)} ${step}`;
    let r = this.cells.get(k);
    if (!r)
      this.cells.set(
        k,
        (r = clickHouseLines(
          this.ch,
          this.db,
          [{ exchange: v.exchange, symbol: v.symbol, priceFactor: 1n, quantityFactor: 1n }],
          v.timeframe,
          BigInt(step),
        )),
      );
    return r;
  }

  /**
   * "openTime open high low close buy sell buyTrades sellTrades delta maxDelta minDelta" of every candle, from the
   * candles view.
   */
  candleLines(v: LiveView): Promise<string[]> {
    const k = `${v.exchange} ${v.symbol} ${v.timeframe}`;
    let r = this.candles.get(k);
    if (!r) {
      r = (async () => {
        const rs = await this.ch.query({
          query: `SELECT toUInt64(bucket) * 1000, open, high, low, close, toString(buy_volume), toString(sell_volume), buy_trades, sell_trades, toString(delta), max_delta, min_delta
                  FROM ${this.db}.candles WHERE exchange = '${v.exchange}' AND symbol = '${v.symbol}' AND timeframe = '${v.timeframe}'`,
          format: 'TabSeparated',
          clickhouse_settings: { enable_optimize_predicate_expression: 1 } as never,
        });
        return (await rs.text())
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split('\t').join(' '));
      })();
      this.candles.set(k, r);
    }
    return r;
  }

  /** The gateway's GET /api/footprint of [first, last] as cell lines (throws on an error answer). */
  httpLines(v: LiveView, first: number, last: number): Promise<string[]> {
    const k = `${viewName(v)} ${first} ${last}`;
    let r = this.http.get(k);
    if (!r) {
      r = (async () => {
        const q = new URLSearchParams({
          exchange: v.exchange,
          symbol: v.symbol,
          timeframe: v.timeframe,
          from: String(first),
          to: String(last + TF_MS[v.timeframe]! - 1),
          ticks: String(v.ticks),
        });
        const res = await fetch(`${this.url}/api/footprint?${q}`, { signal: AbortSignal.timeout(30_000) });
        if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
        const body = (await res.json()) as FootprintResponse;
        return body.candles.flatMap((c) => c.cells.map((x) => `${c.openTime} ${x.join(' ')}`));
      })();
      r.catch(() => undefined);
      this.http.set(k, r);
    }
    return r;
  }
}

const openTimeOf = (line: string) => Number(line.slice(0, line.indexOf(' ')));

async function compareView(truth: Truth, v: ViewState): Promise<LiveComparison> {
  const name = viewName(v.view);
  const times = [...v.candles.keys()].sort((a, b) => a - b);
  if (times.length === 0)
    return {
      view: name,
      candles: 0,
      cellDiffs: 0,
      candleDiffs: 0,
      missingCandles: 0,
      metricDiffs: 0,
      httpDiffs: 0,
      examples: ['the client holds no candle'],
    };
  const first = times[0]!;
  const last = times[times.length - 1]!;
  const examples: string[] = [];

  // cells: the client's grouped cells against ClickHouse's, from the first held candle on
  const clientCells: string[] = [];
  for (const [t, c] of v.candles)
    for (const x of c.cells.values()) clientCells.push(`${t} ${x[0]} ${x[1]} ${x[2]} ${x[3]} ${x[4]}`);
  const cells = diffLines(
    clientCells,
    (await truth.cellLines(v.view, v.step)).filter((l) => openTimeOf(l) >= first),
  );
  examples.push(...cells.examples);

  // summaries: every field of the candle against the candles view (delta extremes included); no stored candle from the
  // first held one on is missing
  const storedCandles = (await truth.candleLines(v.view)).filter((l) => openTimeOf(l) >= first);
  const clientCandles = [...v.candles.values()].map(({ summary: s }) =>
    [
      s.openTime,
      s.open,
      s.high,
      s.low,
      s.close,
      s.buyVolume,
      s.sellVolume,
      s.buyTrades,
      s.sellTrades,
      s.delta,
      s.maxDelta,
      s.minDelta,
    ].join(' '),
  );
  const candles = diffLines(clientCandles, storedCandles);
  examples.push(...candles.examples);
  let missingCandles = 0;
  for (const l of storedCandles) if (!v.candles.has(openTimeOf(l))) missingCandles++;

  // POC / value area of each held candle: the profile oracle's (tests/src/oracles) of the same cells (equal to
  // ClickHouse's when the cells are)
  let metricDiffs = 0;
  for (const c of v.candles.values()) {
    const levels = [...c.cells.values()].map((x) => ({
      price: BigInt(x[0]),
      buy: BigInt(x[1]),
      sell: BigInt(x[2]),
      buyTrades: x[3],
      sellTrades: x[4],
    }));
    const m = metricsOf(profileOfLevels(BigInt(v.step), levels));
    if (c.summary.poc !== m.poc || c.summary.vah !== m.valueAreaHigh || c.summary.val !== m.valueAreaLow) {
      metricDiffs++;
      if (examples.length < 8)
        examples.push(
          `metrics of ${c.summary.openTime}: client ${c.summary.poc}/${c.summary.vah}/${c.summary.val}, oracle ${m.poc}/${m.valueAreaHigh}/${m.valueAreaLow}`,
        );
    }
  }

  // the gateway's own HTTP history of the same range (ClickHouse, grouped in SQL)
  let httpDiffs: number;
  try {
    const http = diffLines(clientCells, await truth.httpLines(v.view, first, last));
    httpDiffs = http.n;
    examples.push(...http.examples.map((e) => `HTTP: ${e}`));
  } catch (e) {
    httpDiffs = -1;
    examples.push(`HTTP /api/footprint: ${(e as Error).message}`);
  }

  return {
    view: name,
    candles: v.candles.size,
    cellDiffs: cells.n,
    candleDiffs: candles.n,
    missingCandles,
    metricDiffs,
    httpDiffs,
    examples: examples.slice(0, 8),
  };
}
