import { WorkItem, toValidationIssues } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { InvalidPayloadError } from "./errors.ts";
import { parsePayload, readWorkItem } from "./work-item.ts";

const encode = (value: unknown) =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

const item = {
  id: "job-1",
  type: "echo",
  payload: { ms: 5 },
  priority: 5,
  maxAttempts: 3,
  timeoutMs: 1000,
  submittedAt: "2026-01-01T00:00:00.000Z",
  run: 2,
};

describe("readWorkItem", () => {
  it("reads a valid work item", () => {
    expect(readWorkItem(encode(item), "echo")).toEqual({ ok: true, item });
  });

  it("refuses broken JSON", () => {
    const read = readWorkItem(encode("{not json"), "echo");
    expect(read.ok).toBe(false);
    if (!read.ok) {
      expect(read.error.message).toBe("work item is not valid JSON");
      expect(read.error.retryable).toBe(false);
    }
  });

  it("refuses, and still identifies, an item nested too deep to be walked (published around intake)", () => {
    const deep = "[".repeat(20_000) + "]".repeat(20_000);
    const body = `{"id":"job-1","run":2,"type":"echo","payload":${deep}}`;
    const read = readWorkItem(encode(body), "echo");
    expect(read.ok).toBe(false);
    if (!read.ok) {
      expect(read.error.message).toMatch(/^work item could not be read: /);
      expect(read.error.retryable).toBe(false);
      expect(read.identity).toEqual({ jobId: "job-1", run: 2 });
    }
  });

  it("names the bad field and still identifies the job", () => {
    const read = readWorkItem(encode({ ...item, maxAttempts: 0 }), "echo");
    expect(read.ok).toBe(false);
    if (!read.ok) {
      expect(read.error.issues.map((i) => i.path)).toEqual(["maxAttempts"]);
      expect(read.identity).toEqual({ jobId: "job-1", run: 2 });
    }
  });

  it("drops fields a work item does not have and keeps the payload as sent", () => {
    const payload = [1, { a: null, b: [true, "x"] }];
    const read = readWorkItem(encode({ ...item, payload, extra: "ignored" }), "echo");
    expect(read).toEqual({ ok: true, item: { ...item, payload } });
  });

  it.each([
    ["a number too large to be finite", JSON.stringify(item).replace('"ms":5', '"ms":1e999')],
    ["no payload", JSON.stringify({ ...item, payload: undefined })],
    ["an impossible date", JSON.stringify({ ...item, submittedAt: "2026-02-30T00:00:00Z" })],
    ["a run of 0", JSON.stringify({ ...item, run: 0 })],
  ])("refuses an item with %s exactly as the WorkItem schema does", (_, text) => {
    const read = readWorkItem(encode(text), "echo");
    expect(read.ok).toBe(false);
    const expected = WorkItem.safeParse(JSON.parse(text));
    expect(expected.success).toBe(false);
    if (!read.ok && !expected.success) {
      expect(read.error.issues).toEqual(toValidationIssues(expected.error));
    }
  });

  it("refuses an item of another type", () => {
    const read = readWorkItem(encode(item), "sleep");
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.error.issues[0]?.path).toBe("type");
  });
});

describe("parsePayload", () => {
  const schema = z.object({ ms: z.int().max(10), label: z.string().default("none") });

  it("returns the parsed payload with defaults applied", () => {
    expect(parsePayload(schema, { ms: 5 })).toEqual({
      ok: true,
      payload: { ms: 5, label: "none" },
    });
  });

  it("names the invalid field under payload", async () => {
    const parsed = await parsePayload(schema, { ms: 50 });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.issues.map((i) => i.path)).toEqual(["payload.ms"]);
      expect(parsed.error.message).toContain("payload.ms");
    }
  });

  it("accepts anything without a schema", () => {
    expect(parsePayload(undefined, [1, "x"])).toEqual({ ok: true, payload: [1, "x"] });
  });

  it("runs a schema with async checks asynchronously", async () => {
    const checked = z.object({ ms: z.int() }).refine(async (p) => Promise.resolve(p.ms > 0), {
      message: "must be positive",
      path: ["ms"],
    });
    expect(await parsePayload(checked, { ms: 5 })).toEqual({ ok: true, payload: { ms: 5 } });
    const refused = await parsePayload(checked, { ms: -1 });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.issues.map((i) => i.path)).toEqual(["payload.ms"]);
  });

  it("refuses the payload, naming what the schema threw, when a schema's own code throws", async () => {
    const throwing = z.object({ ms: z.int() }).transform(() => {
      throw new Error("lookup failed");
    });
    const parsed = await parsePayload(throwing, { ms: 5 });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error).toBeInstanceOf(InvalidPayloadError);
      expect(parsed.error.issues).toEqual([
        { path: "payload", message: "the payload schema threw: lookup failed" },
      ]);
    }
  });
});
