// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import type { InstrumentInfo, MergedViewInfo } from '@orderflow/contracts';
import { describe, expect, it } from 'vitest';
import { type PickerEntry, pickerEntries } from '../instruments/instrument.search.js';
import InstrumentPicker from './InstrumentPicker.vue';

const info = (exchange: string, symbol: string): InstrumentInfo => ({
  exchange,
  symbol,
  priceScale: 2,
  quantityScale: 5,
  tick: 1,
  tickSize: '0.01',
});
const view = (exchange: string, symbol: string, members: { exchange: string; symbol: string }[]): MergedViewInfo => ({
  ...info(exchange, symbol),
  members: members.map((m) => ({ ...m, priceFactor: 1, quantityFactor: 1 })),
});
const entries: PickerEntry[] = pickerEntries({
  instruments: [info('sim-binance', 'BTCUSDT'), info('sim-binance', 'ETHUSDT'), info('sim-bybit', 'BTCUSDT')],
  merged: [
    view('sim-merged', 'BTC-USDT', [
      { exchange: 'sim-binance', symbol: 'BTCUSDT' },
      { exchange: 'sim-bybit', symbol: 'BTCUSDT' },
    ]),
  ],
});
const current = { exchange: 'sim-binance', symbol: 'ETHUSDT' };

function picker() {
  const w = mount(InstrumentPicker, { props: { entries, recent: [current], current }, attachTo: document.body });
  const input = w.get('[data-testid=instrument]');
  const options = () =>
    w.findAll('[role=option]').map((o) => `${o.attributes('data-exchange')} ${o.attributes('data-symbol')}`);
  const active = () => w.find('[role=option][aria-selected=true]').attributes('data-symbol');
  return { w, input, options, active };
}

describe('InstrumentPicker', () => {
  it('shows the current instrument; focused, lists everything with the recently used first', async () => {
    const { w, input, options } = picker();
    expect((input.element as HTMLInputElement).value).toBe('sim-binance ETHUSDT');
    expect(w.find('[role=listbox]').exists()).toBe(false);
    await input.trigger('focus');
    expect(input.attributes('aria-expanded')).toBe('true');
    expect(options()).toEqual([
      'sim-binance ETHUSDT',
      'sim-binance BTCUSDT',
      'sim-bybit BTCUSDT',
      'sim-merged BTC-USDT',
    ]);
    expect(w.findAll('[role=option]')[0]!.text()).toContain('recent');
    expect(w.findAll('[role=option]')[3]!.text()).toContain('merged: sim-binance + sim-bybit');
    expect(w.emitted('open')).toHaveLength(1);
    w.unmount();
  });

  it('filters as one types; arrows move, Enter chooses', async () => {
    const { w, input, options, active } = picker();
    await input.trigger('focus');
    await input.setValue('bybit btc');
    expect(options()).toEqual(['sim-bybit BTCUSDT']);
    await input.setValue('btc');
    expect(options()).toEqual(['sim-binance BTCUSDT', 'sim-bybit BTCUSDT', 'sim-merged BTC-USDT']);
    expect(active()).toBe('BTCUSDT');
    await input.trigger('keydown', { key: 'ArrowDown' });
    await input.trigger('keydown', { key: 'ArrowDown' });
    expect(active()).toBe('BTC-USDT');
    expect(input.attributes('aria-activedescendant')).toBe('instrument-option-2');
    // stays on the last one
    await input.trigger('keydown', { key: 'ArrowDown' });
    expect(active()).toBe('BTC-USDT');
    await input.trigger('keydown', { key: 'ArrowUp' });
    expect(w.find('[role=option][aria-selected=true]').attributes('data-exchange')).toBe('sim-bybit');
    await input.trigger('keydown', { key: 'Enter' });
    expect(w.emitted('choose')).toEqual([[{ exchange: 'sim-bybit', symbol: 'BTCUSDT' }]]);
    expect(w.find('[role=listbox]').exists()).toBe(false);
    w.unmount();
  });

  it('Escape closes without choosing and puts the current instrument back', async () => {
    const { w, input } = picker();
    await input.trigger('focus');
    await input.setValue('merged');
    await input.trigger('keydown', { key: 'Escape' });
    expect(w.find('[role=listbox]').exists()).toBe(false);
    expect((input.element as HTMLInputElement).value).toBe('sim-binance ETHUSDT');
    expect(w.emitted('choose')).toBeUndefined();
    w.unmount();
  });

  it('says when nothing matches, and a click chooses', async () => {
    const { w, input } = picker();
    await input.trigger('focus');
    await input.setValue('nope');
    expect(w.text()).toContain('No instrument matches “nope”');
    await input.setValue('merged');
    await w.get('[role=option]').trigger('mousedown');
    expect(w.emitted('choose')).toEqual([[{ exchange: 'sim-merged', symbol: 'BTC-USDT' }]]);
    w.unmount();
  });
});
