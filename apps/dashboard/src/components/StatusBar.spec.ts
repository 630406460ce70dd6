// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import type { FeedStatus } from '../composables/useLiveFeed.js';
import StatusBar from './StatusBar.vue';

const base: FeedStatus = {
  connection: 'connected',
  detail: null,
  error: null,
  loading: false,
  seq: 12,
  updates: 12,
  live: true,
  history: true,
  candles: 300,
  lastUpdateAt: 1000,
  revision: 1,
};

describe('StatusBar', () => {
  it('says what is wrong in words: server down, a refused symbol, gaps', () => {
    const w = mount(StatusBar, {
      props: {
        status: {
          ...base,
          connection: 'reconnecting',
          detail: 'cannot reach the gateway at http://x (websocket error)',
        },
        gaps: 0,
        now: 1000,
        view: 'binance BTCUSDT 1m',
      },
    });
    expect(w.get('[data-testid=connection]').text()).toBe(
      'Reconnecting: cannot reach the gateway at http://x (websocket error)',
    );
    const e = mount(StatusBar, {
      props: {
        status: { ...base, error: { code: 'unknown-symbol', reason: 'binance has no symbol NOPE' } },
        gaps: 2,
        now: 3000,
        view: 'v',
      },
    });
    expect(e.get('[role=alert]').text()).toBe('unknown-symbol: binance has no symbol NOPE');
    expect(e.get('[data-testid=completeness]').text()).toContain('2 candles with a recorded gap');
    expect(e.text()).toContain('last update 2 s ago');
  });
});
