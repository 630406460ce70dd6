/**
 * The flow of produced trades: each batch goes into its market's REST history, then to the
 * protocol (observe, publish) minus the trades the skipIds fault withholds from the WebSocket.
 */
import type { SimTrade } from '../trade.js';
import type { Market } from './market.js';
import type { ProtocolAdapter } from './simulator.types.js';

export class TradeFlow {
  /** Trades produced (WebSocket + REST history), handed to the WebSocket layer, withheld. */
  produced = 0;
  sent = 0;
  skipped = 0;
  /** Trades still to withhold, of `skipMarket` (a market key) or of any market. */
  skipPending = 0;
  private skipMarket: string | undefined;

  /** The next `n` trades (of the market with key `marketKey`, or of any market) are withheld. */
  skip(n: number, marketKey: string | undefined): void {
    this.skipMarket = marketKey;
    this.skipPending = n;
  }

  produce(adapter: ProtocolAdapter, market: Market, trades: SimTrade[]): void {
    market.history.push(trades);
    market.produced += trades.length;
    this.produced += trades.length;
    let skip = 0;
    if (this.skipPending > 0 && (this.skipMarket === undefined || this.skipMarket === market.key)) {
      skip = Math.min(this.skipPending, trades.length);
      this.skipPending -= skip;
      if (this.skipPending === 0) this.skipMarket = undefined;
      this.skipped += skip;
    }
    adapter.observe?.(market, trades);
    const deliver = skip > 0 ? trades.slice(skip) : trades;
    if (deliver.length > 0) {
      this.sent += deliver.length;
      adapter.publish(market, deliver);
    }
  }
}
