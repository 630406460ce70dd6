import { describe, expect, it } from 'vitest';
import { assertIdentifier, quoteString, splitStatements } from './sql.js';

describe('SQL text helpers', () => {
  it('quotes strings so that no value can end the literal', () => {
    expect(quoteString("BTC'USDT")).toBe("'BTC\\'USDT'");
    expect(quoteString('a\\b')).toBe("'a\\\\b'");
    expect(quoteString("x'; DROP TABLE t; --")).toBe("'x\\'; DROP TABLE t; --'");
    expect(quoteString('line\nbreak\u0000')).toBe("'line\\x0abreak\\x00'");
  });

  it('accepts only plain identifiers', () => {
    expect(assertIdentifier('orderflow_test_1')).toBe('orderflow_test_1');
    expect(() => assertIdentifier('orderflow; DROP', 'database')).toThrow(/database "orderflow; DROP" must match/);
    expect(() => assertIdentifier('1abc')).toThrow();
  });

  it('splits migration files into statements', () => {
    expect(splitStatements('-- note\nCREATE TABLE a (x UInt8)\nENGINE = Memory;\n\nSELECT 1;\n')).toEqual([
      'CREATE TABLE a (x UInt8)\nENGINE = Memory',
      'SELECT 1',
    ]);
  });
});
