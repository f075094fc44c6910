import { createTestContext, testJob } from "@conveyor/worker-sdk";
import { describe, expect, it } from "vitest";

import { SleepPayload, sleep } from "./sleep.ts";

describe("sleep", () => {
  it("waits the requested time", async () => {
    const started = Date.now();
    const result = await sleep.handler(testJob({ ms: 30 }), createTestContext().ctx);
    expect(result).toEqual({ sleptMs: 30 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it("rejects promptly when the attempt is aborted", async () => {
    const controller = new AbortController();
    const { ctx } = createTestContext({ signal: controller.signal });
    const pending = sleep.handler(testJob({ ms: 600_000 }), ctx);
    controller.abort(new Error("timed out"));
    await expect(pending).rejects.toThrow();
  });

  it("names the field of a bad payload", () => {
    const tooLong = SleepPayload.safeParse({ ms: 600_001 });
    expect(tooLong.success).toBe(false);
    expect(tooLong.error?.issues[0]?.path).toEqual(["ms"]);
    expect(SleepPayload.safeParse({ ms: 1.5 }).success).toBe(false);
    expect(SleepPayload.safeParse({ ms: 1, extra: true }).success).toBe(false);
  });
});
