/**
 * The tree is formatted: every TypeScript, JavaScript and Vue file in git is as prettier prints it
 * with the workspace's options (.prettierrc: one line width for the whole tree). `npx prettier
 * --write .` formats what this names.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CODE = /\.(ts|mts|cts|js|mjs|cjs|vue)$/;

describe('formatting', () => {
  it('every code file in git is as prettier prints it', async () => {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
      .split('\0')
      .filter((f) => CODE.test(f));
    expect(files.length).toBeGreaterThan(300);
    const unformatted: string[] = [];
    for (const file of files) {
      const path = join(ROOT, file);
      const info = await prettier.getFileInfo(path, { ignorePath: join(ROOT, '.prettierignore') });
      if (info.ignored) continue;
      const options = await prettier.resolveConfig(path);
      if (!(await prettier.check(readFileSync(path, 'utf8'), { ...options, filepath: path }))) unformatted.push(file);
    }
    expect(unformatted, `not formatted (npx prettier --write ${unformatted.slice(0, 3).join(' ')} ...)`).toEqual([]);
  }, 180_000);

  it('the workspace has one line width', async () => {
    const options = await prettier.resolveConfig(join(ROOT, 'package.json'));
    expect(options?.printWidth).toBe(120);
  });
});
