/**
 * The connected WebSocket clients of a simulator: who is connected, who is subscribed to which
 * topic (the index the protocols route frames by), waits for a number of subscribed clients, and
 * dropping a client.
 */
import type { SimClient } from './simulator.types.js';

interface Waiter {
  readonly n: number;
  readonly resolve: () => void;
}

export class ClientRegistry {
  private readonly clients = new Set<SimClient>();
  private readonly topicIndex = new Map<string, Set<SimClient>>();
  private waiters: Waiter[] = [];
  /** Clients dropped by the simulator (keep-alive rules, limits, dropConnections). */
  dropped = 0;

  get all(): ReadonlySet<SimClient> {
    return this.clients;
  }

  add(client: SimClient): void {
    this.clients.add(client);
  }

  subscribers(topic: string): ReadonlySet<SimClient> | undefined {
    return this.topicIndex.get(topic);
  }

  subscribe(client: SimClient, topic: string): void {
    if (client.topics.has(topic)) return;
    client.topics.add(topic);
    let set = this.topicIndex.get(topic);
    if (!set) this.topicIndex.set(topic, (set = new Set()));
    set.add(client);
    this.checkWaiters();
  }

  unsubscribe(client: SimClient, topic: string): void {
    if (!client.topics.delete(topic)) return;
    const set = this.topicIndex.get(topic);
    set?.delete(client);
    if (set && set.size === 0) this.topicIndex.delete(topic);
  }

  /** Clients with at least one subscription. */
  subscribedClients(): number {
    let n = 0;
    for (const c of this.clients) if (c.topics.size > 0) n++;
    return n;
  }

  /** Subscribers per topic, and their total. */
  topics(): { topics: Record<string, number>; subscriptions: number } {
    const topics: Record<string, number> = {};
    let subscriptions = 0;
    for (const [topic, set] of this.topicIndex) {
      topics[topic] = set.size;
      subscriptions += set.size;
    }
    return { topics, subscriptions };
  }

  /** Resolves once `n` clients have at least one subscription. */
  waitForClients(n: number, timeoutMs?: number): Promise<void> {
    if (this.subscribedClients() >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        n,
        resolve: () => {
          if (timer) clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
      if (timeoutMs !== undefined && timeoutMs > 0) {
        timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(
            new Error(
              `waitForClients(${n}): only ${this.subscribedClients()} subscribed client(s) after ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
      }
    });
  }

  private checkWaiters(): void {
    if (this.waiters.length === 0) return;
    const have = this.subscribedClients();
    const ready = this.waiters.filter((w) => w.n <= have);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.n > have);
    for (const w of ready) w.resolve();
  }

  /** The largest amount of data queued on a client's socket (backpressure for the feed). */
  maxBufferedAmount(): number {
    let max = 0;
    for (const c of this.clients) if (c.ws.bufferedAmount > max) max = c.ws.bufferedAmount;
    return max;
  }

  /** A client is gone: it leaves the registry and its subscriptions. */
  forget(client: SimClient): void {
    if (!this.clients.delete(client)) return;
    for (const topic of [...client.topics]) this.unsubscribe(client, topic);
  }

  /** Drops a client: abruptly (terminate) or with a close frame. */
  drop(client: SimClient, how: 'terminate' | { code: number; reason: string }): void {
    this.dropped++;
    if (how === 'terminate') client.ws.terminate();
    else client.ws.close(how.code, how.reason);
    this.forget(client);
  }
}
