/**
 * The oracles are independent of the engine: every file of this folder that is not a spec (the
 * oracles themselves) imports only other oracle files of this folder. Not the engine, not any
 * package (so no `@orderflow/*`, not through a re-export either), not the spec support.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = import.meta.dirname;
const oracleFiles = readdirSync(DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));

/** Module specifiers of `import ... from`, `export ... from`, `import(...)` and `require(...)`. */
function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const re of [
    /\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\b(?:import|require)\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
  ]) {
    for (const m of source.matchAll(re)) out.push(m[1]!);
  }
  return out;
}

describe('oracle independence', () => {
  it('finds the oracles', () => {
    expect(oracleFiles).toEqual(
      expect.arrayContaining(['candles.ts', 'cvd.ts', 'imbalances.ts', 'profile.ts', 'tpo.ts', 'units.ts', 'vwap.ts']),
    );
  });

  it('reads every import form', () => {
    expect(
      importsOf(
        `import { a } from '@orderflow/footprint';\nexport * from "./x.js";\nimport type {\n  B,\n} from '../y.js';\nimport 'side';\nconst z = await import('z');\nrequire("w")`,
      ),
    ).toEqual(['@orderflow/footprint', './x.js', '../y.js', 'side', 'z', 'w']);
  });

  it('oracle files import only each other', () => {
    const wrong: string[] = [];
    for (const f of oracleFiles) {
      for (const spec of importsOf(readFileSync(join(DIR, f), 'utf8'))) {
        const ok = /^\.\/[a-z-]+\.js$/.test(spec) && oracleFiles.includes(spec.slice(2).replace(/\.js$/, '.ts'));
        if (!ok) wrong.push(`${f} imports ${spec}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
