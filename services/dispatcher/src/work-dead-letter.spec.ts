import { DeadEvent, DeadLetter, deadLetterMsgId } from "@conveyor/contracts";
import type { WorkItem } from "@conveyor/contracts";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

import { deadRecordsFor } from "./work-dead-letter.ts";
import type { StoredWork } from "./work-dead-letter.ts";

const at = new Date("2026-02-01T10:00:00.000Z");
const traceId = "b".repeat(32);

const item: WorkItem = {
  id: "job-1",
  type: "email.send",
  payload: { to: "a@example.com" },
  priority: 5,
  maxAttempts: 3,
  timeoutMs: 1000,
  submittedAt: "2026-02-01T09:00:00.000Z",
  run: 2,
};

function stored(body: string, jobIdHeader?: string): StoredWork {
  const header = natsHeaders();
  if (jobIdHeader !== undefined) header.set("Conveyor-Job-Id", jobIdHeader);
  return { subject: "work.email.send", seq: 41, data: new TextEncoder().encode(body), header };
}

describe("deadRecordsFor", () => {
  it("keeps the work item, counts the deliveries and pairs the letter with a dead event", () => {
    const { letter, event } = deadRecordsFor(stored(JSON.stringify(item)), {
      deliveries: 5,
      traceId,
      at,
    });
    expect(DeadLetter.parse(letter)).toEqual(letter);
    expect(letter).toMatchObject({
      type: "email.send",
      jobId: "job-1",
      run: 2,
      workItem: item,
      reason: "attempts_exhausted",
      attempts: 5,
      deadAt: at.toISOString(),
      source: { stream: "WORK", subject: "work.email.send", seq: 41 },
      traceId,
    });
    expect(letter.error.message).toContain("max deliveries reached (5)");
    expect(letter.rawPreview).toBeUndefined();
    expect(deadLetterMsgId(letter)).toBe("job-1:2:dead");

    expect(DeadEvent.parse(event)).toEqual(event);
    expect(event).toMatchObject({
      kind: "dead",
      jobId: "job-1",
      run: 2,
      attempt: 5,
      reason: "attempts_exhausted",
      traceId,
    });
  });

  it("keeps the raw start of an unreadable body and takes the job id from the header", () => {
    const { letter, event } = deadRecordsFor(stored("not json", "job-9"), {
      deliveries: 2,
      traceId: undefined,
      at,
    });
    expect(letter).toMatchObject({ jobId: "job-9", run: 1, rawPreview: "not json" });
    expect(letter.workItem).toBeUndefined();
    expect(event).toMatchObject({ jobId: "job-9", attempt: 2 });
  });

  it("records an anonymous message by its stream position and sends no event", () => {
    const { letter, event } = deadRecordsFor(stored('{"id":"bad id!"}'), {
      deliveries: 2,
      traceId: undefined,
      at,
    });
    expect(letter.jobId).toBeUndefined();
    expect(deadLetterMsgId(letter)).toBe("WORK:41");
    expect(event).toBeUndefined();
  });
});

describe("deadRecordsFor on a work message too deeply nested to read", () => {
  it("dead-letters it as unreadable, keeping the header's job id, instead of throwing", () => {
    const deep = `{"id":"job-9","payload":${"[".repeat(3000)}${"]".repeat(3000)}}`;
    const { letter, event } = deadRecordsFor(stored(deep, "job-9"), {
      deliveries: 4,
      traceId,
      at,
    });
    expect(letter.workItem).toBeUndefined();
    expect(letter.jobId).toBe("job-9");
    expect(letter.rawPreview).toBe(deep.slice(0, 2048));
    expect(event).toMatchObject({ kind: "dead", jobId: "job-9", attempt: 4 });
  });
});
