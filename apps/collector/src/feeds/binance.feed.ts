/**
 * Binance spot and USDT-M futures aggTrade feed.
 * - Spot streams: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
 *   (a connection lives 24 h; the server pings every 20 s and wants a pong within a minute; at most
 *   1024 streams and 5 incoming messages a second per connection, pings and pongs included:
 *   we subscribe in the URL, so we send nothing but pongs).
 * - Futures streams: https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
 * - REST aggTrades (backfill): spot GET /api/v3/aggTrades (weight 4 when fromId is used), futures
 *   GET /fapi/v1/aggTrades (weight 20); 1000 trades a request.
 *
 * Aggregate ids `a` are contiguous per symbol (gaps are filled by SequencedFeed), and `f` =
 * previous `l` + 1: a break there cannot be backfilled, but it is recorded.
 */
import {
  type BinanceAggTrade,
  type BinanceNormalizeOptions,
  normalizeBinanceAggTrade,
  normalizeBinanceRestAggTrades,
} from '@orderflow/normalizers';
import { type ConnectionSpec, SequencedFeed, type SequencedFeedOptions, type SymbolState } from './sequenced.feed.js';

export interface BinanceFeedOptions extends SequencedFeedOptions {
  market: 'spot' | 'usdm';
  /** Streams per connection (Binance allows 1024). */
  streamsPerConnection?: number;
}

export class BinanceFeed extends SequencedFeed<BinanceAggTrade> {
  private readonly normalize: BinanceNormalizeOptions;
  private readonly path: string;
  private readonly weight: number;

  constructor(private readonly b: BinanceFeedOptions) {
    super(b);
    this.normalize = { exchange: b.exchange, instruments: b.instruments };
    this.path = b.market === 'spot' ? '/api/v3/aggTrades' : '/fapi/v1/aggTrades';
    this.weight = b.market === 'spot' ? 4 : 20;
  }

  protected connectionSpecs(symbols: string[]): ConnectionSpec[] {
    const per = this.b.streamsPerConnection ?? 200;
    const out: ConnectionSpec[] = [];
    for (let i = 0; i < symbols.length; i += per) {
      const streams = symbols.slice(i, i + per).map((s) => `${s.toLowerCase()}@aggTrade`);
      out.push({
        name: `${this.b.exchange} connection ${i / per + 1}`,
        url: `${this.b.wsUrl}/stream?streams=${streams.join('/')}`,
      });
    }
    return out;
  }

  protected parse(text: string, receivedAtMs: number): BinanceAggTrade[] | { control: true; payload: unknown } {
    const r = normalizeBinanceAggTrade(text, this.normalize, receivedAtMs);
    return 'control' in r ? r : [r];
  }

  protected async fetchFrom(symbol: string, fromId: number): Promise<BinanceAggTrade[]> {
    const body = await this.rest.getText(`${this.path}?symbol=${symbol}&fromId=${fromId}&limit=1000`, this.weight);
    return normalizeBinanceRestAggTrades(body, symbol, this.normalize, Date.now());
  }

  protected async newestTrade(symbol: string): Promise<BinanceAggTrade | null> {
    const body = await this.rest.getText(`${this.path}?symbol=${symbol}&limit=1`, this.weight);
    return normalizeBinanceRestAggTrades(body, symbol, this.normalize, Date.now()).at(-1) ?? null;
  }

  protected async firstIdSince(symbol: string, sinceMs: number): Promise<number | null> {
    const body = await this.rest.getText(
      `${this.path}?symbol=${symbol}&startTime=${sinceMs}&endTime=${sinceMs + 3_600_000}&limit=1`,
      this.weight,
    );
    const rows = normalizeBinanceRestAggTrades(body, symbol, this.normalize, Date.now());
    return rows.length > 0 ? Number(rows[0]!.id) : null;
  }

  protected override checkContinuity(state: SymbolState<BinanceAggTrade>, trade: BinanceAggTrade): void {
    const f = Number(trade.firstTradeId);
    const last = state.extra.lastUnderlying;
    if (last !== undefined && f !== last + 1) {
      // Aggregate ids are contiguous but the underlying trade ids are not: nothing to backfill,
      // but the record says the stream was not what Binance documents.
      this.o.events.gap(
        this.gapEvent(
          trade.symbol,
          String(last + 1),
          String(f - 1),
          f - last - 1,
          'unfilled',
          'underlying trade ids: f != previous l + 1',
          { fromTimeUs: state.lastTimeUs, toTimeUs: trade.exchangeTimeUs },
        ),
      );
    }
    state.extra.lastUnderlying = Number(trade.lastTradeId);
  }
}
