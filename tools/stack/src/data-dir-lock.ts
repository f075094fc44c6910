import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";

import { StackError } from "./errors.ts";

/**
 * The lock file a running stack keeps in its data directory: its pid on the first line, and on
 * Linux the process's boot and start time on the second.
 */
export const lockFileName = "stack.lock";

/** A data directory held by this process; `release` gives it up. */
export interface DataDirLock {
  release(): Promise<void>;
}

/**
 * Takes the data directory for this process, so that a second `npm start` of the same checkout
 * stops before it starts servers on it: nats-server and FerretDB take no lock of their own, and two
 * of either writing one directory corrupt it (streams' blocks, consumers' acknowledged floors,
 * SQLite's files), which can lose or redeliver jobs. A lock left by a process that is gone (killed
 * with SIGKILL), or with this process's pid, is taken over. Throws a `StackError` naming the
 * holder's pid.
 */
export async function lockDataDir(dir: string, pid = process.pid): Promise<DataDirLock> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, lockFileName);
  // Known before the file exists: another start reading the file meanwhile finds it whole.
  const identity = await processIdentity(pid);
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(file, "wx");
      await handle.writeFile(`${pid}\n${identity === undefined ? "" : `${identity}\n`}`);
      await handle.close();
      return { release: () => releaseIfOwn(file, pid) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw err;
    }
    const holder = await holderOf(file);
    // A lock holding this process's own pid was left by an earlier one that had it (a container's
    // stack restarted under the same pid): this process has not taken it yet.
    if (holder !== undefined && holder.pid !== pid && (await stillHolds(holder))) {
      throw new StackError(
        `another Conveyor stack (pid ${holder.pid}) is running on ${dir}: stop it first ` +
          `(two stacks on one data directory would corrupt its streams and database); ` +
          `if no Conveyor stack is running, delete ${file}`,
      );
    }
    await rm(file, { force: true });
  }
}

/** The lock's holder: its pid, and what tells that process from a later one with its pid. */
interface Holder {
  pid: number;
  identity: string | undefined;
}

async function holderOf(file: string): Promise<Holder | undefined> {
  const [pidLine = "", identity = ""] = (await readFile(file, "utf8").catch(() => "")).split("\n");
  const pid = Number.parseInt(pidLine, 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, identity: identity === "" ? undefined : identity };
}

/**
 * Whether the process that wrote the lock is still running. After a reboot, or in a restarted
 * container, its pid may be another process's, which must not keep every later start out: where
 * both are known, the process's identity (boot and start time) must be the one the lock recorded.
 */
async function stillHolds(holder: Holder): Promise<boolean> {
  if (!isAlive(holder.pid)) return false;
  if (holder.identity === undefined) return true;
  const identity = await processIdentity(holder.pid);
  return identity === undefined || identity === holder.identity;
}

/**
 * The boot and the start time of a process (Linux's `/proc`): no other process shares both.
 * Undefined where `/proc` does not say.
 */
async function processIdentity(pid: number): Promise<string | undefined> {
  try {
    const [boot, stat] = await Promise.all([
      readFile("/proc/sys/kernel/random/boot_id", "utf8"),
      readFile(`/proc/${pid}/stat`, "utf8"),
    ]);
    // The command name (field 2) may hold spaces and parentheses: count fields after its ")".
    const startTime = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    return startTime === undefined ? undefined : `${boot.trim()}:${startTime}`;
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid exists (one of another user's answers EPERM: it exists). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function releaseIfOwn(file: string, pid: number): Promise<void> {
  if ((await holderOf(file))?.pid === pid) await rm(file, { force: true });
}
