import { describe, expect, it } from "vitest";

import { JobBulkSubmission } from "./bulk-submission.ts";
import { maxBulkJobs } from "./limits.ts";
import { Subject, typeFromBulkSubject, typeFromSubmitSubject } from "./subjects.ts";

describe("bulk submissions", () => {
  it("name their job type in the subject, apart from single submissions", () => {
    expect(Subject.submitBulk("mail.send")).toBe("jobs.bulk.mail.send");
    expect(typeFromBulkSubject("jobs.bulk.mail.send")).toBe("mail.send");
    expect(typeFromBulkSubject("jobs.submit.mail.send")).toBeUndefined();
    expect(typeFromSubmitSubject("jobs.bulk.mail.send")).toBeUndefined();
  });

  it("carry between one and maxBulkJobs envelopes, nothing else", () => {
    expect(JobBulkSubmission.safeParse({ jobs: [{ payload: 1 }] }).success).toBe(true);
    expect(JobBulkSubmission.safeParse({ jobs: [] }).success).toBe(false);
    const tooMany = Array.from({ length: maxBulkJobs + 1 }, () => ({}));
    expect(JobBulkSubmission.safeParse({ jobs: tooMany }).success).toBe(false);
    expect(JobBulkSubmission.safeParse({ jobs: [{}], type: "echo" }).success).toBe(false);
    expect(JobBulkSubmission.safeParse([{ payload: 1 }]).success).toBe(false);
  });
});
