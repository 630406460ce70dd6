import type { InstrumentRow } from '@orderflow/clickhouse';
import { classifyError } from '@orderflow/observability';
import { RequestError } from '../request.error.js';
import {
  type InstrumentView,
  MERGED_MARKETS,
  MERGED_SYMBOL,
  type Scales,
  type StoredInstrument,
  mergedMarket,
  mergedView,
  pairOf,
  singleView,
} from './instrument.view.js';

export interface InstrumentSource {
  loadInstruments(): Promise<InstrumentRow[]>;
}

/**
 * Asks the owning aggregator shard for an instrument's scales (a symbol it trades that ClickHouse does not list yet).
 */
export type LiveProbe = (exchange: string, symbol: string) => Promise<Scales | null>;

const key = (exchange: string, symbol: string) => `${exchange}\t${symbol}`;

/**
 * The instruments the gateway knows: `{db}.instruments` (written by the aggregator when it first
 * sees a symbol), re-read periodically and, at most every `missRefreshMs`, when a request names an
 * instrument it does not know; plus instruments an owning shard vouched for while ClickHouse did
 * not list them yet. A symbol known to neither is refused.
 */
export class InstrumentCatalog {
  private rows = new Map<string, StoredInstrument>();
  private readonly live = new Map<string, StoredInstrument>();
  private loading: Promise<void> | null = null;
  private loadedAt = 0;
  /** Why the last read failed: a classified reason (classifyError). */
  lastError: string | null = null;

  constructor(
    private readonly source: InstrumentSource,
    private readonly probe: LiveProbe | null,
    private readonly now: () => number = Date.now,
    private readonly missRefreshMs = 1000,
  ) {}

  /** Re-reads the table (one read at a time; concurrent callers share it). */
  refresh(): Promise<void> {
    if (this.loading) return this.loading;
    this.loading = this.source
      .loadInstruments()
      .then(
        (rows) => {
          this.rows = new Map(
            rows.map((r) => [
              key(r.exchange, r.symbol),
              {
                exchange: r.exchange,
                symbol: r.symbol,
                priceScale: r.priceScale,
                quantityScale: r.quantityScale,
                tick: r.tick,
              },
            ]),
          );
          this.loadedAt = this.now();
          this.lastError = null;
        },
        (e: unknown) => {
          this.lastError = classifyError(e); // /status shows it: never the ClickHouse text (the caller logs it)
          throw e;
        },
      )
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }

  /** Re-reads the table unless it was read within `maxAgeMs`. */
  async refreshIfOlder(maxAgeMs: number): Promise<void> {
    if (this.now() - this.loadedAt >= maxAgeMs) await this.refresh();
  }

  private async refreshOnMiss(): Promise<void> {
    if (this.now() - this.loadedAt < this.missRefreshMs) return;
    await this.refresh().catch(() => undefined);
  }

  get(exchange: string, symbol: string): StoredInstrument | undefined {
    return this.rows.get(key(exchange, symbol)) ?? this.live.get(key(exchange, symbol));
  }

  /** Every stored instrument, by exchange and symbol. */
  instruments(): StoredInstrument[] {
    const all = new Map([...this.live, ...this.rows]);
    return [...all.values()].sort((a, b) =>
      a.exchange === b.exchange ? a.symbol.localeCompare(b.symbol) : a.exchange.localeCompare(b.exchange),
    );
  }

  /** Merged views with at least two members present (one-member merged views can still be asked for by name). */
  mergedViews(): InstrumentView[] {
    const pairs = new Set<string>();
    for (const i of this.instruments()) {
      const p = pairOf(i.symbol);
      if (p) pairs.add(`${p.base}-${p.quote}`);
    }
    const out: InstrumentView[] = [];
    for (const market of MERGED_MARKETS) {
      for (const pair of [...pairs].sort()) {
        const v = this.mergedFromRows(market.id, pair);
        if (v && v.members.length >= 2) out.push(v);
      }
    }
    return out;
  }

  /** A stored instrument, or one its owning shard vouches for (a probe; negative answers are cached by the probe). */
  private async find(exchange: string, symbol: string): Promise<StoredInstrument | undefined> {
    let i = this.get(exchange, symbol);
    if (i === undefined) {
      await this.refreshOnMiss();
      i = this.get(exchange, symbol);
    }
    if (i === undefined && this.probe) {
      const scales = await this.probe(exchange, symbol).catch(() => null);
      if (scales) {
        i = { exchange, symbol, ...scales };
        this.live.set(key(exchange, symbol), i);
      }
    }
    return i;
  }

  private mergedFromRows(exchange: string, symbol: string): InstrumentView | null {
    const market = mergedMarket(exchange);
    const m = MERGED_SYMBOL.exec(symbol);
    if (!market || !m) return null;
    const present = market.members(m[1]!, m[2]!).flatMap((x) => {
      const i = this.get(x.exchange, x.symbol);
      return i ? [i] : [];
    });
    return present.length === 0 ? null : mergedView(exchange, symbol, present);
  }

  /** The view of a validated (exchange, symbol), or RequestError('unknown-symbol'). */
  async resolve(exchange: string, symbol: string): Promise<InstrumentView> {
    const market = mergedMarket(exchange);
    if (market) {
      const m = MERGED_SYMBOL.exec(symbol)!;
      const candidates = market.members(m[1]!, m[2]!);
      const present = (await Promise.all(candidates.map((x) => this.find(x.exchange, x.symbol)))).filter(
        (x): x is StoredInstrument => x !== undefined,
      );
      if (present.length === 0)
        throw new RequestError(
          'unknown-symbol',
          `${exchange} ${symbol}: none of its member instruments (${candidates.map((x) => `${x.exchange} ${x.symbol}`).join(', ')}) is known`,
        );
      return mergedView(exchange, symbol, present);
    }
    const i = await this.find(exchange, symbol);
    if (i === undefined)
      throw new RequestError(
        'unknown-symbol',
        `${exchange} ${symbol} is not a known instrument (not in the instruments table, and its aggregator shard has no trades of it)`,
      );
    return singleView(i);
  }
}
