/**
 * TabSeparated text, the format FootprintStore writes and reads: exact for every integer and
 * decimal (18.16's JSONEachRow refuses decimals given as strings, and its JSON output writes
 * Decimal128 as bare numbers that JSON.parse rounds), and the same on 18.16 and current versions.
 */

/**
 * A String field for TabSeparated input: backslash, tab, line feed, carriage return and NUL
 * escaped (`\\`, `\t`, `\n`, `\r`, `\0`), the escapes every ClickHouse version reads back.
 */
export function tsvEscape(value: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    let esc: string | null = null;
    if (c === 0x5c) esc = '\\\\';
    else if (c === 0x09) esc = '\\t';
    else if (c === 0x0a) esc = '\\n';
    else if (c === 0x0d) esc = '\\r';
    else if (c === 0x00) esc = '\\0';
    if (esc !== null) {
      out += value.slice(from, i) + esc;
      from = i + 1;
    }
  }
  return from === 0 ? value : out + value.slice(from);
}

const UNESCAPE: Readonly<Record<string, string>> = {
  '\\': '\\',
  t: '\t',
  n: '\n',
  r: '\r',
  '0': '\0',
  b: '\b',
  f: '\f',
  a: '\x07',
  v: '\v',
  "'": "'",
  '"': '"',
  '`': '`',
  '/': '/',
  '-': '-',
};

/**
 * A TabSeparated output field back to its string (ClickHouse escapes as in tsvEscape, plus \b \f \a \v \' and \xHH).
 */
export function tsvUnescape(field: string): string {
  if (!field.includes('\\')) return field;
  let out = '';
  for (let i = 0; i < field.length; i++) {
    const ch = field[i]!;
    if (ch !== '\\' || i + 1 >= field.length) {
      out += ch;
      continue;
    }
    const next = field[++i]!;
    if (next === 'x' && /^[0-9A-Fa-f]{2}$/.test(field.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(field.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out += UNESCAPE[next] ?? `\\${next}`;
    }
  }
  return out;
}

/** Rows of a TabSeparated result (no names line), each as its raw fields. */
export function parseTsv(text: string): string[][] {
  if (text.length === 0) return [];
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  return lines.map((line) => line.split('\t'));
}

/** An integer field that must be a safe integer (every count, price and time the engine uses is). */
export function tsvInt(field: string | undefined, what: string): number {
  if (field === undefined || !/^-?\d+$/.test(field))
    throw new Error(`${what}: expected an integer, got ${JSON.stringify(field)}`);
  const n = Number(field);
  if (!Number.isSafeInteger(n))
    throw new Error(`${what}: ${field} is beyond 2^53 - 1, the largest integer a JS number holds exactly`);
  return n;
}
