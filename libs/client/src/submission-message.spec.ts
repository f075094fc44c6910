import { Header } from "@conveyor/contracts";
import type { JobSubmission } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";

import { submissionMessage } from "./submission-message.ts";

const submission: JobSubmission = { type: "mail.send", payload: { to: "a@b.c" }, priority: 5 };

describe("submissionMessage", () => {
  it("gives a job without an id a new one, used as the body's id, header and message id", () => {
    const message = submissionMessage(submission, "nats");
    expect(message.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect(message.subject).toBe("jobs.submit.mail.send");
    expect(JSON.parse(message.body)).toEqual({ ...submission, id: message.id });
    expect(message.msgID).toBe(message.id);
    expect(message.headers.get(Header.JobId)).toBe(message.id);
    expect(message.headers.get(Header.JobType)).toBe("mail.send");
    expect(message.headers.has(Header.Source)).toBe(false);
    expect(submissionMessage(submission, "nats").id).not.toBe(message.id);
  });

  it("keeps a given id, deduplicates by the idempotency key, and marks a REST submission", () => {
    const message = submissionMessage({ ...submission, id: "job-1", idempotencyKey: "k" }, "rest");
    expect(message.id).toBe("job-1");
    expect(message.msgID).toBe("k");
    expect(message.headers.get(Header.Source)).toBe("rest");
  });
});
