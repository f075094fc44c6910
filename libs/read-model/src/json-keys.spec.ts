import fc from "fast-check";
import { describe, expect, it } from "vitest";

import type { JsonValue } from "./documents.ts";
import { escapeKeys, unescapeKeys } from "./json-keys.ts";

function keysOf(value: JsonValue): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, item]) => [key, ...keysOf(item)]);
}

/** Keys made of the characters that must be escaped, and of their escapes. */
const oddKey = fc
  .array(fc.constantFrom("a", ".", "$", "%", "\u0000", "%00", "%2E"), { maxLength: 4 })
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

describe("escapeKeys", () => {
  it("escapes the characters stored keys may not carry, at any depth", () => {
    expect(escapeKeys({ "a.b": [{ $set: 1, "50%": "x.y" }], plain: null })).toEqual({
      "a%2Eb": [{ "%24set": 1, "50%25": "x.y" }],
      plain: null,
    });
  });

  it("escapes NUL, which no BSON key may carry, and restores it", () => {
    const value = { "a\u0000b": { "\u0000": [{ "x%00": 1 }] } };
    const escaped = escapeKeys(value);
    expect(escaped).toEqual({ "a%00b": { "%00": [{ "x%2500": 1 }] } });
    expect(unescapeKeys(escaped)).toStrictEqual(value);
  });

  it("keeps a __proto__ key as data", () => {
    const value = JSON.parse('{"__proto__": {"a.b": 1}}') as JsonValue;
    expect(Object.keys(escapeKeys(value) as object)).toEqual(["__proto__"]);
    expect(unescapeKeys(escapeKeys(value))).toStrictEqual(value);
  });

  it("is reversed by unescapeKeys for any JSON", () => {
    fc.assert(
      fc.property(jsonWithOddKeys, (value) => {
        const escaped = escapeKeys(value);
        const stillRefused = (key: string) => /[.$]/.test(key) || key.includes("\u0000");
        expect(keysOf(escaped).filter(stillRefused)).toEqual([]);
        expect(unescapeKeys(escaped)).toStrictEqual(value);
      }),
    );
  });
});
