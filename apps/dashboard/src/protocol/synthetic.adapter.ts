import { TIMEFRAME_MS, type Timeframe } from '@orderflow/footprint';
import type {
  InstrumentsResponse,
  SnapshotMessage,
  SubscribeRequest,
  UpdateMessage,
  WireCell,
  WireFootprintCandle,
  WireVwapPoint,
} from '@orderflow/contracts';
import {
  type CandleCompleteness,
  type GatewayAdapter,
  GatewayRequestError,
  type LiveHandlers,
} from './gateway.protocol.js';

/**
 * A gateway generated in the page: a synthetic market (clearly not a real one) for the benchmark
 * and for trying the dashboard without a stack (`?source=synthetic`). Speaks the same messages as
 * the gateway: a snapshot of `candles` candles of `levels` levels each, then one update per
 * synthetic trade at `rate` trades a second (no server-side conflation: the worst case for the
 * client's batching).
 */
export interface SyntheticOptions {
  candles: number;
  levels: number;
  /** Trades (updates) per second; 0 = no live updates. */
  rate: number;
  seed?: number;
}

const SCALES = { priceScale: 2, quantityScale: 5, tick: 1 };
const BASE_PRICE = 6_000_000;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

export class SyntheticGatewayAdapter implements GatewayAdapter {
  private h: LiveHandlers | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private sub: {
    id: string;
    req: SubscribeRequest;
    seq: number;
    candle: WireFootprintCandle;
    cells: Map<number, WireCell>;
  } | null = null;
  private nextId = 1;
  private readonly random: () => number;
  /** Updates sent, for the benchmark. */
  sent = 0;

  constructor(readonly options: SyntheticOptions) {
    this.random = rng(options.seed ?? 42);
  }

  private connected = false;

  connect(h: LiveHandlers): void {
    this.h = h;
    h.connection('connecting');
    queueMicrotask(() => {
      this.connected = true;
      h.connection('connected');
    });
  }

  subscribe(req: SubscribeRequest): Promise<string> {
    if (!this.h || !this.connected) return Promise.reject(new GatewayRequestError('not-connected', 'not connected'));
    if (req.symbol === 'BAD')
      return Promise.reject(new GatewayRequestError('unknown-symbol', `unknown symbol ${req.symbol}`));
    const id = `syn${this.nextId++}`;
    const step = req.ticks * SCALES.tick;
    const len = TIMEFRAME_MS[req.timeframe];
    const n = Math.min(req.candles, this.options.candles);
    const now = Date.now();
    const start = now - (now % len) - (n - 1) * len;
    const candles: WireFootprintCandle[] = [];
    let price = BASE_PRICE - (BASE_PRICE % step);
    for (let i = 0; i < n; i++) {
      price += Math.round((this.random() - 0.5) * 3) * step;
      candles.push(this.candle(start + i * len, price, step, this.options.levels));
    }
    const last = candles[candles.length - 1]!;
    this.sub = { id, req, seq: 0, candle: last, cells: new Map(last.cells.map((c) => [c[0], [...c] as WireCell])) };
    const snapshot: SnapshotMessage = {
      subscriptionId: id,
      seq: 0,
      epoch: `synthetic-${id}`,
      exchange: req.exchange,
      symbol: req.symbol,
      timeframe: req.timeframe,
      ticks: req.ticks,
      mode: req.mode ?? 'nearest',
      step,
      scales: SCALES,
      members: [{ exchange: req.exchange, symbol: req.symbol }],
      live: true,
      history: true,
      candles,
      session: null,
      sentAtMs: now,
    };
    queueMicrotask(() => this.h?.snapshot(snapshot));
    this.startLive();
    return Promise.resolve(id);
  }

