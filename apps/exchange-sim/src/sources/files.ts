import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { isPlainDecimal, type SimTrade } from '../trade.js';

/**
 * Readers for the recorded trade files of /work/shared/data (see its README):
 * - `aggtrade-csv`: `timestamp,price,quantity,side,tradeId` (ms, side = aggressor, tradeId = aggregate id).
 * - `binance-ws-jsonl`: one Binance WebSocket message a line: `@trade` messages (served as aggTrades
 *   one-to-one, a = f = l = t) or `@aggTrade` messages, bare or wrapped as `{"stream":..,"data":..}`.
 * - `binance-archive-csv`: data.binance.vision aggTrades, 8 columns without header
 *   `aggId,price,qty,firstId,lastId,timestamp,isBuyerMaker,isBestMatch` (spot, µs since 2025) or the
 *   USDT-M header `agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker`.
 * Prices and quantities are kept as the file's exact strings.
 */
export type TradeFileFormat = 'aggtrade-csv' | 'binance-ws-jsonl' | 'binance-archive-csv';

export interface LoadedTrades {
  readonly format: TradeFileFormat;
  /** Symbol from the records or the file name ("BTCUSDT"); undefined if neither says. */
  readonly symbol: string | undefined;
  readonly trades: SimTrade[];
}

export class TradeFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TradeFileError';
  }
}

export async function loadTradeFile(path: string, format?: TradeFileFormat): Promise<LoadedTrades> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TradeFileError(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (path.endsWith('.gz')) throw new TradeFileError(`${path}: compressed files are not supported, gunzip it first`);
  const loaded = parseTradeText(text, format ?? detectFormat(text, path), path);
  return { ...loaded, symbol: loaded.symbol ?? symbolFromFileName(path) };
}

export function detectFormat(text: string, fileName = ''): TradeFileFormat {
  const first = firstLine(text).trim();
  if (first.startsWith('{')) return 'binance-ws-jsonl';
  if (/^timestamp,price,quantity,side,tradeId$/i.test(first)) return 'aggtrade-csv';
  if (/^agg_trade_id,/i.test(first) || /^\d+,[\d.]+,[\d.]+,\d+,\d+,\d+,(true|false)/i.test(first))
    return 'binance-archive-csv';
  throw new TradeFileError(
    `${fileName || 'input'}: unrecognised trade file format (first line "${first.slice(0, 80)}")`,
  );
}

/** "binance-spot_LTCUSDT_aggtrade-ws_...csv" -> "LTCUSDT"; "BTCUSDT-aggTrades-2026-01-01.csv" -> "BTCUSDT". */
export function symbolFromFileName(path: string): string | undefined {
  const name = basename(path);
  const m = /(?:^|[_-])([A-Z0-9]{2,15}(?:USDT|USDC|FDUSD|BUSD|USD|BTC|ETH|BNB|EUR|TRY))(?=[_.-])/.exec(name);
  return m?.[1];
}

export function parseTradeText(text: string, format: TradeFileFormat, fileName = 'input'): LoadedTrades {
  switch (format) {
    case 'aggtrade-csv':
      return {
        format,
        symbol: undefined,
        trades: parseAggTradeCsv(text, fileName),
      };
    case 'binance-archive-csv':
      return {
        format,
        symbol: undefined,
        trades: parseArchiveCsv(text, fileName),
      };
    case 'binance-ws-jsonl':
      return parseWsJsonl(text, fileName);
  }
}

function firstLine(text: string): string {
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl);
}

function* lines(text: string): Generator<[string, number]> {
  let start = 0;
  let n = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    n++;
    let line = text.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length > 0) yield [line, n];
    start = end + 1;
  }
}

function bad(fileName: string, line: number, why: string): TradeFileError {
  return new TradeFileError(`${fileName}:${line}: ${why}`);
}

function decimal(value: unknown, fileName: string, line: number, what: string): string {
  if (typeof value !== 'string' || !isPlainDecimal(value))
    throw bad(fileName, line, `${what} "${String(value)}" is not a decimal string`);
  return value;
}

function integer(value: unknown, fileName: string, line: number, what: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 0)
    throw bad(fileName, line, `${what} "${String(value)}" is not a non-negative integer`);
  return n;
}

