import {
  type GroupedChange,
  Outbox,
  type PendingCandle,
  type RunEncoding,
  changedPrices,
  encodeCandle,
} from '@orderflow/candle-views';
import { RateLimiter } from '@orderflow/resilience';
import type { LogFields } from '@orderflow/observability';
import type {
  Ack,
  ClientToServerEvents,
  ErrorMessage,
  ServerToClientEvents,
  SnapshotMessage,
  UpdateMessage,
} from '@orderflow/contracts';
import type { Socket } from 'socket.io';
import type { GatewayLimits } from '../config/gateway.config.js';
import type { GatewayMetrics } from '../metrics/gateway.metrics.js';
import { RequestError, echo } from '../request.error.js';
import { parseSubscribeRequest, parseUnsubscribeRequest } from '../validation/subscribe.request.js';
import { FlushClock } from './flush-clock.js';
import type { LiveClient, LiveHub, Subscription } from './live.hub.js';

/** A connection with the protocol's typed events. */
export type LiveSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

export interface SessionLogger {
  warn(m: string, fields?: LogFields): void;
  error(m: string, fields?: LogFields): void;
}

const EVENTS = new Set(['subscribe', 'unsubscribe']);

/**
 * Bytes written to a connection that its peer has not taken yet: Engine.IO's packets waiting for
 * the transport plus the WebSocket's own buffer (ws bufferedAmount: what Node holds because the
 * kernel's send buffer is full). Reads Engine.IO/ws internals (engine.io 6, ws 8); a transport
 * without them counts its queued packets only.
 */
export function bufferedBytes(socket: Socket): number {
  const conn = socket.conn as unknown as {
    writeBuffer?: { data?: unknown }[];
    transport?: { socket?: { bufferedAmount?: unknown } };
  };
  let n = 0;
  for (const p of conn.writeBuffer ?? []) {
    const d = p.data;
    n += typeof d === 'string' ? d.length : d instanceof Uint8Array || d instanceof ArrayBuffer ? d.byteLength : 0;
  }
  const b = conn.transport?.socket?.bufferedAmount;
  if (typeof b === 'number') n += b;
  return n;
}

/**
 * One Socket.IO connection: its subscriptions, its rate limit, and the conflation of what it is
 * sent. Changes are recorded in the Outbox (latest state per candle); a flush writes them at most
 * once per GATEWAY_CONFLATION_MS (in the FlushClock's pass shared by every connection), and only
 * while the socket's unsent bytes stay under
 * GATEWAY_MAX_BUFFERED_BYTES. A connection that stops reading therefore costs one entry per candle
 * it follows and never delays another (nothing is ever awaited on its behalf); one that stays
 * congested longer than GATEWAY_SLOW_CLIENT_TIMEOUT_MS, or lets more than
 * GATEWAY_MAX_PENDING_CANDLES candles wait, is disconnected.
 */
export class ClientSession implements LiveClient {
  readonly subs = new Map<string, Subscription>();
  readonly outbox = new Outbox<Subscription>();
  private pendingSubscribes = 0;
  private nextId = 1;
  private readonly limiter: RateLimiter;
  private retry: NodeJS.Timeout | null = null;
  congestedSince: number | null = null;
  closed = false;

  constructor(
    readonly socket: LiveSocket,
    private readonly hub: LiveHub,
    private readonly limits: GatewayLimits,
    private readonly metrics: GatewayMetrics,
    private readonly logger: SessionLogger,
    /** The process's flush pass (one per gateway; a session of its own when not given, as in unit tests). */
    private readonly clock: FlushClock = new FlushClock(limits.conflationMs),
  ) {
    this.limiter = new RateLimiter(limits.messagesPerSecond, Date.now());
  }

