import { describe, expect, it } from "vitest";

import { defined } from "./canonical.ts";

describe("defined", () => {
  it("drops undefined properties and keeps the others, null and falsy ones included, in order", () => {
    const out = defined({
      b: 1,
      a: undefined,
      c: null,
      d: 0,
      e: "",
      f: false,
      g: { x: undefined },
    });

    expect(Object.keys(out)).toEqual(["b", "c", "d", "e", "f", "g"]);
    expect(out).toEqual({ b: 1, c: null, d: 0, e: "", f: false, g: { x: undefined } });
    expect("a" in out).toBe(false);
  });

  it("returns a new object and leaves its argument as it was", () => {
    const input = { a: 1, b: undefined };

    const out = defined(input);

    expect(out).not.toBe(input);
    expect(Object.keys(input)).toEqual(["a", "b"]);
  });
});
