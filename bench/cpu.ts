// Where a benchmark's CPU went: user + system time of every process on the machine, summed by
// command name (/proc/<pid>/stat), between two snapshots. On a 2-core machine the control plane,
// the load and the operator share the cores, so a phase's figures say who the wall time went to.
import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc's utime and stime (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

export type CpuSnapshot = Map<string, number>;

/**
 * Seconds of CPU per command name (live processes; one that exited since is not counted). `named`
 * gives some pids a name of their own (the operator is a `node` like the benchmark itself).
 */
export async function cpuByCommand(named: ReadonlyMap<number, string> = new Map()): Promise<CpuSnapshot> {
  const byCommand: CpuSnapshot = new Map();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) continue;
    // The command sits in parentheses and may hold spaces: the fields after the last ')' are fixed.
    const close = stat.lastIndexOf(')');
    const command = named.get(Number(entry)) ?? stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    byCommand.set(command, (byCommand.get(command) ?? 0) + ticks / TICKS_PER_SECOND);
  }
  return byCommand;
}

/** The CPU seconds each command used between the snapshots, largest first, the top `limit`. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot, limit = 6): Array<{ command: string; seconds: number }> {
  return [...after]
    .map(([command, seconds]) => ({ command, seconds: seconds - (before.get(command) ?? 0) }))
    .filter(({ seconds }) => seconds > 0)
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, limit);
}

export function cpuLine(used: ReadonlyArray<{ command: string; seconds: number }>): string {
  return used.map(({ command, seconds }) => `${command} ${seconds.toFixed(0)} s`).join(', ');
}
