import fc from "fast-check";
import { describe, expect, it } from "vitest";

import type { JsonValue } from "./documents.ts";
import { fromStoredJson, toStoredJson } from "./stored-json.ts";

/** Whether an array holds an array as an item, anywhere in the value. */
function hasArrayInArray(value: JsonValue): boolean {
  if (Array.isArray(value))
    return value.some((item) => Array.isArray(item) || hasArrayInArray(item));
  if (value === null || typeof value !== "object") return false;
  return Object.values(value).some(hasArrayInArray);
}

function keysOf(value: JsonValue): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, item]) => [key, ...keysOf(item)]);
}

/** Keys made of the characters that must be escaped, of their escapes and of the array wrapper's key. */
const oddKey = fc
  .array(fc.constantFrom("a", ".", "$", "%", "\u0000", "%00", "%2E", "%A"), { maxLength: 4 })
  .map((parts) => parts.join(""));

/** JSON whose keys often carry the characters that must be escaped (and their escapes). */
const jsonWithOddKeys = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.jsonValue({ maxDepth: 0 }) as fc.Arbitrary<JsonValue>,
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(oddKey, tie("value"), {
      maxKeys: 3,
      noNullPrototype: true,
    }),
  ),
})).value;

describe("toStoredJson", () => {
  it("escapes the characters stored keys may not carry, at any depth", () => {
    expect(toStoredJson({ "a.b": [{ $set: 1, "50%": "x.y" }], plain: null })).toEqual({
      "a%2Eb": [{ "%24set": 1, "50%25": "x.y" }],
      plain: null,
    });
  });

  it("escapes NUL, which no BSON key may carry, and restores it", () => {
    const value = { "a\u0000b": { "\u0000": [{ "x%00": 1 }] } };
    const escaped = toStoredJson(value);
    expect(escaped).toEqual({ "a%00b": { "%00": [{ "x%2500": 1 }] } });
    expect(fromStoredJson(escaped)).toStrictEqual(value);
  });

  it("wraps an array held by an array, which FerretDB refuses, and restores it", () => {
    const value = { m: [[1, 2], [], [[3]]], "%A": [[4]] };
    const stored = toStoredJson(value);
    expect(stored).toEqual({
      m: [{ "%A": [1, 2] }, { "%A": [] }, { "%A": [{ "%A": [3] }] }],
      "%25A": [{ "%A": [4] }],
    });
    expect(fromStoredJson(stored)).toStrictEqual(value);
    expect(fromStoredJson(toStoredJson([["a", 1]]))).toStrictEqual([["a", 1]]);
  });

  it("reads arrays in arrays stored before they were wrapped", () => {
    expect(fromStoredJson({ m: [[1], [{ "%25A": 2 }]] })).toStrictEqual({
      m: [[1], [{ "%A": 2 }]],
    });
  });

  it("keeps a __proto__ key as data", () => {
    const value = JSON.parse('{"__proto__": {"a.b": 1}}') as JsonValue;
    expect(Object.keys(toStoredJson(value) as object)).toEqual(["__proto__"]);
    expect(fromStoredJson(toStoredJson(value))).toStrictEqual(value);
  });

  it("is reversed by fromStoredJson for any JSON", () => {
    fc.assert(
      fc.property(jsonWithOddKeys, (value) => {
        const escaped = toStoredJson(value);
        const stillRefused = (key: string) => /[.$]/.test(key) || key.includes("\u0000");
        expect(keysOf(escaped).filter(stillRefused)).toEqual([]);
        expect(hasArrayInArray(escaped)).toBe(false);
        expect(fromStoredJson(escaped)).toStrictEqual(value);
      }),
    );
  });
});
