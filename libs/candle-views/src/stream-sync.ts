import type { LiveUpdate } from '@orderflow/contracts';

/**
 * Sequencing of one live stream against the owner's snapshots (pure). The contract
 * (libs/contracts live.ts): seq grows by exactly 1 per update of a (symbol, timeframe) within an
 * actor epoch; a jump or a new epoch means updates were missed, and the receiver re-snapshots.
 *
 * The gateway subscribes to the subject before it asks for the snapshot, so that nothing falls
 * between them: updates that arrive while a snapshot is awaited are buffered, and those the
 * snapshot already contains (seq <= its seq) are dropped when it lands.
 */
export type SyncState = 'syncing' | 'live';

export type UpdateAction = 'apply' | 'ignore' | 'buffered' | 'resync';

export interface SnapshotOutcome {
  /** Buffered updates to apply after the snapshot, in order. */
  apply: LiveUpdate[];
  /** Set when the buffer shows the snapshot is already stale (a newer epoch, a gap): ask again. */
  resync: string | null;
}

export class StreamSync {
  state: SyncState = 'syncing';
  /** The owner's actor epoch; null when the owner holds nothing for the symbol (all is in ClickHouse). */
  epoch: string | null = null;
  seq = 0;
  private buffer: LiveUpdate[] = [];
  private overflowed = false;

  constructor(private readonly maxBuffered = 10_000) {}

  /** A new snapshot is being requested: buffer from now on. */
  beginResync(): void {
    this.state = 'syncing';
    this.buffer = [];
    this.overflowed = false;
  }

  onUpdate(u: LiveUpdate): UpdateAction {
    if (this.state === 'syncing') {
      if (this.buffer.length >= this.maxBuffered) this.overflowed = true;
      else this.buffer.push(u);
      return 'buffered';
    }
    if (this.epoch === null || u.epoch !== this.epoch) return 'resync';
    if (u.seq <= this.seq) return 'ignore';
    if (u.seq !== this.seq + 1) return 'resync';
    this.seq = u.seq;
    return 'apply';
  }

  /** The snapshot arrived (epoch null: the owner does not hold the symbol). */
  onSnapshot(epoch: string | null, seq: number): SnapshotOutcome {
    const buffered = this.buffer;
    this.buffer = [];
    this.state = 'live';
    this.epoch = epoch;
    this.seq = seq;
    if (this.overflowed) {
      this.overflowed = false;
      return { apply: [], resync: 'more updates arrived during the snapshot than can be buffered' };
    }
    const apply: LiveUpdate[] = [];
    let sawEpoch = false;
    for (const u of buffered) {
      if (epoch !== null && u.epoch === epoch) {
        sawEpoch = true;
        if (u.seq <= this.seq) continue;
        if (u.seq !== this.seq + 1) return { apply, resync: `seq ${u.seq} follows ${this.seq}` };
        this.seq = u.seq;
        apply.push(u);
      } else if (sawEpoch || epoch === null) {
        // a newer actor published after the snapshot was taken
        return { apply, resync: `epoch ${u.epoch} after the snapshot's ${epoch ?? '(none)'}` };
      }
      // else: an update of an older epoch that arrived before the snapshot's own: stale, dropped
    }
    return { apply, resync: null };
  }
}
