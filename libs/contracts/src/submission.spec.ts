import { describe, expect, it } from "vitest";

import { JobSubmission } from "./submission.ts";
import { toValidationIssues } from "./validation-issues.ts";

describe("JobSubmission", () => {
  it("fills defaults for an envelope with only a type", () => {
    expect(JobSubmission.parse({ type: "echo" })).toEqual({
      type: "echo",
      payload: null,
      priority: 5,
    });
  });

  it("names the offending field of a bad envelope", () => {
    const result = JobSubmission.safeParse({ type: "Bad Type", maxAttempts: 0, extra: 1 });
    expect(result.success).toBe(false);
    const paths = toValidationIssues(result.error!).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["type", "maxAttempts", "extra"]));
  });

  it("rejects an id that is not one subject token", () => {
    expect(JobSubmission.safeParse({ type: "echo", id: "a.b" }).success).toBe(false);
  });
});
