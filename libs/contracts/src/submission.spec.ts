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

  it.each(["cmd:cancel:job-1:1", "bulk:0123abcd"])(
    "refuses the idempotency key %s, which would swallow a command or bulk of the same message id",
    (idempotencyKey) => {
      const result = JobSubmission.safeParse({ type: "echo", idempotencyKey });
      expect(result.success).toBe(false);
      expect(toValidationIssues(result.error!)).toEqual([
        { path: "idempotencyKey", message: expect.stringContaining("cmd: or bulk:") as string },
      ]);
      expect(
        JobSubmission.safeParse({ type: "echo", idempotencyKey: `x${idempotencyKey}` }).success,
      ).toBe(true);
    },
  );

  it("refuses an idempotency key with a lone surrogate, which would share its message id with others", () => {
    for (const idempotencyKey of ["k\ud800", "k\udc00"]) {
      const result = JobSubmission.safeParse({ type: "echo", idempotencyKey });
      expect(toValidationIssues(result.error!)).toEqual([
        { path: "idempotencyKey", message: "must be well-formed Unicode (no lone surrogate)" },
      ]);
    }
    expect(JobSubmission.safeParse({ type: "echo", idempotencyKey: "k😀" }).success).toBe(true);
  });
});
