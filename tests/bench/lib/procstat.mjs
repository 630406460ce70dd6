// CPU and memory of a process from /proc (Linux): cumulative CPU seconds and resident set size.
import fs from 'node:fs';

const TICK = 100; // USER_HZ on Linux

export function procSample(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(f[11]) + Number(f[12])) / TICK; // utime + stime
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { t: Date.now(), cpuS, rssMb: rssKb / 1024 };
  } catch {
    return null;
  }
}

/** CPU % (of one core) between two samples. */
export const cpuPct = (a, b) => (a && b ? (100 * (b.cpuS - a.cpuS)) / ((b.t - a.t) / 1000) : 0);

/** A sample of every process in `groups` ({ name: [pid, ...] }), by pid. */
export const sampleAll = (groups) =>
  new Map(
    Object.values(groups)
      .flat()
      .map((pid) => [pid, procSample(pid)]),
  );

/** Per name of `groups` ({ name: [pid, ...] }): the sum of `f(pid)` over its processes. */
export const perGroup = (groups, f) =>
  Object.fromEntries(Object.entries(groups).map(([name, list]) => [name, list.reduce((s, pid) => s + f(pid), 0)]));
