import { describe, expect, it } from "vitest";

import { exceedsDepth } from "./json-depth.ts";

/** A value nested `depth` containers deep, alternating arrays and objects. */
function nested(depth: number): unknown {
  let value: unknown = "leaf";
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { key: value };
  return value;
}

describe("exceedsDepth", () => {
  it("counts containers, not scalars", () => {
    expect(exceedsDepth(1, 0)).toBe(false);
    expect(exceedsDepth(null, 0)).toBe(false);
    expect(exceedsDepth({}, 0)).toBe(true);
    expect(exceedsDepth({}, 1)).toBe(false);
    expect(exceedsDepth({ a: [1, { b: "x" }], c: [] }, 2)).toBe(true);
    expect(exceedsDepth({ a: [1, { b: "x" }], c: [] }, 3)).toBe(false);
  });

  it("counts an array held by an array twice, as the read model stores it wrapped in an object", () => {
    expect(exceedsDepth([[1]], 2)).toBe(true);
    expect(exceedsDepth([[1]], 3)).toBe(false);
    expect(exceedsDepth({ a: [{ b: [1] }] }, 4)).toBe(false);
    // 32 arrays nested directly in one another are 63 levels as stored.
    let arrays: unknown = 1;
    for (let i = 0; i < 32; i++) arrays = [arrays];
    expect(exceedsDepth(arrays, 62)).toBe(true);
    expect(exceedsDepth(arrays, 63)).toBe(false);
  });

  it("finds the deepest branch wherever it is", () => {
    const value = { wide: Array.from({ length: 50 }, () => ({})), deep: nested(10) };
    expect(exceedsDepth(value, 10)).toBe(true);
    expect(exceedsDepth(value, 11)).toBe(false);
  });

  it("measures values far deeper than the call stack allows", () => {
    const value = nested(1_000_000);
    expect(exceedsDepth(value, 90)).toBe(true);
    expect(exceedsDepth(value, 1_000_000)).toBe(false);
  });
});
