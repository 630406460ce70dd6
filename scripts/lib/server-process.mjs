// Child processes of the servers: find a binary, spawn it with its output in a log file, wait
// until it is ready (failing early with the log's last lines if it exits), stop it (SIGTERM, then
// SIGKILL). Servers spawned without `detached` do not outlive this Node process.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function tailFile(file, lines = 30) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return `(no log at ${file})`;
  }
}

export function findBinary(name, envVar) {
  if (envVar && process.env[envVar]) return process.env[envVar];
  const dirs = (process.env.PATH ?? '')
    .split(path.delimiter)
    .concat(['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']);
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* keep looking */
    }
  }
  throw new Error(`${name} not found on PATH (run scripts/setup.sh to install it)`);
}

export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

export function processCmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

async function waitForExit(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    // a zombie child of ours still "exists" but is dead for our purposes
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/\) Z /.test(stat)) return true;
    } catch {
      return true;
    }
    await sleep(100);
  }
  return !isAlive(pid);
}

/** SIGTERM, wait, then SIGKILL. Resolves when the process is gone. */
export async function terminate(pid, { graceMs = 15000 } = {}) {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await waitForExit(pid, graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitForExit(pid, 5000);
}

// Children that must not outlive this Node process (library mode, not detached).
const ownedChildren = new Set();
process.once('exit', () => {
  for (const child of ownedChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* ignore */
    }
  }
});

export function spawnServer(bin, args, { logFile, detached, cwd }) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(bin, args, { cwd, detached, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  if (detached) {
    child.unref();
  } else {
    ownedChildren.add(child);
    child.once('exit', () => ownedChildren.delete(child));
  }
  return child;
}

/** Polls `check()` until true; fails early if the child exits; rejects after timeoutMs. */
export async function waitReady(child, check, { timeoutMs, what, logFiles }) {
  let exited = null;
  const onExit = (code, signal) => (exited = { code, signal });
  child.once('exit', onExit);
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (exited) break;
      if (await check()) return;
      await sleep(200);
    }
  } finally {
    child.removeListener('exit', onExit);
  }
  const reason = exited
    ? `exited early (code ${exited.code}, signal ${exited.signal})`
    : `did not become ready within ${Math.round(timeoutMs / 1000)} s`;
  const tails = logFiles.map((f) => `--- last lines of ${f} ---\n${tailFile(f)}`).join('\n');
  if (!exited) child.kill('SIGKILL');
  throw new Error(`${what} ${reason}\n${tails}`);
}
