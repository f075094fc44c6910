import { maxBulkJobs } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";

import {
  checkBulkEnvelope,
  idempotencyKeyInBulk,
  refusalInBulk,
  repeatedIdRefusal,
  repeatedIds,
} from "./bulk-check.ts";

describe("checkBulkEnvelope", () => {
  it("hands over the jobs unchecked, so that each is refused on its own", () => {
    const check = checkBulkEnvelope({ jobs: [{ payload: 1 }, "not a job"] });
    expect(check).toEqual({ ok: true, jobs: [{ payload: 1 }, "not a job"] });
  });

  it("refuses a body without 1 to maxBulkJobs jobs, naming the field", () => {
    for (const body of [{}, { jobs: [] }, { jobs: "x" }, [], { jobs: Array(maxBulkJobs + 1) }]) {
      const check = checkBulkEnvelope(body);
      expect(check.ok).toBe(false);
      if (check.ok) continue;
      expect(check.reason).toBe("invalid_envelope");
      expect(check.message).toMatch(/^invalid bulk submission: /);
      const paths = check.issues.map((issue) => issue.path);
      expect(paths.includes("jobs") || paths.includes("(root)")).toBe(true);
    }
  });

  it("refuses fields other than jobs, naming them", () => {
    const check = checkBulkEnvelope({ jobs: [{}], type: "echo" });
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.issues.map((issue) => issue.path)).toEqual(["type"]);
  });
});

describe("refusalInBulk", () => {
  it("names the job by its place in the bulk, in the message and every path", () => {
    const refusal = {
      reason: "invalid_payload",
      message: "invalid payload: ms: too big",
      issues: [
        { path: "payload.ms", message: "too big" },
        { path: "(root)", message: "expected an object" },
      ],
    };
    expect(refusalInBulk(3, refusal)).toEqual({
      reason: "invalid_payload",
      message: "jobs[3]: invalid payload: ms: too big",
      issues: [
        { path: "jobs[3].payload.ms", message: "too big" },
        { path: "jobs[3]", message: "expected an object" },
      ],
    });
  });
});

describe("idempotencyKeyInBulk", () => {
  it("refuses a job's idempotencyKey and passes anything else", () => {
    const refusal = idempotencyKeyInBulk({ idempotencyKey: "k", payload: 1 });
    expect(refusal?.reason).toBe("invalid_envelope");
    expect(refusal?.issues.map((issue) => issue.path)).toEqual(["idempotencyKey"]);
    expect(refusal?.message).toMatch(/idempotencyKey: .*give the job an id/);
    expect(idempotencyKeyInBulk({ id: "a", payload: 1 })).toBeUndefined();
    // An absent key, as an options object spread with `idempotencyKey: undefined` makes it.
    expect(idempotencyKeyInBulk({ id: "a", idempotencyKey: undefined })).toBeUndefined();
    expect(idempotencyKeyInBulk("text")).toBeUndefined();
  });
});

describe("repeatedIds", () => {
  it("names each later job with an earlier job's id, and the first place it had", () => {
    const jobs = [
      { id: "a" },
      { id: "b" },
      { payload: 1 },
      { id: "a" },
      "x",
      { id: "b" },
      { id: "a" },
    ];
    expect([...repeatedIds(jobs)]).toEqual([
      [3, 0],
      [5, 1],
      [6, 0],
    ]);
    expect(repeatedIdRefusal(0).issues).toEqual([
      { path: "id", message: "the same id as jobs[0]" },
    ]);
  });
});
