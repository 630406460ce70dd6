import { decodeTradeBatch, TRADES_STREAM, tradeSubject } from '@orderflow/contracts';
import type { Trade } from '@orderflow/footprint';
import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';

/** The newest trades JetStream holds for one exchange and symbol: where a collector resumes. */
export interface StoredTradesTail {
  /** The last trade of the last batch on `trades.<exchange>.<symbol>`. */
  last: Trade;
  /**
   * Every stored trade with the last trade's exchange time, oldest first (`last` included), read
   * back across batch boundaries: the ids to skip when an exchange's ids are not ordered (Bybit).
   */
  atLastTime: Trade[];
  /** Stream sequence of the last batch. */
  seq: number;
}

export interface LastStoredTradesOptions {
  /** Default TRADES. */
  stream?: string;
  /** Batches read back at most while they end at the last trade's time (default 16). */
  maxBatches?: number;
}

/** A stored message that is not a trade batch (JetStream itself answered). */
export class StoredTradesError extends Error {
  override readonly name = 'StoredTradesError';
}

/** What lastStoredTrades needs of a JetStreamManager (STREAM.MSG.GET: no allow_direct needed). */
export type StreamMessageGetter = { streams: Pick<JetStreamManager['streams'], 'getMessage'> };

/**
 * The last trades stored on `trades.<exchange>.<symbol>` (the subject's last message, by
 * `last_by_subj`), or null when the stream holds none for it (never collected, or expired by the
 * stream's max age). Throws when JetStream cannot answer, StoredTradesError when the stored
 * batch does not decode.
 */
export async function lastStoredTrades(
  jsm: StreamMessageGetter,
  exchange: string,
  symbol: string,
  o: LastStoredTradesOptions = {},
): Promise<StoredTradesTail | null> {
  const stream = o.stream ?? TRADES_STREAM;
  const subject = tradeSubject(exchange, symbol);
  const lastMsg = await jsm.streams.getMessage(stream, { last_by_subj: subject });
  if (lastMsg === null) return null;
  const trades = decodeStored(lastMsg, subject);
  const last = trades[trades.length - 1];
  if (last === undefined) return null;
  const atLastTime = trades.filter((t) => t.exchangeTimeUs === last.exchangeTimeUs);
  // The batch may begin inside a run of trades sharing that time: read earlier batches of the
  // subject while they end at it.
  let before = lastMsg.seq;
  for (let n = 1; n < (o.maxBatches ?? 16) && trades[0]!.exchangeTimeUs === last.exchangeTimeUs; n++) {
    const prev = await previousOnSubject(jsm, stream, subject, before);
    if (prev === null) break;
    const older = decodeStored(prev, subject);
    const same = older.filter((t) => t.exchangeTimeUs === last.exchangeTimeUs);
    atLastTime.unshift(...same);
    if (same.length < older.length) break;
    before = prev.seq;
    trades.splice(0, trades.length, ...older);
  }
  return { last, atLastTime, seq: lastMsg.seq };
}

function decodeStored(m: StoredMsg, subject: string): Trade[] {
  try {
    return decodeTradeBatch(m.string()).trades;
  } catch (e) {
    throw new StoredTradesError(`${subject} message ${m.seq} is not a trade batch: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/**
 * The subject's message just before sequence `seq`: a binary search with `next_by_subj` (each
 * probe returns the subject's first message at or after a sequence), about log2(seq) requests.
 */
async function previousOnSubject(
  jsm: StreamMessageGetter,
  stream: string,
  subject: string,
  seq: number,
): Promise<StoredMsg | null> {
  let lo = 1;
  let hi = seq - 1;
  let best: StoredMsg | null = null;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    // next_by_subj with seq is part of STREAM.MSG.GET since nats-server 2.9; the client's type omits it
    const m = await jsm.streams.getMessage(stream, { seq: mid, next_by_subj: subject } as unknown as { seq: number });
    if (m !== null && m.seq < seq) {
      best = m;
      lo = m.seq + 1;
    } else hi = mid - 1;
  }
  return best;
}
