import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';

export interface ArchiveLines {
  /** Lines of the CSV (of the single CSV inside a .zip), with 1-based numbers. */
  lines: AsyncIterable<string>;
  /** Compressed or plain bytes read so far, and the total: for progress. */
  bytesRead(): number;
  totalBytes: number;
}

/** Opens a Binance archive (.csv, or a .zip holding one .csv) as a stream of lines. */
export async function openArchive(path: string): Promise<ArchiveLines> {
  const totalBytes = (await stat(path)).size;
  let read = 0;
  let source: Readable;
  if (path.toLowerCase().endsWith('.zip')) {
    source = await zipEntryStream(path, (n) => (read = n));
  } else {
    const s = createReadStream(path, { highWaterMark: 1 << 20 });
    s.on('data', (chunk) => (read += chunk.length));
    source = s;
  }
  const rl = createInterface({ input: source, crlfDelay: Infinity });
  return { lines: rl, bytesRead: () => read, totalBytes };
}

function zipEntryStream(path: string, onCompressedBytes: (n: number) => void): Promise<Readable> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: true }, (err, zip) => {
      if (err || !zip) return reject(new Error(`${path}: not a readable zip archive: ${err?.message}`));
      let found = false;
      zip.on('entry', (entry: yauzl.Entry) => {
        if (found || entry.fileName.endsWith('/') || !entry.fileName.toLowerCase().endsWith('.csv')) {
          zip.readEntry();
          return;
        }
        found = true;
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(new Error(`${path}: cannot read ${entry.fileName}: ${e?.message}`));
          let inflated = 0;
          stream.on('data', (chunk: Buffer) => {
            inflated += chunk.length;
            // Progress in compressed bytes, estimated from the entry's compression ratio.
            onCompressedBytes(Math.round((inflated / Math.max(1, entry.uncompressedSize)) * entry.compressedSize));
          });
          resolve(stream);
        });
      });
      zip.on('end', () => {
        if (!found) reject(new Error(`${path}: the zip archive holds no .csv file`));
      });
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}
