import {
  instrumentFor,
  instrumentForReplay,
  type InstrumentOverride,
  type InstrumentSpec,
  type Venue,
} from '../instruments.js';
import { loadTradeFile, type TradeFileFormat } from '../sources/files.js';
import { ConstantRateMarket } from '../sources/constant.js';
import { ArrayTradeSource, type TradeSource } from '../sources/source.js';
import { SyntheticMarket } from '../sources/synthetic.js';
import type { SimTrade } from '../trade.js';
import type { FeedMode } from './feed.js';

/** A recording to replay into one market. */
export interface ReplaySpec {
  /** Path of a recorded file (formats: see sources/files.ts). */
  readonly file?: string;
  readonly format?: TradeFileFormat;
  /** Or trades in memory. */
  readonly trades?: readonly SimTrade[];
  /** The venue's symbol for the market (default: the recording's; OKX: converted to an instId). */
  readonly symbol?: string;
  /** Bybit "spot" | "linear" (default: the simulator's first category). */
  readonly category?: string;
}

/** How a synthetic market spaces its trades (see MarketSourceOptions.pacing). */
export type SyntheticPacing = 'poisson' | 'constant';

/** Where the trades come from: synthetic markets (default) or recordings. */
export interface MarketSourceOptions {
  /** Synthetic markets (default ["BTCUSDT"]); ignored when `replay` is given. */
  readonly symbols?: readonly string[];
  /** Synthetic: trades per second per symbol (default 50): the average (poisson) or exact (constant). */
  readonly rate?: number;
  /**
   * Synthetic: `poisson` (default) = a market-like tape, Poisson arrivals with bursts around the
   * average `rate`; `constant` = a load generator, exactly `rate` trades/s evenly spaced
   * (ConstantRateMarket).
   */
  readonly pacing?: SyntheticPacing;
  /** Synthetic: random seed (default 1). */
  readonly seed?: number;
  /** Synthetic replay mode: time of the first trade (default now). */
  readonly startTime?: number;
  /** Synthetic: stop after this many trades per symbol (default endless). */
  readonly count?: number;
  /** Synthetic: annualised volatility (default 0.6). */
  readonly volatility?: number;
  /** Tick/step/start-price overrides per symbol. */
  readonly instruments?: Readonly<Record<string, InstrumentOverride>>;
  /** Recordings to replay: file paths or specs. Implies mode "replay" unless mode says otherwise. */
  readonly replay?: string | ReplaySpec | readonly (string | ReplaySpec)[];
}

export interface ResolvedMarket {
  readonly symbol: string;
  readonly category: string;
  readonly instrument: InstrumentSpec;
  readonly source: TradeSource;
}

export interface ResolveRules {
  /** Categories synthetic markets are created in (each symbol in each). */
  readonly categories: readonly string[];
  /** The venue's symbol and category for a requested symbol (OKX: "BTCUSDT" -> "BTC-USDT"). */
  normalize(symbol: string, category: string): { symbol: string; category: string };
  venue(category: string): Venue;
}

export function feedMode(options: MarketSourceOptions & { mode?: FeedMode }): FeedMode {
  return options.mode ?? (options.replay !== undefined ? 'replay' : 'live');
}

/** Builds the markets' instruments and trade sources from the options. */
export async function resolveMarkets(
  options: MarketSourceOptions & { mode?: FeedMode },
  rules: ResolveRules,
): Promise<ResolvedMarket[]> {
  const out: ResolvedMarket[] = [];
  const seen = new Set<string>();
  const add = (m: ResolvedMarket) => {
    const key = `${m.category}:${m.symbol}`;
    if (seen.has(key)) throw new Error(`market ${m.symbol} (${m.category}) is configured twice`);
    seen.add(key);
    out.push(m);
  };
  if (options.replay !== undefined) {
    const specs = (Array.isArray(options.replay) ? options.replay : [options.replay]) as (string | ReplaySpec)[];
    for (const raw of specs) {
      const spec: ReplaySpec = typeof raw === 'string' ? { file: raw } : raw;
      let trades: readonly SimTrade[];
      let recorded: string | undefined;
      if (spec.trades) {
        trades = spec.trades;
      } else if (spec.file) {
        const loaded = await loadTradeFile(spec.file, spec.format);
        trades = loaded.trades;
        recorded = loaded.symbol;
      } else {
        throw new Error('a replay spec needs "file" or "trades"');
      }
      const wanted = spec.symbol ?? recorded;
      if (!wanted) throw new Error(`cannot tell the symbol of ${spec.file ?? 'the replay'}: pass a symbol`);
      const { symbol, category } = rules.normalize(wanted, spec.category ?? rules.categories[0]!);
      const instrument = instrumentForReplay(
        rules.venue(category),
        symbol,
        trades,
        options.instruments?.[symbol] ?? options.instruments?.[wanted],
      );
      add({
        symbol,
        category,
        instrument,
        source: new ArrayTradeSource(trades),
      });
    }
    return out;
  }
  const symbols = options.symbols && options.symbols.length > 0 ? options.symbols : ['BTCUSDT'];
  for (const category of rules.categories) {
    for (const requested of symbols) {
      const { symbol, category: cat } = rules.normalize(requested, category);
      const instrument = instrumentFor(
        rules.venue(cat),
        symbol,
        options.instruments?.[symbol] ?? options.instruments?.[requested],
      );
      const common = {
        instrument,
        ...(options.rate !== undefined ? { rate: options.rate } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        ...(options.count !== undefined ? { count: options.count } : {}),
        ...(options.volatility !== undefined ? { volatility: options.volatility } : {}),
        startTime: options.startTime ?? Date.now(),
      };
      const source: TradeSource =
        options.pacing === 'constant' ? new ConstantRateMarket(common) : new SyntheticMarket(common);
      add({ symbol, category: cat, instrument, source });
    }
  }
  return out;
}
