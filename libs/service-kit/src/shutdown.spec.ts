import { describe, expect, it } from "vitest";

import { createLogger } from "./logger.ts";
import { runShutdownSteps } from "./shutdown.ts";

describe("runShutdownSteps", () => {
  it("runs every step in order, even after one fails, and says whether all succeeded", async () => {
    const ran: string[] = [];
    const ok = await runShutdownSteps(createLogger("test", "silent"), [
      ["stop the worker", () => Promise.resolve(void ran.push("worker"))],
      ["drain NATS", () => Promise.reject(new Error("connection disconnected"))],
      ["flush traces", () => Promise.resolve(void ran.push("traces"))],
      ["close metrics", () => Promise.resolve(void ran.push("metrics"))],
    ]);
    expect(ran).toEqual(["worker", "traces", "metrics"]);
    expect(ok).toBe(false);
  });

  it("succeeds when every step does", async () => {
    expect(
      await runShutdownSteps(createLogger("test", "silent"), [["a", () => Promise.resolve()]]),
    ).toBe(true);
  });

  it("gives up on a step that never ends once the deadline passes, so the process can exit", async () => {
    const ran: string[] = [];
    const ok = await runShutdownSteps(
      createLogger("test", "silent"),
      [
        ["drain NATS", () => new Promise(() => undefined)],
        ["flush traces", () => Promise.resolve(void ran.push("traces"))],
      ],
      { deadlineMs: 50 },
    );
    expect(ok).toBe(false);
    expect(ran).toEqual([]);
  });
});
