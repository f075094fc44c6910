import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";

import { StackError } from "./errors.ts";

/** The lock file a running stack keeps in its data directory, holding its pid. */
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
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(file, "wx");
      await handle.writeFile(`${pid}\n`);
      await handle.close();
      return { release: () => releaseIfOwn(file, pid) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw err;
    }
    const holder = await holderOf(file);
    // A lock holding this process's own pid was left by an earlier one that had it (a container's
    // stack restarted under the same pid): this process has not taken it yet.
    if (holder !== undefined && holder !== pid && isAlive(holder)) {
      throw new StackError(
        `another Conveyor stack (pid ${holder}) is running on ${dir}: stop it first ` +
          `(two stacks on one data directory would corrupt its streams and database)`,
      );
    }
    await rm(file, { force: true });
  }
}

async function holderOf(file: string): Promise<number | undefined> {
  const text = await readFile(file, "utf8").catch(() => "");
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
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
  if ((await holderOf(file)) === pid) await rm(file, { force: true });
}
