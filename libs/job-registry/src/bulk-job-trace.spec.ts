import { describe, expect, it } from "vitest";

import { splitBulkJobTrace } from "./bulk-job-trace.ts";

const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

describe("splitBulkJobTrace", () => {
  it("takes the trace fields out of the envelope, which is then an ordinary submission", () => {
    const split = splitBulkJobTrace({ id: "a", payload: 1, traceparent, tracestate: "k=v" });
    expect(split).toEqual({
      ok: true,
      envelope: { id: "a", payload: 1 },
      trace: { traceparent, tracestate: "k=v" },
    });
  });

  it("leaves an envelope without trace fields as it is, and anything else for the check to refuse", () => {
    const envelope = { payload: 1 };
    expect(splitBulkJobTrace(envelope)).toEqual({ ok: true, envelope, trace: undefined });
    expect(splitBulkJobTrace("text")).toEqual({ ok: true, envelope: "text", trace: undefined });
  });

  it("refuses a trace field that cannot travel in a header, naming it", () => {
    const split = splitBulkJobTrace({ payload: 1, traceparent: 7, tracestate: "a\r\nb" });
    expect(split).toMatchObject({
      ok: false,
      reason: "invalid_envelope",
      issues: [{ path: "traceparent" }, { path: "tracestate" }],
    });
    expect(splitBulkJobTrace({ traceparent: "" }).ok).toBe(false);
    expect(splitBulkJobTrace({ tracestate: "x".repeat(513) }).ok).toBe(false);
  });

  it("keeps a malformed traceparent string: W3C says to ignore it, and the job starts a trace", () => {
    expect(splitBulkJobTrace({ traceparent: "not-a-traceparent" })).toMatchObject({
      ok: true,
      trace: { traceparent: "not-a-traceparent" },
    });
  });
});
