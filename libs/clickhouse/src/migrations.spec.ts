import { describe, expect, it } from 'vitest';
import { loadMigrations, migrate, migrationSteps } from './migrations.js';
import { splitStatements } from './sql.js';

describe('migration steps and their guards', () => {
  it('attaches `-- @if <SELECT>` lines to the next statement; other comments are dropped', () => {
    const sql = [
      '-- a comment',
      'CREATE TABLE a (x UInt8) ENGINE = Memory;',
      '',
      "-- @if SELECT count() = 0 FROM system.columns WHERE name = 'x'",
      '-- why it is guarded',
      'RENAME TABLE a TO b;',
      '  --   @if SELECT 1',
      '-- @if SELECT 2',
      'DROP TABLE b;',
      'SELECT 3;',
    ].join('\n');
    expect(migrationSteps(sql)).toEqual([
      { query: 'CREATE TABLE a (x UInt8) ENGINE = Memory' },
      { query: 'RENAME TABLE a TO b', guard: "SELECT count() = 0 FROM system.columns WHERE name = 'x'" },
      { query: 'DROP TABLE b', guard: 'SELECT (SELECT 1) AND (SELECT 2)' },
      { query: 'SELECT 3' },
    ]);
  });

  it('refuses a guard ending with ";" and a guard with no statement after it', () => {
    expect(() => migrationSteps('-- @if SELECT 1;\nDROP TABLE x;')).toThrow(/must not end with ";"/);
    expect(() => migrationSteps('CREATE TABLE a (x UInt8) ENGINE = Memory;\n-- @if SELECT 1\n')).toThrow(
      /not followed by a statement/,
    );
  });

  it('splits the unguarded migrations 0001-0004 exactly as before', () => {
    for (const m of loadMigrations().filter((x) => x.version <= 4)) {
      expect(migrationSteps(m.sql)).toEqual(splitStatements(m.sql).map((query) => ({ query })));
    }
  });

  it('runs a guarded statement only when its guard returns a non-zero value, and refuses a guard that is not one value', async () => {
    const ran: string[] = [];
    const answers: Record<string, Record<string, unknown>[]> = {
      'SELECT yes': [{ v: 1 }],
      'SELECT no': [{ v: '0' }],
      'SELECT two': [{ a: 1, b: 1 }],
    };
    const ch = {
      command: async ({ query }: { query: string }) => {
        ran.push(query);
      },
      query: async ({ query }: { query: string }) => ({ json: async <T>() => (answers[query] ?? []) as T[] }),
    };
    const file = (version: number, sql: string) => ({
      version,
      name: `m${version}`,
      file: `000${version}_m${version}.sql`,
      sql,
      checksum: String(version),
    });
    await migrate(ch, 'db', {
      migrations: [file(1, '-- @if SELECT yes\nCREATE A;\n-- @if SELECT no\nCREATE B;\nCREATE C;\n')],
    });
    expect(ran.filter((q) => /^CREATE [A-D]$/.test(q))).toEqual(['CREATE A', 'CREATE C']);
    await expect(migrate(ch, 'db', { migrations: [file(2, '-- @if SELECT two\nCREATE D;\n')] })).rejects.toThrow(
      /statement 1 of 1 failed: guard must return one row with one value/,
    );
  });
});
