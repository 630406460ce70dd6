import { describe, expect, it } from 'vitest';
import type { GatewayAdapter, LiveHandlers } from './gateway.protocol.js';
import { GuardedGatewayAdapter } from './guarded.adapter.js';

function handlers(log: string[]): LiveHandlers {
  return {
    snapshot: () => undefined,
    update: () => undefined,
    error: () => undefined,
    connection: (state, detail) => void log.push(`${state}${detail ? `: ${detail}` : ''}`),
  };
}

describe('GuardedGatewayAdapter', () => {
  it('a refused gateway: disconnected with the reason, requests fail with it', async () => {
    const a = new GuardedGatewayAdapter(Promise.resolve({ refused: 'gateway https://evil.example is not allowed' }));
    const log: string[] = [];
    a.connect(handlers(log));
    await expect(a.instruments()).rejects.toMatchObject({
      code: 'gateway-not-allowed',
      message: 'gateway https://evil.example is not allowed',
    });
    await expect(
      a.subscribe({ exchange: 'binance', symbol: 'BTCUSDT', timeframe: '1m', ticks: 1, candles: 10 }),
    ).rejects.toMatchObject({ code: 'gateway-not-allowed' });
    expect(log).toEqual(['connecting', 'disconnected: gateway https://evil.example is not allowed']);
    a.close();
  });

  it('an allowed gateway: calls go to the adapter made for it, once', async () => {
    const calls: string[] = [];
    const inner = {
      connect: () => void calls.push('connect'),
      instruments: async () => ({ instruments: [], merged: [] }),
      close: () => void calls.push('close'),
    } as unknown as GatewayAdapter;
    let made = 0;
    const a = new GuardedGatewayAdapter(Promise.resolve({ adapter: () => (made++, inner) }));
    a.connect(handlers([]));
    expect(await a.instruments()).toEqual({ instruments: [], merged: [] });
    a.close();
    expect(calls).toEqual(['connect', 'close']);
    expect(made).toBe(1);
  });
});
