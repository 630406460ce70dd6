/**
 * JetStream layout, shared by the collectors (publishers), the aggregator (consumer) and operators.
 *
 * - Stream TRADES, subjects `trades.<exchange>.<symbol>`: batches of consecutive trades of one
 *   symbol (see trade-batch.ts). File storage, limits by age and size, a duplicate window: every
 *   message carries a Nats-Msg-Id naming its trade id range, so a retried publish is dropped by
 *   the server. Batch boundaries can differ after a reconnect, so consumers also drop trades
 *   they have already seen, by trade id.
 * - Stream COLLECTOR_EVENTS: `deadletter.<exchange>` (malformed frames with their raw text and the
 *   reason) and `gaps.<exchange>.<symbol>` (every id gap found and whether it was filled).
 */
export const TRADES_STREAM = 'TRADES';
export const TRADES_SUBJECTS = 'trades.>';
export const EVENTS_STREAM = 'COLLECTOR_EVENTS';
export const EVENTS_SUBJECTS = ['deadletter.>', 'gaps.>'] as const;

/** A subject token: no dots, spaces or wildcards. Exchange ids and symbols must be tokens. */
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

export function assertToken(value: string, what: string): string {
  if (!TOKEN.test(value)) throw new Error(`${what} "${value.slice(0, 80)}" must be 1-64 characters of A-Z a-z 0-9 _ -`);
  return value;
}

export function tradeSubject(exchange: string, symbol: string): string {
  return `trades.${assertToken(exchange, 'exchange')}.${assertToken(symbol, 'symbol')}`;
}

export function deadLetterSubject(exchange: string): string {
  return `deadletter.${assertToken(exchange, 'exchange')}`;
}

export function gapSubject(exchange: string, symbol: string): string {
  return `gaps.${assertToken(exchange, 'exchange')}.${assertToken(symbol, 'symbol')}`;
}

/** Exchange and symbol of a `trades.<exchange>.<symbol>` subject, or null. */
export function parseTradeSubject(subject: string): { exchange: string; symbol: string } | null {
  const parts = subject.split('.');
  if (parts.length !== 3 || parts[0] !== 'trades' || !TOKEN.test(parts[1]!) || !TOKEN.test(parts[2]!)) return null;
  return { exchange: parts[1]!, symbol: parts[2]! };
}

/** A dead-lettered frame. */
export interface DeadLetter {
  exchange: string;
  receivedAtMs: number;
  code: string;
  reason: string;
  /** The raw frame text (cut to 64 KiB). */
  raw: string;
}

/** An id gap found in a feed (Binance aggTrade ids, OKX trade ids) and what became of it. */
export interface GapEvent {
  exchange: string;
  symbol: string;
  /** First and last missing id (inclusive). */
  fromId: string;
  toId: string;
  missing: number;
  /**
   * Exchange times (µs) of the last trade before and the first trade after the gap: the missing
   * trades happened between them. Absent when unknown (older collectors).
   */
  fromTimeUs?: number;
  toTimeUs?: number;
  detectedAtMs: number;
  /** 'detected' when found; 'filled' once REST delivered every missing id; 'unfilled' when it gave up. */
  status: 'detected' | 'filled' | 'unfilled';
  reason: string;
}
