import type { JobDocument } from "@conveyor/read-model";
import { describe, expect, it } from "vitest";

import { cancelCommandFor } from "./cancel-job.ts";

const now = new Date("2026-01-01T10:00:00.000Z");

function doc(status: JobDocument["status"], run: number, attempt: number): JobDocument {
  return {
    _id: "job-1",
    type: "echo",
    status,
    run,
    attempt,
    attempts: [],
    updatedAt: now.toISOString(),
  };
}

describe("cancelCommandFor", () => {
  it("cancels a queued or running job at attempt 0 of its run", () => {
    expect(cancelCommandFor(doc("queued", 2, 0), "stop", now)).toEqual({
      jobId: "job-1",
      type: "echo",
      run: 2,
      attempt: 0,
      reason: "stop",
      requestedAt: "2026-01-01T10:00:00.000Z",
    });
    expect(cancelCommandFor(doc("running", 1, 3), "stop", now).attempt).toBe(0);
  });

  it("cancels a failed job waiting for its retry at the failed attempt, so it shows at once", () => {
    expect(cancelCommandFor(doc("failed", 1, 2), "stop", now).attempt).toBe(2);
  });
});
