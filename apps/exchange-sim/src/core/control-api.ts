/**
 * The HTTP face of the simulator's controls: POST /__sim/<action> (GET for stats), parameters
 * from the query string or a JSON body, answers as JSON.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FeedState } from './feed.js';
import { readBody, sendJson } from './http.js';
import type { SimControls } from './simulator.types.js';

/** What the answers report after an action. */
export interface ControlState {
  skipPending(): number;
  stalledUntil(): number;
  feedState(): FeedState;
  subscribedClients(): number;
}

/** Handles /__sim/<action> (`url.pathname`). */
export async function handleControl(
  req: IncomingMessage,
  url: URL,
  res: ServerResponse,
  c: SimControls,
  state: ControlState,
): Promise<void> {
  const action = url.pathname.slice('/__sim/'.length).toLowerCase();
  const body = req.method === 'POST' ? await readBody(req).catch(() => '') : '';
  let json: Record<string, unknown> = {};
  if (body.trim().startsWith('{')) {
    try {
      json = JSON.parse(body) as Record<string, unknown>;
    } catch {
      json = {};
    }
  }
  const param = (name: string): string | undefined => {
    const q = url.searchParams.get(name);
    if (q !== null) return q;
    const v = json[name];
    return v === undefined || v === null ? undefined : String(v);
  };
  const num = (name: string, fallback?: number): number => {
    const v = param(name);
    const n = v === undefined ? fallback : Number(v);
    if (n === undefined || !Number.isFinite(n) || n < 0)
      throw new Error(`parameter "${name}" must be a non-negative number`);
    return n;
  };
  try {
    if (req.method !== 'POST' && action !== 'stats') {
      sendJson(res, 405, { ok: false, error: 'use POST' });
      return;
    }
    switch (action) {
      case 'dropconnections':
        sendJson(res, 200, { ok: true, dropped: c.dropConnections() });
        return;
      case 'skipids': {
        const symbol = param('symbol');
        c.skipIds(num('n'), symbol);
        sendJson(res, 200, { ok: true, skipPending: state.skipPending() });
        return;
      }
      case 'sendmalformed': {
        const text = url.searchParams.get('text') ?? body;
        sendJson(res, 200, { ok: true, clients: c.sendMalformed(text) });
        return;
      }
      case 'stallpings':
        c.stallPings(num('ms'));
        sendJson(res, 200, { ok: true, stalledUntil: state.stalledUntil() });
        return;
      case 'pause':
        c.pause();
        sendJson(res, 200, { ok: true, state: state.feedState() });
        return;
      case 'resume':
        c.resume();
        sendJson(res, 200, { ok: true, state: state.feedState() });
        return;
      case 'stats':
        sendJson(res, 200, { ok: true, ...c.stats() });
        return;
      case 'waitforclients':
        await c.waitForClients(num('n', 1), num('timeoutMs', 30_000));
        sendJson(res, 200, {
          ok: true,
          subscribedClients: state.subscribedClients(),
        });
        return;
      case 'replayfinished': {
        const timeoutMs = num('timeoutMs', 60_000);
        const report = await Promise.race([
          c.replayFinished(),
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error(`replay not finished after ${timeoutMs} ms`)), timeoutMs).unref(),
          ),
        ]);
        sendJson(res, 200, { ok: true, ...report });
        return;
      }
      default:
        sendJson(res, 404, {
          ok: false,
          error: `unknown action "${action}"`,
          actions: [
            'dropConnections',
            'skipIds',
            'sendMalformed',
            'stallPings',
            'pause',
            'resume',
            'stats',
            'waitForClients',
            'replayFinished',
          ],
        });
    }
  } catch (e) {
    if (!res.headersSent) sendJson(res, 400, { ok: false, error: (e as Error).message });
  }
}
