import type { JobDocument } from "@conveyor/read-model";
import { describe, expect, it } from "vitest";

import { JobCache } from "./job-cache.ts";

const doc = (id: string, status: string) => ({ _id: id, status }) as unknown as JobDocument;

describe("JobCache.forAttempt", () => {
  it("reads and writes the cache while its attempt is wanted, and ignores writes once it is abandoned", () => {
    const cache = new JobCache({ maxDocuments: 10, maxBytes: 1024 * 1024 });
    const abandon = new AbortController();
    const attempt = cache.forAttempt(abandon.signal);
    attempt.set(doc("a", "running"));
    attempt.set(doc("b", "running"));
    expect(attempt.get("a")).toEqual(doc("a", "running"));

    // A later attempt stored newer documents; the abandoned one must not put older ones back.
    abandon.abort();
    cache.set(doc("a", "succeeded"));
    attempt.set(doc("a", "running"));
    attempt.delete("b");

    expect(cache.get("a")).toEqual(doc("a", "succeeded"));
    expect(cache.get("b")).toEqual(doc("b", "running"));
  });
});
