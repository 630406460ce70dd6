/**
 * SQL text helpers. ClickHouse 18.16 has no query parameters ({name:Type}), so every value that
 * reaches SQL text goes through these: identifiers are validated, strings are quoted and escaped.
 */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function assertIdentifier(name: string, what = 'identifier'): string {
  if (!IDENTIFIER.test(name)) throw new Error(`${what} "${name.slice(0, 80)}" must match ${IDENTIFIER}`);
  return name;
}

/** A ClickHouse string literal: backslash and quote escaped, control characters as escapes. */
export function quoteString(value: string): string {
  let out = "'";
  for (const ch of value) {
    const c = ch.charCodeAt(0);
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}'`;
}

/**
 * Statements of a migration file: split at a `;` that ends a line, `--` comment lines dropped.
 * (The files are ours; this is not a general SQL parser.)
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const line of sql.split('\n')) {
    if (line.trim().startsWith('--')) continue;
    current.push(line);
    if (line.trimEnd().endsWith(';')) {
      const stmt = current.join('\n').trim().replace(/;$/, '').trim();
      if (stmt.length > 0) out.push(stmt);
      current = [];
    }
  }
  const rest = current.join('\n').trim();
  if (rest.length > 0) out.push(rest);
  return out;
}
