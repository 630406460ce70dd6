import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { WebSocket } from 'ws';
import type { SimTrade } from '../trade.js';

/** The shared recordings (never copied into the repository): ../shared/data next to the checkout. */
export const DATA_DIR =
  process.env['ORDERFLOW_SHARED_DATA'] ?? resolve(import.meta.dirname, '../../../..', '../shared/data');

/**
 * Options of a describe or test that reads a recording (or, without `file`, the directory): skipped
 * where it is absent, with the reason as meta.skipReason (vitest.shared.ts prints each reason once
 * per run; under CI a skipped test fails the run).
 */
export function needsData(file?: string): {
  skip: boolean;
  meta: { skipReason: string };
} {
  const path = file ? resolve(DATA_DIR, file) : DATA_DIR;
  return {
    skip: !existsSync(path),
    meta: {
      skipReason: `${path} is missing (the shared recordings exist only on the project's machines)`,
    },
  };
}

export function dataFile(name: string): string {
  return resolve(DATA_DIR, name);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `predicate` until it holds or `timeoutMs` passes. */
export async function until(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}

/** A `ws` client that records every text frame exactly as received. */
export class TestClient {
  readonly frames: string[] = [];
  pings = 0;
  pongs = 0;
  closeCode: number | undefined;
  closeReason = '';
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.frames.push(data.toString('utf8')));
    ws.on('ping', () => this.pings++);
    ws.on('pong', () => this.pongs++);
    this.closed = new Promise((r) =>
      ws.on('close', (code: number, reason: Buffer) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        r(code);
      }),
    );
    ws.on('error', () => undefined); // failures show up as 'close'
  }

  static open(url: string, options: { autoPong?: boolean } = {}): Promise<TestClient> {
    return new Promise((resolvePromise, reject) => {
      const ws = new WebSocket(url, {
        autoPong: options.autoPong ?? true,
        perMessageDeflate: false,
      });
      const client = new TestClient(ws);
      ws.once('open', () => resolvePromise(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode} on upgrade to ${url}`)));
    });
  }

  send(text: string): void {
    this.ws.send(text);
  }

  /** Waits for at least `n` frames in total. */
  async frameCount(n: number, timeoutMs = 5000): Promise<string[]> {
    await until(() => this.frames.length >= n, timeoutMs, `${n} frames (have ${this.frames.length})`);
    return this.frames;
  }

  /** Sends `text` and returns the next frame. */
  async request(text: string, timeoutMs = 2000): Promise<string> {
    const before = this.frames.length;
    this.send(text);
    await this.frameCount(before + 1, timeoutMs);
    return this.frames[before]!;
  }

  close(): void {
    this.ws.terminate();
  }
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  json<T = unknown>(): T;
}

export async function http(url: string, init: { method?: string; body?: string } = {}): Promise<HttpResult> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: <T>() => JSON.parse(text) as T,
  };
}

/** `n` deterministic trades: ids from `startId`, times from `startTime` with `perMs` trades per ms. */
export function makeTrades(
  n: number,
  options: {
    startId?: number;
    startTime?: number;
    perMs?: number;
    price?: (i: number) => string;
  } = {},
): SimTrade[] {
  const startId = options.startId ?? 5_000_000;
  const startTime = options.startTime ?? 1_723_161_256_000;
  const perMs = options.perMs ?? 1;
  const out: SimTrade[] = [];
  for (let i = 0; i < n; i++) {
    const id = startId + i;
    out.push({
      id,
      price: options.price ? options.price(i) : `${61800 + (i % 7)}.${String(i % 100).padStart(2, '0')}`,
      quantity: `0.${String(1 + (i % 997)).padStart(3, '0')}`,
      time: startTime + Math.floor(i / perMs),
      side: i % 3 === 0 ? 'sell' : 'buy',
      firstId: id,
      lastId: id,
    });
  }
  return out;
}
