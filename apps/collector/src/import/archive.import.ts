import { basename } from 'node:path';
import type { Instrument } from '@orderflow/footprint';
import { NormalizeError, isBinanceArchiveHeader, normalizeBinanceArchiveRow } from '@orderflow/normalizers';
import type { GapEvent } from '@orderflow/contracts';
import type { EventSink, TradeSink } from '../feeds/feed.types.js';
import { openArchive } from './archive.reader.js';
import { IdCoverage, type IdHole } from './id-holes.js';

export interface BadLine {
  file: string;
  line: number;
  reason: string;
}

export interface ImportProgress {
  file: string;
  fileIndex: number;
  files: number;
  fraction: number;
  trades: number;
  tradesPerSecond: number;
  etaSeconds: number | null;
}

export interface ArchiveImportOptions {
  exchange: string;
  instrument: Instrument;
  files: readonly string[];
  sink: TradeSink & { flush(): Promise<void> };
  /** Where the holes go as gap events (COLLECTOR_EVENTS), once every trade is acknowledged. */
  events: EventSink & { flush(): Promise<void> };
  onBadLine?: (bad: BadLine) => void;
  onProgress?: (p: ImportProgress) => void;
  progressEveryMs?: number;
}

export interface ArchiveImportResult {
  trades: number;
  badLines: BadLine[];
  /** Ids missing between the lowest and the highest id imported, each published as an 'unfilled' gap. */
  holes: IdHole[];
}

/** Gap events queued before waiting for their acknowledgements: well within EventPublisher's queue. */
const GAP_EVENTS_PER_FLUSH = 1000;

/** The reason every gap event of an import carries. */
export const IMPORT_GAP_REASON = 'archive import: ids missing from the imported files';

/**
 * Publishes Binance public-data archives through the same normaliser and publisher as the live
 * feed. A bad line is reported with file and line number and skipped; the rest imports. Resolves
 * once JetStream has acknowledged every trade. Reading waits while the publisher is saturated.
 * Importing the same file twice publishes the same trades twice: JetStream drops repeated batches
 * within its duplicate window and the aggregator drops trades it has seen, by trade id.
 *
 * Aggregate ids are consecutive per symbol, so an id missing between the lowest and the highest
 * one imported (from all files together, a skipped bad line included) is a trade the store will
 * not have. Each such hole becomes one 'unfilled' gap event on `gaps.<exchange>.<symbol>`, with
 * the exchange times of the trades around it, as a live collector records a hole it cannot fill:
 * the aggregator then marks the candles it touches incomplete.
 */
export async function importBinanceArchives(o: ArchiveImportOptions): Promise<ArchiveImportResult> {
  const badLines: BadLine[] = [];
  const coverage = new IdCoverage();
  let trades = 0;
  const started = Date.now();
  for (let fi = 0; fi < o.files.length; fi++) {
    const path = o.files[fi]!;
    const file = basename(path);
    const archive = await openArchive(path);
    let lineNo = 0;
    let lastReport = 0;
    const fileStart = Date.now();
    for await (const line of archive.lines) {
      lineNo++;
      if (line.length === 0 || (lineNo === 1 && isBinanceArchiveHeader(line))) continue;
      try {
        const trade = normalizeBinanceArchiveRow(line, o.exchange, o.instrument, Date.now());
        coverage.add(Number(trade.id), trade.exchangeTimeUs);
        o.sink.add(o.instrument, trade);
        trades++;
      } catch (e) {
        const bad = {
          file: path,
          line: lineNo,
          reason: e instanceof NormalizeError ? `${e.code}: ${e.reason}` : String(e),
        };
        badLines.push(bad);
        o.onBadLine?.(bad);
      }
      if (o.sink.saturated) await o.sink.onceDrained();
      const now = Date.now();
      if (o.onProgress && now - lastReport >= (o.progressEveryMs ?? 250)) {
        lastReport = now;
        const fraction = archive.totalBytes > 0 ? Math.min(1, archive.bytesRead() / archive.totalBytes) : 1;
        const rate = trades / Math.max(0.001, (now - started) / 1000);
        const fileElapsed = (now - fileStart) / 1000;
        o.onProgress({
          file,
          fileIndex: fi,
          files: o.files.length,
          fraction,
          trades,
          tradesPerSecond: rate,
          etaSeconds: fraction > 0.01 ? (fileElapsed / fraction) * (1 - fraction) : null,
        });
      }
    }
  }
  await o.sink.flush();
  const holes = coverage.holes();
  for (let i = 0; i < holes.length; i++) {
    o.events.gap(holeEvent(o.exchange, o.instrument.symbol, holes[i]!, Date.now()));
    // the publisher's queue is bounded (it drops what does not fit): wait for it every so often
    if ((i + 1) % GAP_EVENTS_PER_FLUSH === 0) await o.events.flush();
  }
  return { trades, badLines, holes };
}

/** A hole as the gap event a live collector publishes for ids it cannot fill. */
export function holeEvent(exchange: string, symbol: string, h: IdHole, detectedAtMs: number): GapEvent {
  return {
    exchange,
    symbol,
    fromId: String(h.fromId),
    toId: String(h.toId),
    missing: h.missing,
    fromTimeUs: h.fromTimeUs,
    toTimeUs: h.toTimeUs,
    detectedAtMs,
    status: 'unfilled',
    reason: IMPORT_GAP_REASON,
  };
}
