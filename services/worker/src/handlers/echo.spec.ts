import { createTestContext, testJob } from "@conveyor/worker-sdk";
import { describe, expect, it } from "vitest";

import { EchoPayload, echo } from "./echo.ts";

describe("echo", () => {
  it("returns its payload", async () => {
    const payload = { nested: [1, "two", null] };
    expect(await echo.handler(testJob(payload), createTestContext().ctx)).toEqual(payload);
  });

  it("returns a payload whose keys include __proto__ unchanged: keys are data", async () => {
    const text = '{"__proto__":{"x":1},"a":[{"__proto__":2}]}';
    const parsed = EchoPayload.parse(JSON.parse(text));
    const result = await echo.handler(testJob(parsed), createTestContext().ctx);
    expect(JSON.stringify(result)).toBe(text);
  });
});
