import { basename } from 'node:path';
import type { Instrument } from '@orderflow/footprint';
import { NormalizeError, isBinanceArchiveHeader, normalizeBinanceArchiveRow } from '@orderflow/normalizers';
import type { TradeSink } from '../feeds/feed.types.js';
import { openArchive } from './archive.reader.js';

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
  onBadLine?: (bad: BadLine) => void;
  onProgress?: (p: ImportProgress) => void;
  progressEveryMs?: number;
}

/**
 * Publishes Binance public-data archives through the same normaliser and publisher as the live
 * feed. A bad line is reported with file and line number and skipped; the rest imports. Resolves
 * once JetStream has acknowledged every trade. Reading waits while the publisher is saturated.
 * Importing the same file twice publishes the same trades twice: JetStream drops repeated batches
 * within its duplicate window and the aggregator drops trades it has seen, by trade id.
 */
export async function importBinanceArchives(o: ArchiveImportOptions): Promise<{ trades: number; badLines: BadLine[] }> {
  const badLines: BadLine[] = [];
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
        o.sink.add(o.instrument, normalizeBinanceArchiveRow(line, o.exchange, o.instrument, Date.now()));
        trades++;
      } catch (e) {
        const bad = { file: path, line: lineNo, reason: e instanceof NormalizeError ? `${e.code}: ${e.reason}` : String(e) };
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
        o.onProgress({ file, fileIndex: fi, files: o.files.length, fraction, trades, tradesPerSecond: rate, etaSeconds: fraction > 0.01 ? (fileElapsed / fraction) * (1 - fraction) : null });
      }
    }
  }
  await o.sink.flush();
  return { trades, badLines };
}
