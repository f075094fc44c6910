import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { afterEach, describe, expect, it } from "vitest";

import { waitFor } from "./wait-for.ts";

const serverProcessModule = join(fileURLToPath(new URL(".", import.meta.url)), "server-process.ts");

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The command name of process `pid` (Linux's /proc), or undefined where there is none. */
async function commandOf(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/comm`, "utf8")).trim();
  } catch {
    return process.platform === "linux" ? undefined : "sleep";
  }
}

describe("a server spawned with spawnServer", () => {
  const leftovers: number[] = [];
  afterEach(() => {
    for (const pid of leftovers.splice(0)) if (isAlive(pid)) process.kill(pid, "SIGKILL");
  });

  it.each([false, true])(
    "stops when the process that started it is killed outright (detached: %s)",
    async (detached) => {
      // A parent that starts a long-lived "server", says its pid, and then waits.
      const script = [
        `const { spawnServer } = await import(${JSON.stringify(serverProcessModule)});`,
        `const server = spawnServer("sleeper", "sleep", ["300"], { detached: ${String(detached)} });`,
        "process.stdout.write(`${server.pid}\\n`);",
        "setInterval(() => {}, 1000);",
      ].join("\n");
      const parent = spawn(process.execPath, ["--input-type=module", "-e", script], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const [line] = (await once(createInterface({ input: parent.stdout }), "line")) as [string];
      const serverPid = Number(line);
      leftovers.push(serverPid);
      expect(isAlive(serverPid)).toBe(true);
      // The kernel is asked to signal the server only once setpriv runs, just before it becomes
      // the server: a parent killed before that (a few milliseconds after the spawn, seen on a
      // loaded machine) leaves it running. Killed once the server runs, as a parent dies later.
      await waitFor(async () => (await commandOf(serverPid)) === "sleep", {
        message: "the server running",
      });
      // SIGKILL (the OOM killer, `kill -9`): the parent's exit hooks never run.
      parent.kill("SIGKILL");
      await waitFor(() => Promise.resolve(!isAlive(serverPid)), {
        timeoutMs: 10_000,
        message: "the server outlived the process that started it",
      });
    },
  );
});
