import { maxBulkJobs } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";

import { bulkMessages } from "./bulk-messages.ts";
import type { BulkJob } from "./bulk-messages.ts";

function job(index: number, type = "echo", payload: unknown = { n: index }): BulkJob {
  const id = `job-${index}`;
  return { index, id, type, json: JSON.stringify({ id, type, payload }) };
}

describe("bulkMessages", () => {
  it("sends each type to its own subject, the jobs in order, as one JSON body", () => {
    const jobs = [job(0), job(1, "mail.send"), job(2)];
    const messages = bulkMessages(jobs, 1024 * 1024);
    expect(messages.map((m) => [m.subject, m.jobs.map((j) => j.index)])).toEqual([
      ["jobs.bulk.echo", [0, 2]],
      ["jobs.bulk.mail.send", [1]],
    ]);
    const body = JSON.parse(messages[0]?.body ?? "") as { jobs: { id: string }[] };
    expect(body.jobs.map((j) => j.id)).toEqual(["job-0", "job-2"]);
    expect(messages[1]?.headers.get("Conveyor-Job-Type")).toBe("mail.send");
  });

  it("splits at maxBulkJobs jobs and at the byte limit", () => {
    const many = Array.from({ length: maxBulkJobs + 1 }, (_, i) => job(i));
    expect(bulkMessages(many, 1024 * 1024).map((m) => m.jobs.length)).toEqual([maxBulkJobs, 1]);

    const big = Array.from({ length: 5 }, (_, i) => job(i, "echo", "x".repeat(400)));
    const messages = bulkMessages(big, 1000);
    expect(messages.map((m) => m.jobs.length)).toEqual([2, 2, 1]);
    for (const m of messages) expect(Buffer.byteLength(m.body)).toBeLessThanOrEqual(1000);
  });

  it("gives the same jobs the same message id, and other jobs another", () => {
    const first = bulkMessages([job(0), job(1)], 1024)[0];
    const again = bulkMessages([job(0), job(1)], 1024)[0];
    const other = bulkMessages([job(0), job(2)], 1024)[0];
    expect(again?.msgID).toBe(first?.msgID);
    expect(other?.msgID).not.toBe(first?.msgID);
  });
});
