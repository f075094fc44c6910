import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { getPriority, tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { findBinary } from "./binaries.ts";
import { MissingBinaryError, ServerStartError, WaitTimeoutError } from "./errors.ts";
import { spawnServer, waitUntilReady } from "./server-process.ts";
import type { ServerProcess } from "./server-process.ts";
import { uniqueName } from "./unique-name.ts";
import { waitFor } from "./wait-for.ts";

describe("uniqueName", () => {
  it("gives distinct names made only of letters, digits and underscores", () => {
    const names = new Set(Array.from({ length: 200 }, () => uniqueName("db")));
    expect(names.size).toBe(200);
    for (const name of names) expect(name).toMatch(/^db_[a-z0-9]+$/);
  });
});

describe("waitFor", () => {
  it("returns the probe's first truthy value", async () => {
    let calls = 0;
    const value = await waitFor(() => Promise.resolve(++calls >= 3 ? { calls } : undefined), {
      intervalMs: 1,
    });
    expect(value).toEqual({ calls: 3 });
  });

  it("times out naming what it waited for, with the probe's last error as cause", async () => {
    const failure = waitFor(() => Promise.reject(new Error("still down")), {
      timeoutMs: 50,
      intervalMs: 5,
      message: "server up",
    });
    await expect(failure).rejects.toBeInstanceOf(WaitTimeoutError);
    await expect(failure).rejects.toThrow(/server up/);
    await failure.catch((err: unknown) => {
      expect((err as Error).cause).toEqual(new Error("still down"));
    });
  });
});

describe("findBinary", () => {
  it("finds a binary on PATH when .tools/bin lacks it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "conveyor-bin-"));
    try {
      const name = uniqueName("fake_server");
      await writeFile(join(dir, name), "#!/bin/sh\n");
      await chmod(join(dir, name), 0o755);
      expect(findBinary(name, { PATH: dir })).toBe(join(dir, name));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("throws MissingBinaryError telling to run npm run provision", () => {
    const name = uniqueName("absent");
    expect(() => findBinary(name, { PATH: "" })).toThrow(MissingBinaryError);
    expect(() => findBinary(name, { PATH: "" })).toThrow(/npm run provision/);
    expect(() => findBinary(name, { PATH: "", CI: "true" })).toThrow(/CI=true: the run fails/);
  });
});

describe("waitUntilReady", () => {
  it("fails fast with the process's output when the process exits", async () => {
    const proc = spawnServer("sh", "/bin/sh", ["-c", "echo boom >&2; exit 3"]);
    // A ready timeout far beyond the test's own timeout: only the exit can end this wait in time.
    const err = await waitUntilReady(proc, () => Promise.resolve(false), 600_000).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ServerStartError);
    expect((err as ServerStartError).message).toMatch(/exited with 3/);
    expect((err as ServerStartError).output).toMatch(/boom/);
  });

  it("stops a process that never becomes ready", async () => {
    const proc = spawnServer("sleep", "/bin/sleep", ["60"]);
    await expect(waitUntilReady(proc, () => Promise.resolve(false), 200)).rejects.toThrow(
      /did not become ready/,
    );
    expect(proc.running()).toBe(false);
  });
});

describe("spawnServer's niceness", () => {
  it("runs a process, and every thread it starts, that much nicer than this one", async () => {
    // Node starts its platform threads at once; each must have the niceness, not only the first.
    const proc = spawnServer("node", process.execPath, ["-e", "setTimeout(() => {}, 30000)"], {
      niceness: 7,
    });
    try {
      const expected = Math.min(19, getPriority() + 7);
      const threads = await waitFor(async () => {
        const tids = await readdir(`/proc/${pidOf(proc)}/task`);
        return tids.length > 1 ? tids : undefined;
      });
      for (const tid of threads) expect(getPriority(Number(tid)), `thread ${tid}`).toBe(expected);
    } finally {
      await proc.stop(100);
    }
  });

  it.runIf(existsSync("/proc/self/autogroup"))(
    "gives a detached process's own session the niceness too (Linux autogroups)",
    async () => {
      const proc = spawnServer("sleep", "/bin/sleep", ["30"], { niceness: 7, detached: true });
      try {
        const group = await readFile(`/proc/${pidOf(proc)}/autogroup`, "utf8");
        const own = await readFile("/proc/self/autogroup", "utf8");
        expect(group).toMatch(/ nice 7\n?$/);
        expect(group.split(" ")[0]).not.toBe(own.split(" ")[0]);
      } finally {
        await proc.stop(100);
      }
    },
  );

  it("runs a process at the parent's niceness by default", async () => {
    const proc = spawnServer("sleep", "/bin/sleep", ["30"]);
    try {
      expect(getPriority(pidOf(proc))).toBe(getPriority());
    } finally {
      await proc.stop(100);
    }
  });

  it("refuses a niceness that is not a whole number from 0 to 19, starting nothing", () => {
    for (const niceness of [-1, 20, 2.5, Number.NaN]) {
      expect(() => spawnServer("sleep", "/bin/sleep", ["30"], { niceness })).toThrow(RangeError);
    }
  });
});

function pidOf(proc: ServerProcess): number {
  if (proc.pid === undefined) throw new Error(`${proc.name} did not start`);
  return proc.pid;
}