  /** Wires the socket's events (called once, on connection). */
  attach(): void {
    const s = this.socket;
    s.use((packet, next) => {
      if (this.limiter.tryTake(Date.now())) return next();
      const [event, ...args] = packet as unknown as [string, ...unknown[]];
      const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (a: Ack) => void) : undefined;
      this.refuse(
        new RequestError(
          'rate-limited',
          `more than ${this.limits.messagesPerSecond} messages a second: this one was dropped`,
        ),
        event,
        args.length === 1 ? args[0] : args,
        ack,
      );
    });
    s.on('subscribe', (...args: unknown[]) => {
      const [body, ack] = splitAck(args);
      void this.subscribe(body, ack);
    });
    s.on('unsubscribe', (...args: unknown[]) => {
      const [body, ack] = splitAck(args);
      this.unsubscribe(body, ack);
    });
    s.onAny((event: unknown, ...args: unknown[]) => {
      if (typeof event === 'string' && EVENTS.has(event)) return;
      const [body, ack] = splitAck(args);
      this.refuse(
        new RequestError(
          'unknown-event',
          `unknown event ${JSON.stringify(String(event).slice(0, 64))}: expected subscribe or unsubscribe`,
        ),
        String(event),
        body,
        ack,
      );
    });
    s.conn.on('drain', () => {
      if (this.retry !== null && this.outbox.size > 0) {
        clearTimeout(this.retry);
        this.retry = null;
        this.schedule();
      }
    });
  }

  async subscribe(body: unknown, ack?: (a: Ack) => void): Promise<void> {
    try {
      const req = parseSubscribeRequest(body, this.limits.maxCandles);
      if (this.subs.size + this.pendingSubscribes >= this.limits.subscriptionsPerClient) {
        throw new RequestError(
          'too-many-subscriptions',
          `at most ${this.limits.subscriptionsPerClient} subscriptions per connection: unsubscribe first`,
        );
      }
      const id = `s${this.nextId++}`;
      this.pendingSubscribes++;
      let sub: Subscription | null;
      try {
        // a snapshot is written only to a socket that has taken the previous ones: a client
        // that stops reading holds at most one snapshot beyond GATEWAY_MAX_BUFFERED_BYTES
        await this.whenWritable();
        if (this.closed) return;
        sub = await this.hub.subscribe(this, id, req);
      } finally {
        this.pendingSubscribes--;
      }
      if (sub === null) return;
      if (this.closed) {
        this.hub.release(sub);
        return;
      }
      this.subs.set(id, sub);
      ack?.({ ok: true, subscriptionId: id });
    } catch (e) {
      this.refuse(e, 'subscribe', body, ack);
    }
  }

  /**
   * Resolves once the socket holds less than GATEWAY_MAX_BUFFERED_BYTES; RequestError('too-slow') after
   * GATEWAY_SLOW_CLIENT_TIMEOUT_MS.
   */
  private async whenWritable(): Promise<void> {
    const until = Date.now() + this.limits.slowClientTimeoutMs;
    while (!this.closed && bufferedBytes(this.socket) > this.limits.maxBufferedBytes) {
      if (Date.now() > until)
        throw new RequestError(
          'too-slow',
          `the connection has not read what it was sent for ${this.limits.slowClientTimeoutMs} ms`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, 100);
        const conn = this.socket.conn;
        function done(): void {
          clearTimeout(t);
          conn.off('drain', done);
          resolve();
        }
        conn.on('drain', done);
      });
    }
  }

  unsubscribe(body: unknown, ack?: (a: Ack) => void): void {
    try {
      const id = parseUnsubscribeRequest(body);
      const sub = this.subs.get(id);
      if (!sub)
        throw new RequestError('unknown-subscription', `no subscription ${JSON.stringify(id)} on this connection`);
      this.subs.delete(id);
      this.outbox.drop(sub);
      this.hub.release(sub);
      ack?.({ ok: true, subscriptionId: id });
    } catch (e) {
      this.refuse(e, 'unsubscribe', body, ack);
    }
  }

  private refuse(e: unknown, event: string, body: unknown, ack?: (a: Ack) => void): void {
    let code: string;
    let reason: string;
    if (e instanceof RequestError) {
      code = e.code;
      reason = e.message;
    } else {
      code = 'internal';
      reason = 'the gateway failed to handle this request';
      this.logger.error(`${event} from ${this.socket.id}: ${(e as Error)?.stack ?? String(e)}`, {
        event: event.slice(0, 64),
      });
    }
    this.metrics.refusedRequests.inc({ code });
    if (this.closed) return;
    // the event name is the client's too (an unknown one can be 64 KB): bounded as in the reason
    const msg: ErrorMessage = {
      code,
      reason,
      request: { event: event.length > 64 ? `${event.slice(0, 64)}...` : event, data: echo(body) },
    };
    this.socket.emit('error', msg);
    this.metrics.messagesOut.error.inc();
    if (ack) ack({ ok: false, error: { code, reason } });
  }

  /**
   * Writes `snapshot` as a pre-encoded Socket.IO packet: each candle's JSON is made once per candle
   * object (encodeCandle: a cached history candle is not serialised again), and Socket.IO does not
   * walk the whole message looking for binary parts. Falls back to emit() like writeUpdate.
   */
  sendSnapshot(msg: SnapshotMessage): void {
    const client = (
      this.socket as unknown as { client?: { _packet?: (p: string[], o: { preEncoded: boolean }) => void } }
    ).client;
    if (typeof client?._packet === 'function') {
      const { candles, ...rest } = msg;
      let body = `2["snapshot",${JSON.stringify(rest).slice(0, -1)},"candles":[`;
      for (let i = 0; i < candles.length; i++) body += (i > 0 ? ',' : '') + encodeCandle(candles[i]!);
      client._packet([`${body}]}]`], { preEncoded: true });
    } else this.socket.emit('snapshot', msg);
    this.metrics.messagesOut.snapshot.inc();
  }

  push(sub: Subscription, change: GroupedChange): void {
    if (this.closed || !sub.active) return;
    const before = this.outbox.conflated;
    this.outbox.add(sub, change);
    if (this.outbox.conflated !== before) this.metrics.conflated.inc();
    if (this.outbox.size > this.limits.maxPendingCandles) {
      this.kick(`more than ${this.limits.maxPendingCandles} candles waiting: the connection cannot keep up`);
      return;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.retry !== null || this.closed) return;
    this.clock.mark(this);
  }

  /** Writes what is waiting, unless the socket still holds too much. */
  flush(): void {
    if (this.closed || this.outbox.size === 0) return;
    const now = Date.now();
    if (bufferedBytes(this.socket) > this.limits.maxBufferedBytes) {
      this.congestedSince ??= now;
      if (now - this.congestedSince > this.limits.slowClientTimeoutMs) {
        this.kick(
          `its socket has held more than ${this.limits.maxBufferedBytes} unsent bytes for ${this.limits.slowClientTimeoutMs} ms`,
        );
        return;
      }
      // 'drain' brings it back sooner; this is the fallback
      this.retry = setTimeout(
        () => {
          this.retry = null;
          this.flush();
        },
        Math.max(this.limits.conflationMs, 100),
      );
      return;
    }
    this.congestedSince = null;
    for (const [sub, pending] of this.outbox.take()) {
      if (!sub.active) continue;
      const session = this.hub.session(sub.entry);
      for (const p of pending) {
        const tail = this.encode(sub, p, session, now);
        if (tail === null) continue; // the view no longer holds the candle (older than its retention)
        this.writeUpdate(sub, tail);
        const last = p.changes[p.changes.length - 1]!;
        if (last.sourceSentAtMs !== null)
          this.metrics.updateDelay.observe(Math.max(0, now - last.sourceSentAtMs) / 1000);
      }
    }
  }

  /**
   * The update's shared part (everything but the subscription's own fields) for a waiting entry.
   * Connections that follow the same view and flush in the same pass hold the same run of changes
   * (first to last) for a candle: the run's encoding is kept on its last change and reused while
   * the candle is at that version and the session object is the same, so a change is serialised
   * once per pass, not once per connection.
   */
  private encode(sub: Subscription, p: PendingCandle, session: unknown, now: number): string | null {
    const view = sub.entry.view;
    const candle = view.wireCandle(p.openTime);
    if (candle === null) return null;
    const first = p.changes[0]!;
    const last = p.changes[p.changes.length - 1]!;
    const version = view.version(p.openTime);
    const runs = (last.encoded ??= []);
    for (const r of runs) {
      if (r.first === first && r.replace === p.replace && r.version === version && r.session === session) {
        this.metrics.updateEncodings.inc({ shared: 'yes' });
        return r.tail;
      }
    }
    // exactly one change, sent as it was made (an entry turned into a replace carries more cells than its last change)
    const single = p.changes.length === 1 && p.replace === last.replace;
    const cells = p.replace
      ? view.cells(p.openTime, null)
      : single
        ? view.cells(p.openTime, last.prices, last)
        : view.cells(p.openTime, changedPrices(p.changes));
    const shared: Omit<UpdateMessage, 'subscriptionId' | 'seq' | 'epoch'> = {
      candle,
      cells,
      replace: p.replace,
      session: session as UpdateMessage['session'],
      lastTradeUs: last.lastTradeUs,
      sourceSentAtMs: last.sourceSentAtMs,
      sentAtMs: now,
    };
    const tail = JSON.stringify(shared).slice(1);
    const run: RunEncoding = { first, replace: p.replace, version, session, tail };
    // a few runs per change at most (connections that fell behind differently); the newest wins
    if (runs.length >= 4) runs.shift();
    runs.push(run);
    this.metrics.updateEncodings.inc({ shared: 'no' });
    return tail;
  }

  /**
   * Writes `update` {subscriptionId, seq, epoch, ...tail} as a pre-encoded Socket.IO packet
   * (`2["update",{...}]`, namespace /): the shared part is serialised once per change instead of
   * once per connection. Falls back to emit() if the Socket.IO client object lacks _packet.
   */
  private writeUpdate(sub: Subscription, tail: string): void {
    const seq = ++sub.seq;
    const head = `{"subscriptionId":${JSON.stringify(sub.id)},"seq":${seq},"epoch":${JSON.stringify(sub.epoch)},`;
    const client = (
      this.socket as unknown as { client?: { _packet?: (p: string[], o: { preEncoded: boolean }) => void } }
    ).client;
    if (typeof client?._packet === 'function') client._packet([`2["update",${head}${tail}]`], { preEncoded: true });
    else this.socket.emit('update', JSON.parse(head + tail) as UpdateMessage);
    this.metrics.messagesOut.update.inc();
  }

  private kick(reason: string): void {
    if (this.closed) return;
    this.metrics.slowDisconnects.inc();
    this.logger.warn(`disconnecting ${this.socket.id}: ${reason}`, { code: 'too-slow' });
    this.socket.emit('error', { code: 'too-slow', reason, request: null } satisfies ErrorMessage);
    this.close();
    this.socket.disconnect(true);
  }

  /** Writing to it failed in a way the session cannot recover from: it is closed, with the reason. */
  failed(e: unknown): void {
    if (this.closed) return;
    const reason = `could not send its updates: ${(e as Error).message}`;
    this.logger.warn(`disconnecting ${this.socket.id}: ${reason}`, { code: 'internal' });
    this.close();
    this.socket.disconnect(true);
  }

  /** The connection ended: every subscription is released, nothing more is sent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.clock.forget(this);
    for (const sub of this.subs.values()) this.hub.release(sub);
    this.subs.clear();
    this.outbox.take();
  }
}

function splitAck(args: unknown[]): [unknown, ((a: Ack) => void) | undefined] {
  const a = [...args];
  const ack = typeof a[a.length - 1] === 'function' ? (a.pop() as (x: Ack) => void) : undefined;
  return [a.length === 1 ? a[0] : a.length === 0 ? undefined : a, ack];
}
