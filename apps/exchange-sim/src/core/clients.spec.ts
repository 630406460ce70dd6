import { describe, expect, it } from 'vitest';
import { ClientRegistry } from './clients.js';
import type { SimClient } from './simulator.types.js';

/** A client whose socket records how it was closed. */
function client(id: string, bufferedAmount = 0): SimClient & { closedWith: unknown[] } {
  const closedWith: unknown[] = [];
  const ws = {
    bufferedAmount,
    terminate: () => closedWith.push('terminate'),
    close: (code: number, reason: string) => closedWith.push([code, reason]),
  };
  return { id, ws, topics: new Set<string>(), closedWith } as unknown as SimClient & { closedWith: unknown[] };
}

describe('ClientRegistry', () => {
  it('indexes subscriptions by topic, resolves waits for subscribed clients, and forgets a dropped client everywhere', async () => {
    const r = new ClientRegistry();
    const a = client('a', 10);
    const b = client('b', 30);
    r.add(a);
    r.add(b);
    let waited = false;
    const wait = r.waitForClients(2).then(() => (waited = true));
    r.subscribe(a, 't1');
    r.subscribe(a, 't1');
    r.subscribe(a, 't2');
    await Promise.resolve();
    expect(waited).toBe(false);
    r.subscribe(b, 't1');
    await wait;
    expect(r.subscribedClients()).toBe(2);
    expect(r.topics()).toEqual({ topics: { t1: 2, t2: 1 }, subscriptions: 3 });
    expect([...r.subscribers('t1')!].map((c) => c.id)).toEqual(['a', 'b']);
    expect(r.maxBufferedAmount()).toBe(30);
    r.unsubscribe(a, 't2');
    expect(r.subscribers('t2')).toBeUndefined();
    r.drop(a, { code: 1000, reason: 'bye' });
    r.drop(b, 'terminate');
    expect([a.closedWith, b.closedWith]).toEqual([[[1000, 'bye']], ['terminate']]);
    expect(r.dropped).toBe(2);
    expect(r.all.size).toBe(0);
    expect(r.topics()).toEqual({ topics: {}, subscriptions: 0 });
    await expect(r.waitForClients(1, 20)).rejects.toThrow('waitForClients(1): only 0 subscribed client(s) after 20 ms');
  });
});
