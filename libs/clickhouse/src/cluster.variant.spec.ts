import { describe, expect, it } from 'vitest';
import { clusterStatement } from './cluster.variant.js';
import { loadMigrations, migrationSteps } from './migrations.js';

describe('the replicated variant of the migrations (CLICKHOUSE_CLUSTER)', () => {
  it('rewrites engines with the operator macros and a ZooKeeper path per table, and runs DDL on the cluster', () => {
    expect(
      clusterStatement(
        'CREATE TABLE IF NOT EXISTS db.t (a UInt8, v UInt64) ENGINE = ReplacingMergeTree(v) ORDER BY a',
        'orderflow',
      ),
    ).toBe(
      "CREATE TABLE IF NOT EXISTS db.t ON CLUSTER 'orderflow' (a UInt8, v UInt64) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/t', '{replica}', v) ORDER BY a",
    );
    expect(
      clusterStatement('CREATE TABLE IF NOT EXISTS db.r (a UInt8) ENGINE = AggregatingMergeTree() ORDER BY a', 'c1'),
    ).toBe(
      "CREATE TABLE IF NOT EXISTS db.r ON CLUSTER 'c1' (a UInt8) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/db/r', '{replica}') ORDER BY a",
    );
    expect(
      clusterStatement('-- a comment\nCREATE MATERIALIZED VIEW IF NOT EXISTS db.v_mv TO db.r AS SELECT 1', 'c1'),
    ).toBe("CREATE MATERIALIZED VIEW IF NOT EXISTS db.v_mv ON CLUSTER 'c1' TO db.r AS SELECT 1");
    expect(clusterStatement('DROP TABLE IF EXISTS db.x', 'c1')).toBe("DROP TABLE IF EXISTS db.x ON CLUSTER 'c1'");
    expect(clusterStatement('RENAME TABLE db.a TO db.b', 'c1')).toBe("RENAME TABLE db.a TO db.b ON CLUSTER 'c1'");
    expect(clusterStatement('CREATE DATABASE IF NOT EXISTS db', 'c1')).toBe(
      "CREATE DATABASE IF NOT EXISTS db ON CLUSTER 'c1'",
    );
    expect(clusterStatement('INSERT INTO db.b SELECT * FROM db.a', 'c1')).toBe('INSERT INTO db.b SELECT * FROM db.a');
  });

  it('puts the version of the migration that creates a table into its ZooKeeper path (a table renamed away keeps its path)', () => {
    expect(
      clusterStatement('CREATE TABLE IF NOT EXISTS db.t (a UInt8) ENGINE = ReplacingMergeTree() ORDER BY a', 'c1', 5),
    ).toBe(
      "CREATE TABLE IF NOT EXISTS db.t ON CLUSTER 'c1' (a UInt8) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/t/0005', '{replica}') ORDER BY a",
    );
    expect(() => clusterStatement('DROP TABLE IF EXISTS db.x', 'c1', -1)).toThrow(/migration version/);
    // a table created, renamed and created again by later migrations: two paths
    const paths = new Map<string, string[]>();
    for (const m of loadMigrations())
      for (const { query } of migrationSteps(m.sql.replaceAll('{db}', 'orderflow'))) {
        const path = /ENGINE = Replicated\w+\('([^']+)'/.exec(clusterStatement(query, 'orderflow', m.version))?.[1];
        if (path) paths.set(path, [...(paths.get(path) ?? []), m.file]);
      }
    expect([...paths].filter(([, files]) => files.length > 1)).toEqual([]);
  });

  it('refuses a statement it does not know, and a cluster name that is not an identifier', () => {
    expect(() => clusterStatement('TRUNCATE TABLE db.x', 'c1')).toThrow(/no replicated variant/);
    expect(() =>
      clusterStatement('CREATE TABLE IF NOT EXISTS db.t (a UInt8) ENGINE = CollapsingMergeTree(s) ORDER BY a', 'c1'),
    ).toThrow(/not made replicated/);
    expect(() => clusterStatement('DROP TABLE IF EXISTS db.x', "c1' --")).toThrow(/cluster/);
  });

  it('has a variant for every statement of every migration file: every table replicated, every DDL on the cluster', () => {
    let tables = 0;
    for (const m of loadMigrations()) {
      for (const { query } of migrationSteps(m.sql.replaceAll('{db}', 'orderflow'))) {
        const v = clusterStatement(query, 'orderflow', m.version);
        if (/^\s*(INSERT|SELECT|OPTIMIZE)/m.test(v) && !/^(CREATE|DROP|ALTER|RENAME)/.test(v)) continue;
        expect(v, m.file).toMatch(/ON CLUSTER 'orderflow'/);
        if (/\bENGINE = /.test(v)) {
          tables++;
          const table = /^CREATE TABLE IF NOT EXISTS orderflow\.(\w+)/.exec(v)![1];
          expect(v, m.file).toContain(`ENGINE = Replicated`);
          expect(v, m.file).toContain(
            `'/clickhouse/tables/{shard}/orderflow/${table}/${m.file.slice(0, 4)}', '{replica}'`,
          );
        }
      }
    }
    expect(tables).toBeGreaterThanOrEqual(26);
  });
});
