import fc from "fast-check";
import { describe, expect, it } from "vitest";

import type { JsonValue } from "./documents.ts";
import { escapeKeys, unescapeKeys } from "./json-keys.ts";

function keysOf(value: JsonValue): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, item]) => [key, ...keysOf(item)]);
}

describe("escapeKeys", () => {
  it("escapes the characters stored keys may not carry, at any depth", () => {
    expect(escapeKeys({ "a.b": [{ $set: 1, "50%": "x.y" }], plain: null })).toEqual({
      "a%2Eb": [{ "%24set": 1, "50%25": "x.y" }],
      plain: null,
    });
  });

  it("keeps a __proto__ key as data", () => {
    const value = JSON.parse('{"__proto__": {"a.b": 1}}') as JsonValue;
    expect(Object.keys(escapeKeys(value) as object)).toEqual(["__proto__"]);
    expect(unescapeKeys(escapeKeys(value))).toStrictEqual(value);
  });

  it("is reversed by unescapeKeys for any JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue() as fc.Arbitrary<JsonValue>, (value) => {
        const escaped = escapeKeys(value);
        expect(keysOf(escaped).filter((key) => /[.$]/.test(key))).toEqual([]);
        expect(unescapeKeys(escaped)).toStrictEqual(value);
      }),
    );
  });
});
