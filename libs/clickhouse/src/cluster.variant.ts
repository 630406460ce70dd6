import { assertIdentifier } from './sql.js';

/**
 * The replicated variant of a migration statement (CLICKHOUSE_CLUSTER, k8s/clickhouse/README.md):
 * every DDL statement runs `ON CLUSTER '<cluster>'`, and the MergeTree engines the schema uses
 * become their Replicated forms with the operator's `{shard}` / `{replica}` macros and a
 * ZooKeeper path per database, table and the migration that created it. The schema files stay
 * single-node SQL; this closed rewrite is applied by migrate() when a cluster is named. Anything it
 * does not recognise is refused, so that a new kind of statement cannot slip through un-replicated.
 *
 * `migration`: the version of the file the statement comes from. A table's ZooKeeper path stays
 * with it through RENAME TABLE, so a migration that renames a table away and creates it anew
 * (0005: trades -> trades_v1, then a new trades) needs another path for the new one; without the
 * version both would claim /clickhouse/tables/{shard}/<db>/trades.
 */
const DDL =
  /^(CREATE (?:TABLE|MATERIALIZED VIEW|VIEW|DATABASE) IF NOT EXISTS|DROP TABLE IF EXISTS|ALTER TABLE|RENAME TABLE) ([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)/;
const ENGINES = ['ReplacingMergeTree', 'AggregatingMergeTree', 'SummingMergeTree', 'MergeTree'] as const;

export function clusterStatement(statement: string, cluster: string, migration?: number): string {
  if (migration !== undefined && !(Number.isSafeInteger(migration) && migration >= 0))
    throw new Error(`migration version must be a non-negative integer, got ${migration}`);
  assertIdentifier(cluster, 'cluster');
  // leading comment lines are kept out of the match (and of the result)
  const s = statement
    .split('\n')
    .filter((line, i, all) => !(/^\s*--/.test(line) && all.slice(0, i).every((l) => /^\s*(--.*)?$/.test(l))))
    .join('\n')
    .trim();
  if (/^(INSERT INTO|SELECT|OPTIMIZE TABLE)\b/.test(s)) return s; // data: written once, replicated by the tables
  const m = DDL.exec(s);
  if (!m) throw new Error(`no replicated variant for the statement: ${s.slice(0, 120)}`);
  const [head, verb, name] = m;
  let out = `${verb} ${name} ON CLUSTER '${cluster}'${s.slice(head.length)}`;
  if (verb === 'RENAME TABLE') {
    // RENAME TABLE a TO b ON CLUSTER c: the clause goes last
    out = `${s} ON CLUSTER '${cluster}'`;
  }
  const [db, table] = name!.includes('.') ? name!.split('.') : ['', name!];
  out = out.replace(
    new RegExp(`ENGINE = (${ENGINES.join('|')})\\(([^)]*)\\)`),
    (_all, engine: string, args: string) => {
      const path = `'/clickhouse/tables/{shard}/${db}/${table}${migration === undefined ? '' : `/${String(migration).padStart(4, '0')}`}'`;
      return `ENGINE = Replicated${engine}(${[path, "'{replica}'", ...(args.trim() === '' ? [] : [args.trim()])].join(', ')})`;
    },
  );
  if (/ENGINE = (?!Replicated)[A-Za-z]*MergeTree/.test(out))
    throw new Error(`an engine of ${name} was not made replicated: ${s.slice(0, 200)}`);
  return out;
}
