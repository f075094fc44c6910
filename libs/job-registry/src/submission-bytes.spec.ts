import { rejectionRawPreviewChars } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";

import { parseSubmissionBytes } from "./submission-bytes.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("parseSubmissionBytes", () => {
  it("parses JSON within the limit", () => {
    expect(parseSubmissionBytes(bytes('{"payload":{"a":1}}'), 100)).toEqual({
      ok: true,
      value: { payload: { a: 1 } },
      text: '{"payload":{"a":1}}',
    });
  });

  it("refuses a body over the limit and keeps only a preview", () => {
    const big = bytes(`{"payload":"${"x".repeat(10_000)}"}`);
    const result = parseSubmissionBytes(big, 1024);
    expect(result).toMatchObject({ ok: false, reason: "too_large" });
    if (result.ok) return;
    expect(result.message).toContain("1024");
    expect(result.rawPreview).toHaveLength(rejectionRawPreviewChars);
  });

  it("measures a body within the limit as stored, with its numbers written out in full", () => {
    // 1e20 is stored as 100000000000000000000: the work item and dead letter made from this
    // body would be five times its size, past what the server takes.
    const numbers = bytes(`{"payload":[${Array.from({ length: 100 }, () => "1e20").join(",")}]}`);
    expect(numbers.byteLength).toBeLessThan(1024);
    const result = parseSubmissionBytes(numbers, 1024);
    expect(result).toMatchObject({ ok: false, reason: "too_large" });
    if (result.ok) return;
    expect(result.message).toBe(
      "submission is 2213 bytes as stored (numbers written out in full), more than the limit of 1024",
    );
    expect(parseSubmissionBytes(numbers, 2213)).toMatchObject({ ok: true });
  });

  it("refuses text that is not JSON, and an empty body", () => {
    for (const text of ["not json", '{"a":', ""]) {
      const result = parseSubmissionBytes(bytes(text), 1024);
      expect(result).toMatchObject({ ok: false, reason: "invalid_json", rawPreview: text });
    }
  });

  it("refuses a body that is not UTF-8 as invalid_json, as the gateway does, instead of reading U+FFFD", () => {
    // A latin1 producer's "café": read leniently it would be queued as "caf\uFFFD".
    const latin1 = Buffer.from('{"payload":"caf\u00e9"}', "latin1");
    const parsed = parseSubmissionBytes(latin1, 1024);
    expect(parsed).toMatchObject({ ok: false, reason: "invalid_json" });
    expect(parsed.ok ? "" : parsed.message).toContain("UTF-8");
    expect(parseSubmissionBytes(Buffer.from('{"payload":"café"}'), 1024).ok).toBe(true);
  });
});
