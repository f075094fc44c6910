import { readFile } from "node:fs/promises";

/** Resident set size in KiB from the text of `/proc/<pid>/status` (its `VmRSS:` line). */
export function parseVmRssKib(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error("no VmRSS line in /proc/<pid>/status");
  return Number(match[1]);
}

/**
 * CPU time in clock ticks, from the text of `/proc/<pid>/stat`: the process's own user and system
 * time (fields 14 and 15) and that of the children it waited for (16 and 17). Redis writes its
 * snapshots and rewrites its append-only file in forked children; without their time its CPU
 * would leave out work it does for its data. The command name (field 2) is in parentheses and may
 * hold spaces, so fields are counted from the last `)`.
 */
export function parseCpuTicks(stat: string): number {
  const end = stat.lastIndexOf(")");
  if (end < 0) throw new Error("malformed /proc/<pid>/stat: no ')'");
  // After ") " come field 3 (state), 4, ...; utime is field 14, cstime field 17.
  const fields = stat
    .slice(end + 2)
    .trim()
    .split(/\s+/);
  const ticks = [14, 15, 16, 17].map((field) => Number(fields[field - 3]));
  if (!ticks.every(Number.isFinite)) {
    throw new Error("malformed /proc/<pid>/stat: utime/stime/cutime/cstime are not numbers");
  }
  return ticks.reduce((sum, t) => sum + t, 0);
}

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ); 100 on every Linux port Node runs on. */
export const clockTicksPerSecond = 100;

/** One process's memory and CPU use at a moment. */
export interface ProcessReading {
  rssKib: number;
  /** User + system CPU since the process started, its waited-for children's included, in seconds. */
  cpuSeconds: number;
}

/** Reads `/proc/<pid>`; undefined when the process is gone. */
export async function readProcess(pid: number): Promise<ProcessReading | undefined> {
  try {
    const [status, stat] = await Promise.all([
      readFile(`/proc/${pid}/status`, "utf8"),
      readFile(`/proc/${pid}/stat`, "utf8"),
    ]);
    return {
      rssKib: parseVmRssKib(status),
      cpuSeconds: parseCpuTicks(stat) / clockTicksPerSecond,
    };
  } catch {
    return undefined;
  }
}
