/**
 * npm run import -- --exchange binance --symbol BTCUSDT [--tick 0.01 --step 0.00001] FILE...
 *
 * Imports Binance public-data archives (spot or USDT-M futures aggTrades, .csv or .zip) onto
 * JetStream through the live pipeline's normaliser and publisher, with a progress line, and exits 0
 * once JetStream has acknowledged every trade and every gap event. Ids missing between the lowest
 * and the highest one imported are published as 'unfilled' gaps (as a live collector records a
 * hole it cannot fill) and listed, and the summary line counts them. Without --tick/--step the
 * instrument comes from COLLECTOR_INSTRUMENTS or the exchange's exchangeInfo.
 */
import { parseArgs } from 'node:util';
import { jetstream } from '@nats-io/jetstream';
import { gapSubject } from '@orderflow/contracts';
import { EventPublisher, TradePublisher, connectNats, drainNats, ensureStreams } from '@orderflow/nats';
import { loadCollectorConfig } from './config/collector.config.js';
import { importBinanceArchives } from './import/archive.import.js';
import type { IdHole } from './import/id-holes.js';
import { loadInstruments } from './instruments.loader.js';

/** Holes listed one per line before the summary; the summary counts them all. */
const HOLES_LISTED = 20;

const USAGE =
  'usage: npm run import -- --exchange binance|binance-futures --symbol SYMBOL [--tick TICK --step STEP] FILE...';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      exchange: { type: 'string' },
      symbol: { type: 'string' },
      tick: { type: 'string' },
      step: { type: 'string' },
      help: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (values.help || !values.exchange || !values.symbol || positionals.length === 0) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  if ((values.tick === undefined) !== (values.step === undefined)) {
    console.error('--tick and --step go together');
    return 2;
  }
  const config = loadCollectorConfig({
    ...process.env,
    COLLECTOR_EXCHANGE: values.exchange,
    COLLECTOR_SYMBOLS: values.symbol,
    ...(values.tick ? { COLLECTOR_INSTRUMENTS: `${values.symbol}:${values.tick}:${values.step}` } : {}),
  });
  if (!config.exchange.protocol.startsWith('binance')) {
    console.error(`archive import reads Binance archives; ${config.exchange.id} is not a Binance exchange id`);
    return 2;
  }
  const logger = {
    log: (m: string) => console.error(m),
    warn: (m: string) => console.error(`warning: ${m}`),
    error: (m: string) => console.error(`error: ${m}`),
  };
  const natsLogger = { info: logger.log, warn: logger.warn, error: logger.error };
  const instrument = (await loadInstruments(config, logger)).get(values.symbol)!;
  const nc = await connectNats({
    servers: config.natsServers,
    ...config.natsAuth,
    name: `import-${config.exchange.id}`,
    logger: natsLogger,
    firstConnectTimeoutMs: 10_000,
  });
  try {
    await ensureStreams(nc, { ...config.stream, storage: 'file' });
    // Batches sealed by size only (and the last one by flush): the same file always gives the same
    // batches, so a re-import carries the same Nats-Msg-Ids and JetStream drops it within its
    // duplicate window. Beyond that window, consumers drop trades they have seen by id.
    const publisher = new TradePublisher(jetstream(nc), {
      ...config.publisher,
      maxBatchDelayMs: 3_600_000,
      logger: natsLogger,
    });
    const events = new EventPublisher(jetstream(nc), { logger: natsLogger });
    const tty = process.stderr.isTTY;
    const result = await importBinanceArchives({
      exchange: config.exchange.id,
      instrument,
      files: positionals,
      sink: publisher,
      events,
      progressEveryMs: tty ? 250 : 5000,
      onBadLine: (b) => console.error(`${b.file}:${b.line}: skipped: ${b.reason}`),
      onProgress: (p) => {
        const eta =
          p.etaSeconds === null
            ? '--:--'
            : `${String(Math.floor(p.etaSeconds / 60)).padStart(2, '0')}:${String(Math.round(p.etaSeconds % 60)).padStart(2, '0')}`;
        const text = `[${p.fileIndex + 1}/${p.files}] ${p.file} ${(p.fraction * 100).toFixed(1).padStart(5)}%  ${p.trades.toLocaleString('en')} trades  ${Math.round(p.tradesPerSecond).toLocaleString('en')}/s  ETA ${eta}`;
        process.stderr.write(tty ? `\r${text}\u001b[K` : `${text}\n`);
      },
    });
    await publisher.close();
    await events.close({ timeoutMs: 60_000 });
    if (tty) process.stderr.write('\n');
    const subject = gapSubject(config.exchange.id, values.symbol);
    for (const h of result.holes.slice(0, HOLES_LISTED))
      console.error(
        `id hole ${h.fromId}..${h.toId} (${h.missing.toLocaleString('en')} missing) between ${isoUs(h.fromTimeUs)} and ${isoUs(h.toTimeUs)}: recorded as unfilled on ${subject}`,
      );
    if (result.holes.length > HOLES_LISTED)
      console.error(`... and ${(result.holes.length - HOLES_LISTED).toLocaleString('en')} more id holes`);
    console.error(
      `imported ${result.trades.toLocaleString('en')} trades of ${config.exchange.id} ${values.symbol}, all acknowledged by JetStream; ${result.badLines.length} bad lines skipped; ${holesSummary(result.holes, subject)}`,
    );
    return 0;
  } finally {
    await drainNats(nc);
  }
}

function holesSummary(holes: readonly IdHole[], subject: string): string {
  if (holes.length === 0) return 'no id holes';
  const missing = holes.reduce((n, h) => n + h.missing, 0);
  const from = holes.reduce((t, h) => Math.min(t, h.fromTimeUs), Infinity);
  const to = holes.reduce((t, h) => Math.max(t, h.toTimeUs), -Infinity);
  return `${holes.length.toLocaleString('en')} id holes, ${missing.toLocaleString('en')} ids missing, between ${isoUs(from)} and ${isoUs(to)}, recorded as unfilled gaps on ${subject}`;
}

/** An exchange time in µs as an ISO 8601 UTC time with microseconds. */
function isoUs(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString().replace('Z', `${String(us % 1000).padStart(3, '0')}Z`);
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
