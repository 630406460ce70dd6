/**
 * OKX v5 public trades feed (SPOT and SWAP instruments, e.g. BTC-USDT and BTC-USDT-SWAP).
 * - WebSocket: https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-trades-channel
 *   subscribe with {"op":"subscribe","args":[{"channel":"trades-all","instId":...}]} on /ws/v5/business
 *   (every fill on its own, so trade ids stay contiguous; the `trades` channel on /ws/v5/public
 *   merges fills of one taker order into one message whose id is the last merged one, which is
 *   fine for volume but breaks id continuity: with it, gaps are reported falsely). OKX closes a
 *   connection idle for 30 s, so we send the text "ping" every 20 s (it answers "pong"). At most
 *   3 subscription requests a second per connection: one request carries every instrument.
 * - REST history: GET /api/v5/market/history-trades?instId=&type=1&after=<tradeId>&limit=100
 *   returns up to 100 trades with ids BELOW `after`, newest first (20 requests per 2 s).
 *   https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-trades-history
 *
 * OKX trade ids of an instrument are contiguous integers, so gaps are detected and filled like
 * Binance's (SequencedFeed).
 */
import { type OkxNormalizeOptions, normalizeOkxHistoryTrades, normalizeOkxTrades } from '@orderflow/normalizers';
import type { Trade } from '@orderflow/footprint';
import { type ConnectionSpec, SequencedFeed, type SequencedFeedOptions } from './sequenced.feed.js';

const PAGE = 100;

export class OkxFeed extends SequencedFeed<Trade> {
  private readonly normalize: OkxNormalizeOptions;

  constructor(
    o: SequencedFeedOptions,
    private readonly channel: 'trades-all' | 'trades' = 'trades-all',
  ) {
    // OKX counts requests per 2 s (history-trades: 20): a burst of 1 s at half that rate stays under it
    super({ restBurstSeconds: 1, ...o });
    this.normalize = { exchange: o.exchange, instruments: o.instruments };
  }

  protected connectionSpecs(symbols: string[]): ConnectionSpec[] {
    const subscribe = JSON.stringify({
      op: 'subscribe',
      args: symbols.map((instId) => ({ channel: this.channel, instId })),
    });
    return [
      {
        name: `${this.o.exchange} connection`,
        url: this.o.wsUrl,
        onOpen: (send) => send(subscribe),
        appPing: { intervalMs: 20_000, payload: 'ping' },
      },
    ];
  }

  protected parse(text: string, receivedAtMs: number): Trade[] | { control: true; payload: unknown } {
    return normalizeOkxTrades(text, this.normalize, receivedAtMs);
  }

  /** Ids from `fromId` upward: ask for the page just below fromId + 100 and put it in ascending order. */
  protected async fetchFrom(symbol: string, fromId: number): Promise<Trade[]> {
    const body = await this.rest.getText(
      `/api/v5/market/history-trades?instId=${symbol}&type=1&after=${fromId + PAGE}&limit=${PAGE}`,
      1,
    );
    const trades = normalizeOkxHistoryTrades(body, this.normalize, Date.now());
    return trades.filter((t) => Number(t.id) >= fromId).sort((a, b) => Number(a.id) - Number(b.id));
  }

  protected async newestTrade(symbol: string): Promise<Trade | null> {
    const body = await this.rest.getText(`/api/v5/market/trades?instId=${symbol}&limit=1`, 1);
    return normalizeOkxHistoryTrades(body, this.normalize, Date.now())[0] ?? null;
  }

  /**
   * The first id at or after `sinceMs`: one past the last trade before it (history-trades by
   * timestamp, type=2, `after` = older than). When REST's history does not reach back that far,
   * the oldest of the newest page at or after sinceMs.
   */
  protected async firstIdSince(symbol: string, sinceMs: number): Promise<number | null> {
    const before = normalizeOkxHistoryTrades(
      await this.rest.getText(`/api/v5/market/history-trades?instId=${symbol}&type=2&after=${sinceMs}&limit=1`, 1),
      this.normalize,
      Date.now(),
    );
    if (before.length > 0) return Number(before[0]!.id) + 1;
    const body = await this.rest.getText(`/api/v5/market/trades?instId=${symbol}&limit=${PAGE}`, 1);
    const trades = normalizeOkxHistoryTrades(body, this.normalize, Date.now());
    const inRange = trades.filter((t) => t.exchangeTimeUs >= sinceMs * 1000);
    const pick = inRange.length > 0 ? inRange : trades;
    return pick.length > 0 ? Math.min(...pick.map((t) => Number(t.id))) : null;
  }
}
