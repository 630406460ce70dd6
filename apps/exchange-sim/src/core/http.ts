import type { IncomingMessage, ServerResponse } from 'node:http';

/** Writes a JSON response; `body` strings are sent as they are (pre-serialised). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | number> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A query parameter as an integer: undefined when absent, NaN when not an integer. */
export function intParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  return /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
}

/**
 * Fixed-window request budget, one counter per key (Binance weight per minute, OKX requests per
 * endpoint per 2 s, Bybit requests per 5 s). Windows are aligned to the wall clock like Binance's minute.
 */
export class WindowLimiter {
  private readonly used = new Map<string, { window: number; used: number }>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Adds `cost`; returns the usage after it and whether the request is within the budget. */
  take(key: string, cost: number, now = Date.now()): { used: number; ok: boolean; retryAfterMs: number } {
    const window = Math.floor(now / this.windowMs);
    let entry = this.used.get(key);
    if (!entry || entry.window !== window) {
      entry = { window, used: 0 };
      this.used.set(key, entry);
    }
    entry.used += cost;
    return {
      used: entry.used,
      ok: entry.used <= this.limit,
      retryAfterMs: (window + 1) * this.windowMs - now,
    };
  }

  current(key: string, now = Date.now()): number {
    const entry = this.used.get(key);
    return entry && entry.window === Math.floor(now / this.windowMs) ? entry.used : 0;
  }
}

export interface RateLimitOptions {
  /** Budget per window (Binance: weight; Bybit: requests; OKX: requests per endpoint). */
  readonly limit?: number;
  readonly windowMs?: number;
}
