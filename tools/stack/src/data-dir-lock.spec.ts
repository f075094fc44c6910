import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { lockDataDir, lockFileName } from "./data-dir-lock.ts";
import { StackError } from "./errors.ts";

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(child.stdout.toString());
}

describe("lockDataDir", () => {
  let dir: string;
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), "stack-lock-")), ".data");
  });
  afterEach(async () => {
    await rm(join(dir, ".."), { recursive: true, force: true });
  });

  it("refuses a second stack on the same directory, naming the first one's pid", async () => {
    const lock = await lockDataDir(dir);
    const second = lockDataDir(dir, process.pid + 1);
    await expect(second).rejects.toBeInstanceOf(StackError);
    await expect(second).rejects.toThrow(`pid ${process.pid}`);
    await lock.release();
    const next = await lockDataDir(dir, process.pid + 1);
    await next.release();
  });

  it("takes over a lock left by a process that is gone", async () => {
    const gone = deadPid();
    await lockDataDir(dir);
    await writeFile(join(dir, lockFileName), `${gone}\n`);
    const lock = await lockDataDir(dir);
    expect(await readFile(join(dir, lockFileName), "utf8")).toMatch(
      new RegExp(`^${process.pid}\n`),
    );
    await lock.release();
  });

  it("takes over a lock whose pid is now another process's (the machine or container restarted)", async () => {
    // This test's parent is alive, but it is not the process that wrote the lock.
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, lockFileName), `${process.ppid}\nboot-0:12345\n`);
    const lock = await lockDataDir(dir);
    expect(await readFile(join(dir, lockFileName), "utf8")).toMatch(
      new RegExp(`^${process.pid}\n`),
    );
    await lock.release();
  });

  it("says how to remove a lock that no running stack holds", async () => {
    const lock = await lockDataDir(dir);
    await expect(lockDataDir(dir, process.pid + 1)).rejects.toThrow(
      `if no Conveyor stack is running, delete ${join(dir, lockFileName)}`,
    );
    await lock.release();
  });

  it("takes over a lock left with its own pid (a container restarted under the same pid)", async () => {
    await lockDataDir(dir);
    const again = await lockDataDir(dir);
    expect(await readFile(join(dir, lockFileName), "utf8")).toMatch(
      new RegExp(`^${process.pid}\n`),
    );
    await again.release();
  });

  it("leaves a lock another process took in the meantime", async () => {
    const lock = await lockDataDir(dir);
    await writeFile(join(dir, lockFileName), "1\n");
    await lock.release();
    expect(await readFile(join(dir, lockFileName), "utf8")).toBe("1\n");
  });
});
