import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

const loggerModule = join(fileURLToPath(new URL(".", import.meta.url)), "logger.ts");

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("createLogger", () => {
  it("lets a process exit once whoever read its output is gone (npm start killed outright)", async () => {
    // A service that logs and exits on SIGTERM, as onShutdown does (two lines in one turn: the
    // second waits behind the first's write), its stdout read by a parent.
    const service = [
      `const { createLogger } = await import(${JSON.stringify(loggerModule)});`,
      `const logger = createLogger("test");`,
      `process.on("SIGTERM", () => { logger.info("shutting down"); logger.warn({ detail: "x".repeat(3000) }, "a step failed"); process.exit(1); });`,
      `process.stderr.write("ready\\n");`,
      `setInterval(() => {}, 1000);`,
    ].join("\n");
    const parentScript = [
      `import { spawn } from "node:child_process";`,
      `const child = spawn(process.execPath, ["--input-type=module", "-e", ${JSON.stringify(service)}], { stdio: ["ignore", "pipe", "inherit"] });`,
      `process.stdout.write(child.pid + "\\n");`,
      `setInterval(() => {}, 1000);`,
    ].join("\n");
    const parent = spawn(process.execPath, ["--input-type=module", "-e", parentScript], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const [line] = (await once(createInterface({ input: parent.stdout }), "line")) as [string];
    const servicePid = Number(line);
    await once(createInterface({ input: parent.stderr }), "line"); // "ready"
    try {
      parent.kill("SIGKILL");
      await once(parent, "exit");
      process.kill(servicePid, "SIGTERM");
      for (let waited = 0; waited < 5000 && isAlive(servicePid); waited += 100) await sleep(100);
      expect(isAlive(servicePid)).toBe(false);
    } finally {
      if (isAlive(servicePid)) process.kill(servicePid, "SIGKILL");
    }
  });
});
