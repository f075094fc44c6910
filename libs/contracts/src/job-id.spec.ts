import { describe, expect, it } from "vitest";

import { JobId, newJobId } from "./job-id.ts";

const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("newJobId", () => {
  it("makes valid, unique UUIDv7 job ids, each greater than the one before", () => {
    // More than one pool of random bytes, most of them within one millisecond.
    const ids = Array.from({ length: 2000 }, () => newJobId());
    for (const id of ids) {
      expect(id).toMatch(uuidV7);
      expect(JobId.safeParse(id).success).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it("carries the current time", () => {
    const before = Date.now();
    const id = newJobId();
    const msecs = Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);
    expect(msecs).toBeGreaterThanOrEqual(before);
    expect(msecs).toBeLessThanOrEqual(Date.now() + 1);
  });
});
