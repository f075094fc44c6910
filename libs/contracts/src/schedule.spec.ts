import { describe, expect, it } from "vitest";

import { scheduledRunAt } from "./schedule.ts";
import { JobSubmission, maxScheduleDelayMs } from "./submission.ts";

const storedAt = new Date("2026-12-07T10:00:00.000Z");

describe("scheduledRunAt", () => {
  it("is undefined for a job to run at once", () => {
    expect(scheduledRunAt({}, storedAt)).toBeUndefined();
  });

  it("reads runAt in UTC, whatever offset it was given in", () => {
    const at = scheduledRunAt({ runAt: "2026-12-07T12:30:00.250+02:00" }, storedAt);
    expect(at?.toISOString()).toBe("2026-12-07T10:30:00.250Z");
  });

  it("counts delayMs from when the submission was stored", () => {
    expect(scheduledRunAt({ delayMs: 1500 }, storedAt)?.toISOString()).toBe(
      "2026-12-07T10:00:01.500Z",
    );
  });
});

describe("JobSubmission's schedule fields", () => {
  it("refuses a runAt without a time zone, naming the field", () => {
    const parsed = JobSubmission.safeParse({ type: "echo", runAt: "2026-12-07T10:00:00" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(["runAt"]);
  });

  it("refuses a delay longer than a year or below zero", () => {
    for (const delayMs of [maxScheduleDelayMs + 1, -1, 1.5]) {
      const parsed = JobSubmission.safeParse({ type: "echo", delayMs });
      expect(parsed.error?.issues[0]?.path).toEqual(["delayMs"]);
    }
    expect(JobSubmission.safeParse({ type: "echo", delayMs: maxScheduleDelayMs }).success).toBe(
      true,
    );
  });
});
