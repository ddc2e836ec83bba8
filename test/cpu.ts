import { readFileSync } from 'node:fs';

/**
 * CPU seconds of this process and of the children it has reaped (each with the children it
 * reaped): /proc/self/stat's utime, stime, cutime and cstime on Linux, this process alone
 * elsewhere. A child still running, or one whose parent died first, is not in it.
 */
export function cpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = [11, 12, 13, 14].reduce((n, i) => n + Number(fields[i]), 0);
    // The kernel reports these in USER_HZ, 100 on every Linux Node.js runs on.
    return ticks / 100;
  } catch {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  }
}
