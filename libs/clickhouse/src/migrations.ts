import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { clusterStatement } from './cluster.variant.js';
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

/**
 * Other texts of a migration file that a database may have recorded and that did on the servers
 * able to run them exactly what the file does now, so that such a database counts as up to date
 * with it instead of being refused. By version: sha256 of the text.
 * - 0005: the copy of the v1 candles joined two unnamed subqueries. The query analyzer of current
 *   ClickHouse versions refuses that (`no alias for subquery or table function`), 18.16 ran it
 *   with the same result as the named form that 0005 has now.
 */
export const EQUIVALENT_CHECKSUMS: Readonly<Record<number, readonly string[]>> = {
  5: ['2af28ad58fe676f761104593e05b76a151b8866bbabc25638ac063d2aae98f6d'],
};

/** One statement of a migration file and, if it has one, the query that decides whether it runs. */
export interface MigrationStep {
  query: string;
  /**
   * `-- @if <SELECT ...>` on the line(s) before the statement: it runs only when this query's single value is not 0.
   */
  guard?: string;
}

const GUARD_LINE = /^\s*--\s*@if\s+(.+?)\s*$/;
const GUARD_MARK = '\u0000@if ';

/**
 * The statements of a migration file (split as by splitStatements), each with its guard: a
 * comment line `-- @if SELECT ...` makes the next statement conditional. 18.16 has no
 * `ADD COLUMN IF NOT EXISTS` (nor IF EXISTS for RENAME), so statements that cannot be repeated
 * say when they apply, e.g. `-- @if SELECT count() = 0 FROM system.columns WHERE ...`. The guard
 * is one line and must not end with `;`. Several guard lines before one statement must all hold.
 */
export function migrationSteps(sql: string): MigrationStep[] {
  const marked = sql
    .split('\n')
    .map((line) => {
      const m = GUARD_LINE.exec(line);
      if (!m) return line;
      if (m[1]!.endsWith(';')) throw new Error(`a migration guard must not end with ";": ${line.trim()}`);
      return GUARD_MARK + m[1]!;
    })
    .join('\n');
  return splitStatements(marked).map((stmt) => {
    const lines = stmt.split('\n');
    const guards = lines.filter((l) => l.startsWith(GUARD_MARK)).map((l) => l.slice(GUARD_MARK.length));
    const query = lines
      .filter((l) => !l.startsWith(GUARD_MARK))
      .join('\n')
      .trim();
    if (query.length === 0) throw new Error(`a migration guard is not followed by a statement: ${guards[0] ?? ''}`);
    if (guards.length === 0) return { query };
    return { query, guard: guards.length === 1 ? guards[0]! : `SELECT ${guards.map((g) => `(${g})`).join(' AND ')}` };
  });
}

/** The migration files `NNNN_name.sql` of a directory, in version order. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) continue;
    const sql = readFileSync(dir + file, 'utf8');
    out.push({
      version: Number(m[1]),
      name: m[2]!,
      file,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
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
 * the next one. A recorded file whose content changed is refused (unless its recorded checksum is
 * one of EQUIVALENT_CHECKSUMS): write a new migration instead.
 * Statements that cannot simply be repeated carry a guard (`-- @if <SELECT>`, see migrationSteps)
 * that is evaluated right before the statement, so a re-run skips what the failed run did.
 */
export async function migrate(
  ch: SqlRunner,
  database: string,
  o: {
    migrations?: Migration[];
    log?: (m: string) => void;
    cluster?: string;
    equivalentChecksums?: Readonly<Record<number, readonly string[]>>;
  } = {},
): Promise<MigrateResult> {
  const db = assertIdentifier(database, 'database');
  const log = o.log ?? (() => undefined);
  // CLICKHOUSE_CLUSTER: the replicated variant of every statement (cluster.variant.ts)
  const variant = (q: string, migration?: number) => (o.cluster ? clusterStatement(q, o.cluster, migration) : q);
  const engines = await (
    await ch.query({
      query: `SELECT engine FROM system.tables WHERE database = '${db}' AND name = 'schema_migrations'`,
      format: 'JSONEachRow',
    })
  ).json<{ engine: string }>();
  const replicated = engines[0]?.engine.startsWith('Replicated');
  if (engines.length > 0 && replicated !== Boolean(o.cluster)) {
    throw new Error(
      o.cluster
        ? `database ${db} was created on a single node: its tables are not replicated, and migrating it with CLICKHOUSE_CLUSTER=${o.cluster} would mix the two (copy it into a new database instead, k8s/clickhouse/README.md)`
        : `database ${db} was created with replicated tables: set CLICKHOUSE_CLUSTER to its cluster`,
    );
  }
  await ch.command({ query: variant(`CREATE DATABASE IF NOT EXISTS ${db}`) });
  await ch.command({
    query: variant(
      `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, name String, checksum String, applied_at DateTime('UTC')) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`,
    ),
  });
  const rows = await (
    await ch.query({
      query: `SELECT version, name, checksum FROM ${db}.schema_migrations FINAL`,
      format: 'JSONEachRow',
    })
  ).json<{
    version: number;
    name: string;
    checksum: string;
  }>();
  const done = new Map(rows.map((r) => [Number(r.version), r]));
  const result: MigrateResult = { applied: [], skipped: [] };
  for (const m of o.migrations ?? loadMigrations()) {
    const prior = done.get(m.version);
    if (prior) {
      if (
        prior.checksum !== m.checksum &&
        !(o.equivalentChecksums ?? EQUIVALENT_CHECKSUMS)[m.version]?.includes(prior.checksum)
      ) {
        throw new Error(
          `migration ${m.file} was applied with different content (checksum ${prior.checksum.slice(0, 12)}, now ${m.checksum.slice(0, 12)}): add a new migration instead of editing it`,
        );
      }
      result.skipped.push(m.version);
      continue;
    }
    const statements = migrationSteps(m.sql.replaceAll('{db}', db));
    let skippedSteps = 0;
    for (const [i, { query, guard }] of statements.entries()) {
      try {
        if (guard !== undefined && !(await guardHolds(ch, guard))) {
          skippedSteps++;
          continue;
        }
        await ch.command({ query: variant(query, m.version) });
      } catch (e) {
        throw new Error(
          `migration ${m.file}, statement ${i + 1} of ${statements.length} failed: ${(e as Error).message}`,
          { cause: e },
        );
      }
    }
    await ch.command({
      query: `INSERT INTO ${db}.schema_migrations (version, name, checksum, applied_at) VALUES (${m.version}, '${m.name}', '${m.checksum}', now())`,
    });
    log(
      `migration ${m.file} applied (${statements.length} statements${skippedSteps > 0 ? `, ${skippedSteps} skipped by their guard` : ''})`,
    );
    result.applied.push(m.version);
  }
  return result;
}

/** A guard query's single value, as a boolean (any non-zero number is true). */
async function guardHolds(ch: SqlRunner, guard: string): Promise<boolean> {
  const rows = await (await ch.query({ query: guard, format: 'JSONEachRow' })).json<Record<string, unknown>>();
  const values = rows.length === 1 ? Object.values(rows[0]!) : [];
  if (values.length !== 1)
    throw new Error(`guard must return one row with one value, got ${JSON.stringify(rows).slice(0, 200)}: ${guard}`);
  const v = Number(values[0]);
  if (!Number.isFinite(v)) throw new Error(`guard must return a number, got ${JSON.stringify(values[0])}: ${guard}`);
  return v !== 0;
}
