import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { getPriority, tmpdir } from "node:os";
import { join } from "node:path";

import { waitFor } from "@conveyor/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { serviceCommand, spawnService } from "./service-process.ts";
import { superviseService } from "./supervisor.ts";

/** A workspace whose services/<name>/src/main.ts is a tiny script, to run real child processes. */
let ws: string;

async function fakeService(name: string, source: string): Promise<void> {
  await mkdir(join(ws, "services", name, "src"), { recursive: true });
  await writeFile(join(ws, "services", name, "src", "main.ts"), source);
}

beforeEach(async () => {
  ws = await mkdtemp(join(tmpdir(), "conveyor-svc-"));
});
afterEach(async () => {
  await rm(ws, { recursive: true, force: true });
});

describe("serviceCommand", () => {
  it("runs the service's main.ts from source with the conveyor-source condition", () => {
    expect(serviceCommand("status-projector", "/ws")).toEqual({
      command: process.execPath,
      args: [
        "--max-semi-space-size=16",
        "--heap-growing-percent=50",
        "--conditions=conveyor-source",
        join("services", "status-projector", "src", "main.ts"),
      ],
      cwd: "/ws",
    });
  });

  it("runs the compiled main.js without the condition when asked for the build", () => {
    expect(serviceCommand("gateway", "/ws", "build")).toEqual({
      command: process.execPath,
      args: [
        "--max-semi-space-size=16",
        "--heap-growing-percent=50",
        "--single-threaded-gc",
        join("services", "gateway", "dist", "main.js"),
      ],
      cwd: "/ws",
    });
  });
});

describe("spawnService", () => {
  it("passes the environment and reports whole lines per stream", async () => {
    await fakeService(
      "worker",
      'process.stdout.write("one\\ntw");\nsetTimeout(() => { process.stdout.write(`o ${process.env.NATS_URL}\\n`); console.error("err line"); }, 50);\n',
    );
    const lines: string[] = [];
    const proc = spawnService({
      name: "worker",
      workspace: ws,
      env: { ...process.env, NATS_URL: "nats://x:1" },
      onLine: (line, stream) => lines.push(`${stream}: ${line}`),
    });
    expect(await proc.exited).toBe(0);
    await waitFor(() => Promise.resolve(lines.length === 3));
    expect(lines).toEqual(["stdout: one", "stdout: two nats://x:1", "stderr: err line"]);
  });

  it("runs a service as much nicer than this process as it is told", async () => {
    await fakeService(
      "status-projector",
      'import { getPriority } from "node:os";\nconsole.log(`niceness ${getPriority()}`);\n',
    );
    const lines: string[] = [];
    const proc = spawnService({
      name: "status-projector",
      workspace: ws,
      env: process.env,
      niceness: 5,
      onLine: (line) => lines.push(line),
    });
    expect(await proc.exited).toBe(0);
    await waitFor(() => Promise.resolve(lines.length === 1));
    expect(lines).toEqual([`niceness ${Math.min(19, getPriority() + 5)}`]);
  });
});

describe("superviseService", () => {
  const fastPolicy = { maxQuickCrashes: 2, stableAfterMs: 60_000, baseDelayMs: 10, maxDelayMs: 20 };

  it("restarts a crashing service, then gives up after the allowed quick crashes", async () => {
    await fakeService("dispatcher", 'console.log("started"); process.exit(3);\n');
    const reports: string[] = [];
    let starts = 0;
    const gaveUp = new Promise<string>((resolve) => {
      superviseService({
        name: "dispatcher",
        workspace: ws,
        env: process.env,
        policy: fastPolicy,
        onLine: (line) => {
          if (line === "started") starts++;
        },
        report: (m) => reports.push(m),
        onGiveUp: resolve,
      });
    });
    expect(await gaveUp).toMatch(/dispatcher crashed 3 times in a row \(last exit: 3\)/);
    expect(starts).toBe(3);
    expect(reports.filter((r) => /restarting in/.test(r))).toHaveLength(2);
  });

  it("stop() ends a running service without a restart", async () => {
    await fakeService("gateway", 'console.log("up"); setInterval(() => {}, 1000);\n');
    const reports: string[] = [];
    let up = false;
    const supervisor = superviseService({
      name: "gateway",
      workspace: ws,
      env: process.env,
      policy: fastPolicy,
      onLine: (line) => {
        if (line === "up") up = true;
      },
      report: (m) => reports.push(m),
      onGiveUp: () => reports.push("gave up"),
    });
    await waitFor(() => Promise.resolve(up));
    expect(supervisor.running()).toBe(true);
    await waitFor(() => Promise.resolve(supervisor.uptimeMs() >= 100));
    await supervisor.stop(2000);
    expect(supervisor.running()).toBe(false);
    expect(supervisor.uptimeMs()).toBe(0);
    expect(reports).toEqual([]);
  });
});
