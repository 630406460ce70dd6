#!/usr/bin/env node
// Adds up the vitest JSON summaries of one `npm test` run into one closing line:
// "tests: N passed, N failed" (and skipped), after any errors outside the tests. Exits 1 when no
// test ran at all or a run had such errors.
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
for (const f of files) {
  const r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`test: ${path.basename(f, '.json')}: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
}
// errors that failed a run outside any test (vitest.shared.ts writes them): shown last, where CI's tail shows them
let runErrors = 0;
for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).filter((x) => x.endsWith('.errors.txt')) : []) {
  const text = fs.readFileSync(path.join(dir, f), 'utf8').trim();
  runErrors++;
  console.log(`test: ${path.basename(f, '.errors.txt')}: errors outside the tests:\n${text.split('\n').slice(0, 40).map((l) => `  ${l}`).join('\n')}`);
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}${runErrors ? `; ${runErrors} run(s) with errors outside the tests (above)` : ''}`);
if (runErrors > 0) process.exitCode = 1;
if (passed + failed === 0) {
  console.error('test: no test ran');
  process.exit(1);
}
