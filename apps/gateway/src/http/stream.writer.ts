import type { ServerResponse } from 'node:http';
import { formatFixed } from '@orderflow/footprint';
import type { WireFootprintCandle } from '../footprint/wire.js';
import type { Scales } from '../instruments/instrument.view.js';

/**
 * Writes text to an HTTP response as it is produced, honouring backpressure (a slow client slows
 * the ClickHouse read down instead of filling memory), in chunks of about 64 KiB.
 */
export class ChunkWriter {
  private buf = '';

  constructor(private readonly res: ServerResponse) {}

  async write(s: string): Promise<void> {
    this.buf += s;
    if (this.buf.length >= 65_536) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    const chunk = this.buf;
    this.buf = '';
    if (this.res.destroyed) throw new Error('client went away');
    if (this.res.write(chunk)) return;
    // whichever comes first; both listeners are removed (a long response waits here many times;
    // events.once with an AbortSignal would make an AbortError, stack and all, for every wait)
    const res = this.res;
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }

  async end(): Promise<void> {
    await this.flush();
    this.res.end();
  }
}

/** A CSV field: quoted when it holds a comma, quote or line break. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const FOOTPRINT_CSV_HEADER = 'exchange,symbol,timeframe,open_time,price,buy_volume,sell_volume,buy_trades,sell_trades,delta,volume\n';

/** A footprint candle as CSV rows, one per cell, decimals exact (formatFixed). */
export function footprintCsvRows(exchange: string, symbol: string, timeframe: string, scales: Scales, c: WireFootprintCandle): string {
  const head = `${csvField(exchange)},${csvField(symbol)},${timeframe},${new Date(c.openTime).toISOString()},`;
  let out = '';
  for (const [price, buy, sell, bt, st] of c.cells) {
    out += `${head}${formatFixed(price, scales.priceScale)},${formatFixed(buy, scales.quantityScale)},${formatFixed(sell, scales.quantityScale)},${bt},${st},${formatFixed(buy - sell, scales.quantityScale)},${formatFixed(buy + sell, scales.quantityScale)}\n`;
  }
  return out;
}
