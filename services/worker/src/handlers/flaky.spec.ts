import { JobFailure, createTestContext, testJob } from "@conveyor/worker-sdk";
import { describe, expect, it } from "vitest";

import { FlakyPayload, flaky } from "./flaky.ts";

const run = (failTimes: number, attempt: number) =>
  Promise.resolve().then(() =>
    flaky.handler(testJob({ failTimes }), createTestContext({ attempt }).ctx),
  );

describe("flaky", () => {
  it("fails attempts 1..failTimes with a retryable error", async () => {
    for (const attempt of [1, 2]) {
      const error = await run(2, attempt).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(JobFailure);
      expect((error as JobFailure).retryable).toBe(true);
      expect((error as JobFailure).message).toBe(`planned failure ${attempt} of 2`);
    }
  });

  it("succeeds on the attempt after failTimes", async () => {
    expect(await run(2, 3)).toEqual({ succeededOnAttempt: 3 });
    expect(await run(0, 1)).toEqual({ succeededOnAttempt: 1 });
  });

  it("refuses a negative failTimes", () => {
    expect(FlakyPayload.safeParse({ failTimes: -1 }).success).toBe(false);
  });
});
