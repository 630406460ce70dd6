import type { InstrumentInfo, MergedViewInfo } from '@orderflow/contracts';

/**
 * What the instrument picker lists and how it searches, orders and remembers (pure; the picker
 * component and App.vue hold the state).
 *
 * - Entries: the exchanges' instruments of `/api/instruments` in its order (by exchange, then
 *   symbol), then its merged cross-exchange views (exchange `merged`, `merged-perp`, `sim-merged`
 *   ..., symbol `BASE-QUOTE`), addressed like any instrument.
 * - Search: the query is cut at white space into terms; an entry matches when every term occurs,
 *   ignoring case, in its exchange or in its symbol. Within a symbol, separators (`-`, `_`, `/`,
 *   `:`, `.`) are ignored as well, so `btcusdt` finds the merged `BTC-USDT` and `btc/usdt` finds
 *   `BTCUSDT`; a term made of separators only asks for nothing. An empty query matches everything.
 * - Order: the recently used entries that match come first, most recent first; then the other
 *   matches, those whose symbol starts with one of the terms before the rest, each group in list
 *   order.
 */

export interface InstrumentRef {
  exchange: string;
  symbol: string;
}

export interface PickerEntry extends InstrumentRef {
  merged: boolean;
  tickSize: string;
  /** A merged view's members (empty for an exchange's instrument). */
  members: InstrumentRef[];
}

export interface PickerMatch {
  entry: PickerEntry;
  recent: boolean;
}

/** How many recently used instruments are remembered. */
export const RECENT_MAX = 8;

export const sameInstrument = (a: InstrumentRef, b: InstrumentRef): boolean =>
  a.exchange === b.exchange && a.symbol === b.symbol;
const keyOf = (r: InstrumentRef) => `${r.exchange}\t${r.symbol}`;

/** The picker's entries from `/api/instruments`: instruments, then merged views, each listed once. */
export function pickerEntries(list: {
  instruments: readonly InstrumentInfo[];
  merged: readonly MergedViewInfo[];
}): PickerEntry[] {
  const seen = new Set<string>();
  const out: PickerEntry[] = [];
  const add = (i: InstrumentInfo, members: readonly InstrumentRef[] | null) => {
    const k = keyOf(i);
    if (seen.has(k)) return;
    seen.add(k);
    out.push({
      exchange: i.exchange,
      symbol: i.symbol,
      merged: members !== null,
      tickSize: i.tickSize,
      members: (members ?? []).map((m) => ({ exchange: m.exchange, symbol: m.symbol })),
    });
  };
  for (const i of list.instruments) add(i, null);
  for (const m of list.merged) add(m, m.members);
  return out;
}

const compact = (s: string) => s.toLowerCase().replace(/[-_/:.]/g, '');

/** The query's terms: lower case, split at white space. */
export function queryTerms(query: string): string[] {
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter((t) => t !== '');
}

function termMatches(e: InstrumentRef, term: string): boolean {
  const c = compact(term);
  return (
    c === '' ||
    e.exchange.toLowerCase().includes(term) ||
    e.symbol.toLowerCase().includes(term) ||
    compact(e.symbol).includes(c)
  );
}

/** Whether every term of `query` occurs in the entry's exchange or symbol (see the module comment). */
export function matchesQuery(e: InstrumentRef, query: string): boolean {
  return queryTerms(query).every((t) => termMatches(e, t));
}

/** The entries matching `query`, recently used first (see the module comment). */
export function searchInstruments(
  entries: readonly PickerEntry[],
  query: string,
  recent: readonly InstrumentRef[],
): PickerMatch[] {
  const terms = queryTerms(query);
  const matching = entries.filter((e) => terms.every((t) => termMatches(e, t)));
  const recentRank = new Map(recent.map((r, i) => [keyOf(r), i] as const));
  const first: PickerEntry[] = [];
  const prefixed: PickerEntry[] = [];
  const others: PickerEntry[] = [];
  for (const e of matching) {
    if (recentRank.has(keyOf(e))) first.push(e);
    else if (terms.some((t) => compact(t) !== '' && compact(e.symbol).startsWith(compact(t)))) prefixed.push(e);
    else others.push(e);
  }
  first.sort((a, b) => recentRank.get(keyOf(a))! - recentRank.get(keyOf(b))!);
  return [
    ...first.map((entry) => ({ entry, recent: true })),
    ...[...prefixed, ...others].map((entry) => ({ entry, recent: false })),
  ];
}

/** The recently used list after using `used`: it goes first, once, and the list keeps at most `max`. */
export function rememberInstrument(
  recent: readonly InstrumentRef[],
  used: InstrumentRef,
  max = RECENT_MAX,
): InstrumentRef[] {
  const head = { exchange: used.exchange, symbol: used.symbol };
  return [head, ...recent.filter((r) => !sameInstrument(r, head))].slice(0, max);
}

/**
 * The instrument to open. The URL's, when it names both exchange and symbol (listed or not: an
 * unknown one gets the gateway's error). Otherwise, among the listed entries that agree with what
 * the URL does name (an exchange, say; nothing: all of them), the most recently used one, else the
 * first. Null when nothing is listed.
 */
export function initialInstrument(
  url: { exchange: string; symbol: string },
  recent: readonly InstrumentRef[],
  entries: readonly PickerEntry[],
): InstrumentRef | null {
  const exchange = url.exchange.trim();
  const symbol = url.symbol.trim();
  if (exchange !== '' && symbol !== '') return { exchange, symbol };
  const agreeing = entries.filter(
    (e) => (exchange === '' || e.exchange === exchange) && (symbol === '' || e.symbol === symbol),
  );
  const candidates = agreeing.length > 0 ? agreeing : entries;
  const used = recent.find((r) => candidates.some((e) => sameInstrument(e, r)));
  const pick = used ?? candidates[0];
  return pick ? { exchange: pick.exchange, symbol: pick.symbol } : null;
}

/** A stored recently used list, tolerating anything (a missing, old or hand-edited value gives []). */
export function parseRecent(text: string | null): InstrumentRef[] {
  if (!text) return [];
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(v)) return [];
  const out: InstrumentRef[] = [];
  for (const r of v as unknown[]) {
    const o = r as Partial<Record<keyof InstrumentRef, unknown>> | null;
    if (
      o &&
      typeof o.exchange === 'string' &&
      typeof o.symbol === 'string' &&
      o.exchange !== '' &&
      o.symbol !== '' &&
      !out.some((x) => sameInstrument(x, o as InstrumentRef))
    ) {
      out.push({ exchange: o.exchange, symbol: o.symbol });
    }
  }
  return out.slice(0, RECENT_MAX);
}

/** The part of Web Storage used here (localStorage in the page, a map in tests). */
export interface RecentStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** The recently used list kept in `storage` under `key`; storage that refuses (private windows, quotas) is ignored. */
export function loadRecent(storage: RecentStorage | null, key: string): InstrumentRef[] {
  try {
    return parseRecent(storage?.getItem(key) ?? null);
  } catch {
    return [];
  }
}

export function saveRecent(storage: RecentStorage | null, key: string, recent: readonly InstrumentRef[]): void {
  try {
    storage?.setItem(key, JSON.stringify(recent.slice(0, RECENT_MAX)));
  } catch {
    // the list is a convenience: a page without storage still works
  }
}
