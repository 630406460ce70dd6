// Reads a collector's streams back from JetStream for a bench's exactly-once check: every trade
// id in TRADES against the id range it must cover, and the gap events in COLLECTOR_EVENTS.
//
//   import { checkTradeIds, readGapEvents } from './lib/stream-ids.mjs';
//   await checkTradeIds(nc, 1, 400_000)
//   // { stored, distinct, duplicates, missing, outside, minId, maxId, lastId, exactlyOnce }
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { EVENTS_STREAM, TRADES_STREAM, decodeTradeBatch } from '@orderflow/contracts';

/** Each message of `stream` in stream order, handed to `onMessage(subject, text)`; resolves with how many. */
export async function forEachMessage(nc, stream, onMessage) {
  const info = await (await jetstreamManager(nc)).streams.info(stream).catch(() => null);
  if (!info || info.state.messages === 0) return 0;
  const consumer = await jetstream(nc).consumers.get(stream);
  const messages = await consumer.consume();
  let n = 0;
  for await (const m of messages) {
    onMessage(m.subject, m.string());
    n++;
    if (m.info.pending === 0) break;
  }
  return n;
}

/**
 * Every trade id stored in TRADES, checked against the numeric ids `firstId`..`lastId` (both
 * included): how many are stored, stored more than once, missing, or outside the range.
 * `exactlyOnce`: each id of the range stored once and nothing else stored.
 */
export async function checkTradeIds(nc, firstId, lastId) {
  const span = lastId - firstId + 1;
  const seen = new Uint8Array(span);
  let stored = 0;
  let duplicates = 0;
  let outside = 0;
  let minId = Infinity;
  let maxId = -Infinity;
  let last = null;
  await forEachMessage(nc, TRADES_STREAM, (_subject, text) => {
    for (const t of decodeTradeBatch(text).trades) {
      const id = Number(t.id);
      stored++;
      last = id;
      if (id < minId) minId = id;
      if (id > maxId) maxId = id;
      const i = id - firstId;
      if (!Number.isInteger(i) || i < 0 || i >= span) outside++;
      else if (seen[i]++ > 0) duplicates++;
    }
  });
  let missing = 0;
  for (let i = 0; i < span; i++) if (seen[i] === 0) missing++;
  const distinct = span - missing;
  return {
    stored,
    distinct,
    duplicates,
    missing,
    outside,
    minId,
    maxId,
    lastId: last,
    exactlyOnce: stored === span && distinct === span && outside === 0,
  };
}

/** The gap events (status detected, filled, unfilled) in COLLECTOR_EVENTS. */
export async function readGapEvents(nc) {
  const gaps = [];
  await forEachMessage(nc, EVENTS_STREAM, (subject, text) => {
    if (!subject.startsWith('deadletter.')) gaps.push(JSON.parse(text));
  });
  return gaps;
}
