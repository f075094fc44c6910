import { describe, expect, it } from "vitest";

import { withinBudget } from "./result-budget.ts";
import { analyzeDocuments } from "./storage-decision.ts";

/** The largest batch a job may send: 10,000 small rows, with a few nested documents. */
const rows = Array.from({ length: 10_000 }, (_, i) =>
  i % 1000 === 0 ? { id: i, address: { city: "Oslo" } } : { id: i, name: `n${i}`, ok: true },
);

describe("withinBudget", () => {
  it("keeps a result that fits as it is", () => {
    const result = analyzeDocuments(rows.slice(0, 3));
    expect(withinBudget(result)).toBe(result);
  });

  it("groups the documents of a result too large to send, by recommendation and reason", () => {
    const result = analyzeDocuments(rows);
    expect(JSON.stringify(result).length).toBeGreaterThan(1024 * 1024);

    const fitted = withinBudget(result);

    expect(JSON.stringify(fitted).length).toBeLessThanOrEqual(512 * 1024);
    if (!("groups" in fitted)) throw new Error("expected a grouped result");
    expect(fitted.summary).toEqual(result.summary);
    expect(fitted.note).toMatch(/^grouped by recommendation and reason/);
    const { groups } = fitted;
    expect(groups.flatMap((g) => g.documents).sort((a, b) => a - b)).toEqual(rows.map((_, i) => i));
    const nested = groups.find((g) => g.documents.includes(1000));
    expect(nested?.storage).toBe("jsonb");
    expect(nested?.reason).toContain("address");
  });

  it("groups by recommendation alone when every document has a reason of its own", () => {
    // Each document's one key is its own, and so is the reason that names it.
    const unique = Array.from({ length: 2000 }, (_, i) => ({
      [`field_${"x".repeat(100)}_${i}`]: [1],
    }));
    const result = analyzeDocuments(unique);

    const fitted = withinBudget(result, 64 * 1024);

    expect(JSON.stringify(fitted).length).toBeLessThanOrEqual(64 * 1024);
    if (!("groups" in fitted)) throw new Error("expected a grouped result");
    expect(fitted.note).toMatch(/^grouped by recommendation, without reasons/);
    expect(fitted.groups.map((g) => g.documents.length)).toEqual([2000]);
  });
});
