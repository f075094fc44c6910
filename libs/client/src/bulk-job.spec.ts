import { checkEnvelope } from "@conveyor/job-registry";
import { describe, expect, it } from "vitest";

import { checkBulkJob } from "./bulk-job.ts";

const options = { earlier: undefined, check: checkEnvelope, maxJobBytes: 200 };

describe("checkBulkJob", () => {
  it("fixes the id (given, or generated) and the JSON that is sent", () => {
    const given = checkBulkJob({ id: "a", type: "echo", payload: 1 }, 3, options);
    expect(given).toEqual({
      ok: true,
      job: {
        index: 3,
        id: "a",
        type: "echo",
        json: '{"id":"a","type":"echo","payload":1,"priority":5}',
        ownTrace: false,
      },
    });
    const generated = checkBulkJob({ type: "echo" }, 0, options);
    expect(generated.ok && generated.job.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses a key, then a repeated id, then a bad envelope, then the size, in that order", () => {
    const reasonOf = (envelope: unknown, earlier?: number) => {
      const check = checkBulkJob(envelope, 1, { ...options, earlier });
      return check.ok ? "ok" : `${check.reason} ${check.issues.map((i) => i.path).join(",")}`;
    };
    expect(reasonOf({ type: "echo", idempotencyKey: "k", priority: 12 }, 0)).toBe(
      "invalid_envelope idempotencyKey",
    );
    expect(reasonOf({ id: "a", type: "echo", priority: 12 }, 0)).toBe("invalid_envelope id");
    expect(reasonOf({ type: "echo", priority: 12 })).toBe("invalid_envelope priority");
    expect(reasonOf({ type: "echo", payload: "x".repeat(300) })).toBe("too_large (root)");
  });

  it("keeps a job's own trace fields beside its envelope, and refuses one that cannot travel", () => {
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const traced = checkBulkJob({ id: "t", type: "echo", traceparent }, 0, options);
    expect(traced.ok && JSON.parse(traced.job.json)).toMatchObject({ id: "t", traceparent });
    // The limit is the envelope's, as the dispatcher counts it: the trace fields are beside it.
    const envelope = { id: "t", type: "echo", payload: "x".repeat(140) };
    expect(checkBulkJob(envelope, 0, options).ok).toBe(true);
    expect(checkBulkJob({ ...envelope, traceparent }, 0, options).ok).toBe(true);
    const refused = checkBulkJob({ type: "echo", traceparent: 1 }, 0, options);
    expect(refused).toMatchObject({ ok: false, issues: [{ path: "traceparent" }] });
  });
});
