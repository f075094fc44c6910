import { existsSync, writeFileSync } from "node:fs";

import { ServerStartError } from "./errors.ts";

/** Where `nice` is looked for: coreutils' and busybox's places. */
const niceLocations = ["/usr/bin/nice", "/bin/nice"] as const;

/** Whether `niceness` is one a server can be made nicer by: a whole number from 0 to 19. */
export function isNiceness(niceness: number): boolean {
  return Number.isInteger(niceness) && niceness >= 0 && niceness <= 19;
}

/** Throws a `RangeError` unless {@link isNiceness}. */
export function assertNiceness(niceness: number): void {
  if (!isNiceness(niceness)) {
    throw new RangeError(`niceness must be a whole number from 0 to 19, got ${String(niceness)}`);
  }
}

/**
 * The command that runs `binary` `niceness` nicer than this process: `nice -n`, which `exec`s the
 * server (same pid, so signals reach it), so that every thread the server starts has that
 * niceness too. Linux keeps one per thread, and a `setpriority` on the process once it runs would
 * miss the threads it had already made.
 *
 * @throws {ServerStartError} naming `nice` when it is not installed.
 */
export function niceCommand(
  name: string,
  binary: string,
  args: readonly string[],
  niceness: number,
): [string, string[]] {
  const nice = niceLocations.find((path) => existsSync(path));
  if (nice === undefined) {
    throw new ServerStartError(
      name,
      `cannot run it ${niceness} nicer: \`nice\` is not in ${niceLocations.join(" or ")}`,
      "",
    );
  }
  return [nice, ["-n", String(niceness), binary, ...args]];
}

/**
 * Gives a process that leads a session of its own (a `detached` child) the niceness of its whole
 * session. Where the kernel groups each session's threads for scheduling (Linux's autogroup,
 * `/proc/sys/kernel/sched_autogroup_enabled`, on by default in most desktop distributions), a
 * thread's niceness counts only against threads of its own session, and sessions share the CPU by
 * the niceness of their group: without this a detached server's `nice` would change nothing
 * against the other sessions. Best effort: nothing to do where autogroups do not exist.
 */
export function niceSession(pid: number, niceness: number): void {
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(niceness));
  } catch {
    // No autogroup (another OS, a kernel without it) or the process is already gone.
  }
}
