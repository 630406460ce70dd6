import type { ServerResponse } from 'node:http';
import { formatFixed } from '@orderflow/footprint';
import type { WireFootprintCandle } from '@orderflow/contracts';
import type { Scales } from '../instruments/instrument.view.js';

/**
 * Writes text and bytes to an HTTP response as they are produced, honouring backpressure (a slow
 * client slows the ClickHouse read down instead of filling memory), in chunks of about 64 KiB.
 * Bytes (a candle's JSON made from stored bytes: candleJson) go out as they are, never made text.
 */
export class ChunkWriter {
  private parts: (string | Uint8Array)[] = [];
  private size = 0;
  private bytes = false;

  constructor(private readonly res: ServerResponse) {}

  /** Text, or bytes given as one or more parts (written in order). */
  async write(s: string | Uint8Array | readonly Uint8Array[]): Promise<void> {
    if (typeof s === 'string' || s instanceof Uint8Array) this.add(s);
    else for (const p of s) this.add(p);
    if (this.size >= 65_536) await this.flush();
  }

  private add(s: string | Uint8Array): void {
    this.parts.push(s);
    this.size += s.length;
    if (typeof s !== 'string') this.bytes = true;
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const chunk = this.bytes
      ? Buffer.concat(this.parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)))
      : this.parts.join('');
    this.parts = [];
    this.size = 0;
    this.bytes = false;
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

export const FOOTPRINT_CSV_HEADER =
  'exchange,symbol,timeframe,open_time,price,buy_volume,sell_volume,buy_trades,sell_trades,delta,volume\n';

/** A footprint candle as CSV rows, one per cell, decimals exact (formatFixed). */
export function footprintCsvRows(
  exchange: string,
  symbol: string,
  timeframe: string,
  scales: Scales,
  c: WireFootprintCandle,
): string {
  const head = `${csvField(exchange)},${csvField(symbol)},${timeframe},${new Date(c.openTime).toISOString()},`;
  let out = '';
  for (const [price, buy, sell, bt, st] of c.cells) {
    out += `${head}${formatFixed(price, scales.priceScale)},${formatFixed(buy, scales.quantityScale)},${formatFixed(sell, scales.quantityScale)},${bt},${st},${formatFixed(buy - sell, scales.quantityScale)},${formatFixed(buy + sell, scales.quantityScale)}\n`;
  }
  return out;
}