  private candle(openTime: number, mid: number, step: number, levels: number): WireFootprintCandle {
    const cells: WireCell[] = [];
    const low = mid - Math.floor(levels / 2) * step;
    let buy = 0;
    let sell = 0;
    let bt = 0;
    let st = 0;
    for (let k = 0; k < levels; k++) {
      const centre = 1 - Math.abs(k - levels / 2) / (levels / 2);
      const b = Math.round((0.2 + centre) * this.random() * 5_000_000);
      const s = Math.round((0.2 + centre) * this.random() * 5_000_000);
      const nb = 1 + Math.floor(this.random() * 40);
      const ns = 1 + Math.floor(this.random() * 40);
      cells.push([low + k * step, b, s, nb, ns]);
      buy += b;
      sell += s;
      bt += nb;
      st += ns;
    }
    const high = low + (levels - 1) * step;
    const open = low + Math.floor(this.random() * levels) * step;
    const close = low + Math.floor(this.random() * levels) * step;
    const poc = cells.reduce((a, c) => (c[1] + c[2] > a[1] + a[2] ? c : a))[0];
    return {
      openTime,
      open,
      high,
      low,
      close,
      buyVolume: buy,
      sellVolume: sell,
      buyTrades: bt,
      sellTrades: st,
      delta: buy - sell,
      maxDelta: Math.max(0, buy - sell),
      minDelta: Math.min(0, buy - sell),
      poc,
      vah: high,
      val: low,
      cells,
    };
  }

  private startLive(): void {
    if (this.timer !== null || this.options.rate <= 0) return;
    let last = performance.now();
    let owed = 0;
    this.timer = setInterval(() => {
      const now = performance.now();
      owed += ((now - last) / 1000) * this.options.rate;
      last = now;
      while (owed >= 1) {
        owed--;
        this.trade();
      }
    }, 4);
  }

  /** One synthetic trade on the open candle, sent as an update of the cell it touched. */
  private trade(): void {
    const s = this.sub;
    if (!s || !this.h) return;
    const step = s.req.ticks * SCALES.tick;
    const c = s.candle;
    const levels = (c.high - c.low) / step + 1;
    const p = c.low + Math.floor(this.random() * levels) * step;
    const qty = 1 + Math.floor(this.random() * 200_000);
    const buy = this.random() < 0.5;
    let cell = s.cells.get(p);
    if (!cell) s.cells.set(p, (cell = [p, 0, 0, 0, 0]));
    const next: WireCell = buy
      ? [p, cell[1] + qty, cell[2], cell[3] + 1, cell[4]]
      : [p, cell[1], cell[2] + qty, cell[3], cell[4] + 1];
    s.cells.set(p, next);
    const candle = {
      ...c,
      close: p,
      buyVolume: c.buyVolume + (buy ? qty : 0),
      sellVolume: c.sellVolume + (buy ? 0 : qty),
      buyTrades: c.buyTrades + (buy ? 1 : 0),
      sellTrades: c.sellTrades + (buy ? 0 : 1),
    };
    candle.delta = candle.buyVolume - candle.sellVolume;
    s.candle = { ...candle, cells: c.cells };
    const { cells: _cells, ...summary } = s.candle;
    const u: UpdateMessage = {
      subscriptionId: s.id,
      seq: ++s.seq,
      epoch: `synthetic-${s.id}`,
      candle: summary,
      cells: [next],
      replace: false,
      session: null,
      lastTradeUs: Date.now() * 1000,
      sourceSentAtMs: Date.now(),
      sentAtMs: Date.now(),
    };
    this.sent++;
    this.h.update(u);
  }

  unsubscribe(subscriptionId: string): void {
    if (this.sub?.id === subscriptionId) this.sub = null;
  }

  instruments(): Promise<InstrumentsResponse> {
    return Promise.resolve({
      instruments: [
        { exchange: 'synthetic', symbol: 'SYNUSDT', priceScale: 2, quantityScale: 5, tick: 1, tickSize: '0.01' },
      ],
      merged: [],
    });
  }

  completeness(_e: string, _s: string, _t: Timeframe, _f: number, _to: number): Promise<CandleCompleteness[]> {
    return Promise.resolve([]);
  }

  vwap(_e: string, _s: string, _t: Timeframe, _f: number, _to: number): Promise<WireVwapPoint[]> {
    return Promise.resolve([]);
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.h = null;
  }
}
