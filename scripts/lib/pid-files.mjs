// Pid files of the persistent servers the set-up starts ($ORDERFLOW_DATA_DIR/run/*.pid), and the
// list of those started by one run ($ORDERFLOW_STARTED_FILE), to stop exactly those afterwards.

import fs from 'node:fs';
import path from 'node:path';
import { isAlive, processCmdline, terminate } from './server-process.mjs';

const EXPECTED_BINARY = { nats: 'nats-server', clickhouse: 'clickhouse' };

export function writePidFile(file, pid) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${pid}\n`);
}

/** Returns the live pid recorded in `file` if it still belongs to the expected server. */
export function readPidFile(file) {
  let pid;
  try {
    pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid)) return null;
  const kind = path.basename(file, '.pid');
  const expected = EXPECTED_BINARY[kind];
  const cmd = processCmdline(pid);
  // guard against pid reuse: only ever signal the server binary we started
  if (!cmd || (expected && !cmd.some((arg) => path.basename(arg).startsWith(expected)))) return null;
  return pid;
}

/** Stops the servers recorded in the given pid files (only if they are still ours). */
export async function stopPidFiles(files, log = console.log) {
  await Promise.all(
    files.map(async (file) => {
      const pid = readPidFile(file);
      if (pid) {
        log(`stopping ${path.basename(file, '.pid')} (pid ${pid})`);
        await terminate(pid, { graceMs: 20000 });
      }
      fs.rmSync(file, { force: true });
    }),
  );
}

/** Stops every pid file listed (one per line) in `startedFile`, then empties it. */
export async function stopStarted(startedFile, log = console.log) {
  if (!startedFile || !fs.existsSync(startedFile)) return;
  const files = fs
    .readFileSync(startedFile, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  await stopPidFiles([...new Set(files)], log);
  fs.writeFileSync(startedFile, '');
}

/** Adds `pidFile` to $ORDERFLOW_STARTED_FILE (when set): a server this run started. */
export function recordStarted(pidFile) {
  const startedFile = process.env.ORDERFLOW_STARTED_FILE;
  if (startedFile) fs.appendFileSync(startedFile, `${pidFile}\n`);
}
