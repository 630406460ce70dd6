import { EVENTS_STREAM, EVENTS_SUBJECTS, TRADES_STREAM, TRADES_SUBJECTS } from '@orderflow/contracts';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { errorText } from './retry.js';

export interface StreamLimits {
  /** Messages older than this are removed. */
  maxAgeMs: number;
  /** The stream keeps at most this many bytes (oldest messages are removed first); -1 = unlimited. */
  maxBytes: number;
}

export interface EnsureStreamsOptions extends StreamLimits {
  /** JetStream drops a publish whose Nats-Msg-Id it has seen within this window (at most maxAgeMs). */
  duplicateWindowMs: number;
  /** Copies of each message kept in a cluster, in both streams (1 on a single server). */
  replicas?: number;
  storage?: 'file' | 'memory';
  /** Limits of COLLECTOR_EVENTS when they should differ from the TRADES ones. */
  events?: Partial<StreamLimits>;
}

export interface EnsuredStream {
  stream: string;
  action: 'created' | 'updated' | 'unchanged';
  /** The fields that differed, for 'updated'. */
  changed: string[];
  info: StreamInfo;
}

/** The configuration ensureStreams gives a stream (exported for operators' tooling and tests). */
export function streamConfig(
  name: string,
  subjects: readonly string[],
  limits: StreamLimits,
  o: EnsureStreamsOptions,
): StreamConfig {
  return {
    name,
    subjects: [...subjects],
    retention: RetentionPolicy.Limits,
    storage: (o.storage ?? 'file') === 'file' ? StorageType.File : StorageType.Memory,
    discard: DiscardPolicy.Old,
    max_age: nanos(limits.maxAgeMs),
    max_bytes: limits.maxBytes,
    max_msgs: -1,
    max_msg_size: -1,
    duplicate_window: nanos(o.duplicateWindowMs),
    num_replicas: o.replicas ?? 1,
  } as StreamConfig;
}

function checkLimits(what: string, l: StreamLimits, duplicateWindowMs: number): void {
  if (!Number.isSafeInteger(l.maxAgeMs) || l.maxAgeMs <= 0)
    throw new Error(`ensureStreams: ${what} maxAgeMs must be a positive integer, got ${l.maxAgeMs}`);
  if (!Number.isSafeInteger(l.maxBytes) || (l.maxBytes <= 0 && l.maxBytes !== -1)) {
    throw new Error(`ensureStreams: ${what} maxBytes must be a positive integer or -1, got ${l.maxBytes}`);
  }
  if (duplicateWindowMs > l.maxAgeMs) {
    throw new Error(
      `ensureStreams: ${what} duplicateWindowMs (${duplicateWindowMs}) must not exceed maxAgeMs (${l.maxAgeMs})`,
    );
  }
}

/** The fields ensureStreams manages, compared between the wanted and the existing config. */
const MANAGED = [
  'subjects',
  'retention',
  'storage',
  'discard',
  'max_age',
  'max_bytes',
  'max_msgs',
  'max_msg_size',
  'duplicate_window',
  'num_replicas',
] as const;

function differences(want: StreamConfig, have: StreamConfig): string[] {
  const out: string[] = [];
  for (const k of MANAGED) {
    const a = want[k];
    const b = have[k];
    const same = Array.isArray(a) && Array.isArray(b) ? [...a].sort().join('\n') === [...b].sort().join('\n') : a === b;
    if (!same) out.push(k);
  }
  return out;
}

async function ensureOne(jsm: JetStreamManager, want: StreamConfig): Promise<EnsuredStream> {
  const name = want.name;
  let existing: StreamInfo | null = null;
  try {
    existing = await jsm.streams.info(name);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) {
      throw new Error(`ensureStreams: could not look up stream ${name}: ${errorText(err)}`, { cause: err });
    }
  }
  if (existing === null) {
    try {
      const info = await jsm.streams.add(want);
      return { stream: name, action: 'created', changed: [], info };
    } catch (err) {
      throw new Error(
        `ensureStreams: could not create stream ${name} (subjects ${want.subjects.join(', ')}): ${errorText(err)}`,
        { cause: err },
      );
    }
  }
  const changed = differences(want, existing.config);
  if (changed.length === 0) return { stream: name, action: 'unchanged', changed, info: existing };
  if (changed.includes('storage')) {
    throw new Error(
      `ensureStreams: stream ${name} has ${existing.config.storage} storage but ${want.storage} is configured; ` +
        "JetStream cannot change a stream's storage type: move the data to a new stream or delete the stream",
    );
  }
  const { name: _name, ...update } = want;
  try {
    const info = await jsm.streams.update(name, update);
    return { stream: name, action: 'updated', changed, info };
  } catch (err) {
    throw new Error(`ensureStreams: could not update stream ${name} (${changed.join(', ')}): ${errorText(err)}`, {
      cause: err,
    });
  }
}

/**
 * Creates the TRADES stream (`trades.>`) and the COLLECTOR_EVENTS stream (`deadletter.>`,
 * `gaps.>`), or brings existing ones to the given limits. Idempotent: a stream that already has
 * this configuration is left alone. Every error names the stream and the step that failed.
 */
export async function ensureStreams(nc: NatsConnection, o: EnsureStreamsOptions): Promise<EnsuredStream[]> {
  const trades: StreamLimits = { maxAgeMs: o.maxAgeMs, maxBytes: o.maxBytes };
  const events: StreamLimits = {
    maxAgeMs: o.events?.maxAgeMs ?? o.maxAgeMs,
    maxBytes: o.events?.maxBytes ?? o.maxBytes,
  };
  checkLimits(TRADES_STREAM, trades, o.duplicateWindowMs);
  checkLimits(EVENTS_STREAM, events, o.duplicateWindowMs);
  if (!Number.isSafeInteger(o.replicas ?? 1) || (o.replicas ?? 1) < 1 || (o.replicas ?? 1) > 5) {
    throw new Error(`ensureStreams: replicas must be 1..5, got ${o.replicas}`);
  }
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (err) {
    throw new Error(`ensureStreams: JetStream is not available on ${nc.getServer()}: ${errorText(err)}`, {
      cause: err,
    });
  }
  return [
    await ensureOne(jsm, streamConfig(TRADES_STREAM, [TRADES_SUBJECTS], trades, o)),
    await ensureOne(jsm, streamConfig(EVENTS_STREAM, EVENTS_SUBJECTS, events, o)),
  ];
}
