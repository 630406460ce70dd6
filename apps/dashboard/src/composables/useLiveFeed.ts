import { onBeforeUnmount, onMounted, reactive } from 'vue';
import type { GatewayAdapter } from '../protocol/gateway.protocol.js';
import { type ChangeKind, LiveController } from '../store/live.controller.js';

export interface FeedStatus {
  connection: string;
  detail: string | null;
  error: { code: string; reason: string } | null;
  loading: boolean;
  seq: number;
  updates: number;
  live: boolean;
  history: boolean;
  candles: number;
  /** Date.now() of the last applied batch of updates. */
  lastUpdateAt: number | null;
  /** The store's revision: grows with every change (for views derived from the store). */
  revision: number;
}

/**
 * The live subscription's lifecycle in a component: connect on mount, close on unmount. `onChange`
 * runs for every change (a frame's batch of updates included): the chart is redrawn from there,
 * outside Vue's reactivity; only the small status object is reactive.
 */
export function useLiveFeed(adapter: GatewayAdapter, onChange: (kind: ChangeKind, live: LiveController) => void) {
  const status = reactive<FeedStatus>({
    connection: 'connecting',
    detail: null,
    error: null,
    loading: false,
    seq: 0,
    updates: 0,
    live: false,
    history: false,
    candles: 0,
    lastUpdateAt: null,
    revision: 0,
  });
  const live: LiveController = new LiveController(adapter, (kind) => {
    status.connection = live.connection;
    status.detail = live.connectionDetail;
    status.error = live.error;
    status.loading = live.loading;
    status.seq = live.store.seq;
    status.updates = live.store.updates;
    status.live = live.store.live;
    status.history = live.store.history;
    status.candles = live.store.candles.length;
    status.revision = live.store.revision;
    if (kind === 'live') status.lastUpdateAt = Date.now();
    onChange(kind, live);
  });
  onMounted(() => live.start());
  onBeforeUnmount(() => live.stop());
  return { live, status };
}
