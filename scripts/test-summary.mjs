#!/usr/bin/env node
// Adds up the vitest JSON summaries of one `npm test` run into one closing line:
// "tests: N passed, N failed" (and skipped), after the skipped tests per project and any errors
// outside the tests. Exits 1 when no test ran at all, a run had such errors, or (under CI) a test
// was skipped.
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;
const files = fs.existsSync(dir)
  ? fs.readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.skips.json'))
  : [];
for (const f of files) {
  const r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  const fileSkipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(
    `test: ${path.basename(f, '.json')}: ${r.numPassedTests} passed, ${r.numFailedTests} failed${fileSkipped ? `, ${fileSkipped} skipped` : ''}`,
  );
}
// skipped tests, per project, with their reasons (vitest.shared.ts writes <project>.skips.json). Under
// CI (CI=true) every test must run, so a skip fails the run; a user's own `npm test` may skip (a
// machine without the recordings or Chromium), and the list says what was missing.
const ci = !['', 'false', '0'].includes((process.env.CI ?? '').toLowerCase());
let skipListed = 0;
for (const f of fs.existsSync(dir)
  ? fs
      .readdirSync(dir)
      .filter((x) => x.endsWith('.skips.json'))
      .sort()
  : []) {
  const skips = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  if (skips.length === 0) continue;
  skipListed += skips.length;
  console.log(
    `test: ${path.basename(f, '.skips.json')}: ${skips.length} skipped${ci ? ' (not allowed under CI)' : ''}:`,
  );
  for (const s of skips) console.log(`  ${s.file} > ${s.test}: ${s.reason}`);
}
// errors that failed a run outside any test (vitest.shared.ts writes them): shown last, where CI's tail shows them
let runErrors = 0;
for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).filter((x) => x.endsWith('.errors.txt')) : []) {
  const text = fs.readFileSync(path.join(dir, f), 'utf8').trim();
  runErrors++;
  console.log(
    `test: ${path.basename(f, '.errors.txt')}: errors outside the tests:\n${text
      .split('\n')
      .slice(0, 40)
      .map((l) => `  ${l}`)
      .join('\n')}`,
  );
}
console.log(
  `tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}${runErrors ? `; ${runErrors} run(s) with errors outside the tests (above)` : ''}`,
);
if (runErrors > 0) process.exitCode = 1;
if (ci && (skipListed > 0 || skipped > 0)) {
  console.error(
    `test: CI=${process.env.CI}: ${Math.max(skipListed, skipped)} test(s) skipped (listed above); under CI every test must run`,
  );
  process.exitCode = 1;
}
if (passed + failed === 0) {
  console.error('test: no test ran');
  process.exit(1);
}
