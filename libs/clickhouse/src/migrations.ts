import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assertIdentifier, splitStatements } from './sql.js';

/** What the runner needs of a ClickHouse client (satisfied by @clickhouse/client's). */
export interface SqlRunner {
  command(o: { query: string }): Promise<unknown>;
  query(o: { query: string; format: 'JSONEachRow' }): Promise<{ json<T>(): Promise<T[]> }>;
}

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

/** The migration files `NNNN_name.sql` of a directory, in version order. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) continue;
    const sql = readFileSync(dir + file, 'utf8');
    out.push({ version: Number(m[1]), name: m[2]!, file, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  const versions = out.map((x) => x.version);
  if (new Set(versions).size !== versions.length) throw new Error(`migrations in ${dir}: two files share a version`);
  return out;
}

export interface MigrateResult {
  applied: number[];
  skipped: number[];
}

/**
 * Applies the migrations not applied yet, in order, into `database` (the files say `{db}`; the
 * name is validated). Idempotent: each file's statements are IF NOT EXISTS, a file is recorded
 * (version, name, sha256) only after its last statement, so a run that died midway is completed by
 * the next one. A recorded file whose content changed is refused: write a new migration instead.
 */
export async function migrate(ch: SqlRunner, database: string, o: { migrations?: Migration[]; log?: (m: string) => void } = {}): Promise<MigrateResult> {
  const db = assertIdentifier(database, 'database');
  const log = o.log ?? (() => undefined);
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  await ch.command({
    query: `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, name String, checksum String, applied_at DateTime('UTC')) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`,
  });
  const rows = await (await ch.query({ query: `SELECT version, name, checksum FROM ${db}.schema_migrations FINAL`, format: 'JSONEachRow' })).json<{
    version: number;
    name: string;
    checksum: string;
  }>();
  const done = new Map(rows.map((r) => [Number(r.version), r]));
  const result: MigrateResult = { applied: [], skipped: [] };
  for (const m of o.migrations ?? loadMigrations()) {
    const prior = done.get(m.version);
    if (prior) {
      if (prior.checksum !== m.checksum) {
        throw new Error(`migration ${m.file} was applied with different content (checksum ${prior.checksum.slice(0, 12)}, now ${m.checksum.slice(0, 12)}): add a new migration instead of editing it`);
      }
      result.skipped.push(m.version);
      continue;
    }
    const statements = splitStatements(m.sql.replaceAll('{db}', db));
    for (const [i, query] of statements.entries()) {
      try {
        await ch.command({ query });
      } catch (e) {
        throw new Error(`migration ${m.file}, statement ${i + 1} of ${statements.length} failed: ${(e as Error).message}`, { cause: e });
      }
    }
    await ch.command({
      query: `INSERT INTO ${db}.schema_migrations (version, name, checksum, applied_at) VALUES (${m.version}, '${m.name}', '${m.checksum}', now())`,
    });
    log(`migration ${m.file} applied (${statements.length} statements)`);
    result.applied.push(m.version);
  }
  return result;
}