function parseAggTradeCsv(text: string, fileName: string): SimTrade[] {
  const out: SimTrade[] = [];
  for (const [line, n] of lines(text)) {
    if (n === 1 && line.startsWith('timestamp')) continue;
    const cols = line.split(',');
    if (cols.length !== 5) throw bad(fileName, n, `expected 5 columns, got ${cols.length}`);
    const side = cols[3]!.toLowerCase();
    if (side !== 'buy' && side !== 'sell') throw bad(fileName, n, `side "${cols[3]}" is not buy/sell`);
    const id = integer(cols[4], fileName, n, 'tradeId');
    out.push({
      id,
      price: decimal(cols[1], fileName, n, 'price'),
      quantity: decimal(cols[2], fileName, n, 'quantity'),
      time: integer(cols[0], fileName, n, 'timestamp'),
      side,
      firstId: id,
      lastId: id,
    });
  }
  return out;
}

/** Timestamps above this are µs (the spot archives since 2025), below ms. */
const MICROS_THRESHOLD = 1e14;

function parseArchiveCsv(text: string, fileName: string): SimTrade[] {
  const out: SimTrade[] = [];
  for (const [line, n] of lines(text)) {
    if (n === 1 && /^agg_trade_id/i.test(line)) continue;
    const cols = line.split(',');
    if (cols.length !== 7 && cols.length !== 8) throw bad(fileName, n, `expected 7 or 8 columns, got ${cols.length}`);
    const ts = integer(cols[5], fileName, n, 'timestamp');
    const maker = cols[6]!.toLowerCase();
    if (maker !== 'true' && maker !== 'false') throw bad(fileName, n, `isBuyerMaker "${cols[6]}" is not a boolean`);
    const best = cols[7]?.toLowerCase();
    out.push({
      id: integer(cols[0], fileName, n, 'aggId'),
      price: decimal(cols[1], fileName, n, 'price'),
      quantity: decimal(cols[2], fileName, n, 'quantity'),
      time: ts > MICROS_THRESHOLD ? Math.floor(ts / 1000) : ts,
      side: maker === 'true' ? 'sell' : 'buy',
      firstId: integer(cols[3], fileName, n, 'firstId'),
      lastId: integer(cols[4], fileName, n, 'lastId'),
      ...(best === undefined ? {} : { bestMatch: best === 'true' }),
    });
  }
  return out;
}

function parseWsJsonl(text: string, fileName: string): LoadedTrades {
  const out: SimTrade[] = [];
  let symbol: string | undefined;
  for (const [line, n] of lines(text)) {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw bad(fileName, n, 'not JSON');
    }
    if (msg['data'] && typeof msg['data'] === 'object' && typeof msg['stream'] === 'string')
      msg = msg['data'] as Record<string, unknown>;
    const e = msg['e'];
    if (typeof msg['s'] === 'string') symbol ??= msg['s'];
    if (typeof msg['m'] !== 'boolean') throw bad(fileName, n, '"m" is not a boolean');
    const common = {
      price: decimal(msg['p'], fileName, n, 'p'),
      quantity: decimal(msg['q'], fileName, n, 'q'),
      time: integer(msg['T'], fileName, n, 'T'),
      side: msg['m'] ? ('sell' as const) : ('buy' as const),
      ...(typeof msg['E'] === 'number' ? { eventTime: msg['E'] } : {}),
      ...(typeof msg['M'] === 'boolean' ? { bestMatch: msg['M'] } : {}),
    };
    if (e === 'trade') {
      const t = integer(msg['t'], fileName, n, 't');
      out.push({ id: t, firstId: t, lastId: t, ...common });
    } else if (e === 'aggTrade') {
      out.push({
        id: integer(msg['a'], fileName, n, 'a'),
        firstId: integer(msg['f'], fileName, n, 'f'),
        lastId: integer(msg['l'], fileName, n, 'l'),
        ...common,
      });
    } else {
      throw bad(fileName, n, `event "${String(e)}" is neither "trade" nor "aggTrade"`);
    }
  }
  return { format: 'binance-ws-jsonl', symbol, trades: out };
}
