/**
 * Diagnostics (PGSTORE_TEST_PG_CPU=<file>): the CPU seconds the test server used, its postmaster
 * plus every child (backends, autovacuum, checkpointer...): the postmaster reaps its children,
 * so /proc's cutime/cstime of the postmaster hold the finished ones; the live ones are added.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function times(pid: number): { self: number; children: number; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    // fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
    return { ppid: fields[1]!, self: fields[11]! + fields[12]!, children: fields[13]! + fields[14]! };
  } catch {
    return undefined;
  }
}

/** CPU seconds of the server whose data folder is `dataDir` so far (undefined when not readable). */
export function serverCpuSeconds(dataDir: string): number | undefined {
  const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const postmaster = times(pid);
  if (!postmaster) return undefined;
  let ticks = postmaster.self + postmaster.children;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = times(Number(entry));
    if (child?.ppid === pid) ticks += child.self + child.children;
  }
  return ticks / 100;
}
