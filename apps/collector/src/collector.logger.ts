import type { FieldLogger, LogFields } from '@orderflow/observability';
import type { CollectorConfig } from './config/collector.config.js';

/**
 * The collector's log with its exchange on every line and, for the lines about one symbol, that
 * symbol as a field. The feeds write plain messages that start with "<exchange> <symbol>: " when
 * they concern a symbol (gaps, their backfill, recovery) and "<exchange>[ connection n]: "
 * otherwise (connections, reconnects, malformed frames); the symbol is taken from that prefix
 * when it is one this collector was given.
 */
export function collectorLogger(
  logger: FieldLogger,
  config: Pick<CollectorConfig, 'exchange' | 'symbols'>,
): FieldLogger {
  const exchange = config.exchange.id;
  const symbols = new Set(config.symbols);
  const prefix = `${exchange} `;
  const fields = (m: string, f?: LogFields): LogFields => {
    const out: LogFields = { exchange };
    if (m.startsWith(prefix)) {
      const end = m.indexOf(':', prefix.length);
      const word = end > 0 ? m.slice(prefix.length, end).split(' ')[0]! : '';
      if (symbols.has(word)) out.symbol = word;
    }
    return f ? { ...out, ...f } : out;
  };
  return {
    log: (m, f) => logger.log(m, fields(m, f)),
    warn: (m, f) => logger.warn(m, fields(m, f)),
    error: (m, f) => logger.error(m, fields(m, f)),
  };
}
