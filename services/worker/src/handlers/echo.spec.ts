import { createTestContext, testJob } from "@conveyor/worker-sdk";
import { describe, expect, it } from "vitest";

import { EchoPayload, echo } from "./echo.ts";

describe("echo", () => {
  it("returns its payload", async () => {
    const payload = { nested: [1, "two", null] };
    expect(await echo.handler(testJob(payload), createTestContext().ctx)).toEqual(payload);
  });

  it("accepts any JSON and refuses what is not JSON", () => {
    expect(EchoPayload.safeParse({ a: [1, true, null] }).success).toBe(true);
    expect(EchoPayload.safeParse({ when: new Date() }).success).toBe(false);
  });
});
