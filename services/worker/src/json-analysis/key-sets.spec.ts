import { describe, expect, it } from "vitest";

import { describeDocument } from "./document-shape.ts";
import { KeyTally, groupKeySets } from "./key-sets.ts";

const keySetsOf = (documents: unknown[]) => groupKeySets(documents.map(describeDocument));

describe("groupKeySets", () => {
  it("groups object documents by key set, whatever the key order", () => {
    const { keyNames, keySets, keySetOfShape } = keySetsOf([
      { a: 1, b: 2 },
      { b: 3, a: 4 },
      { a: 5 },
      "text",
      {},
    ]);
    expect(keyNames).toEqual(["a", "b"]);
    expect(keySets.map((k) => [[...k.ids], k.documents])).toEqual([
      [[0, 1], 2],
      [[0], 1],
      [[], 1],
    ]);
    expect(keySetOfShape[1]).toBe(keySets[0]);
    expect(keySetOfShape[3]).toBeUndefined();
  });
});

describe("KeyTally", () => {
  it("profiles presence and column types over the key sets added", () => {
    const { keyNames, keySets } = keySetsOf([
      { id: 1, code: 10, note: null },
      { id: 2, code: "A-10" },
      { id: 3.5, code: 12.5, extra: true },
    ]);
    const profile = KeyTally.of(keyNames.length, keySets).profile(keyNames);
    expect(profile.objectDocuments).toBe(3);
    expect([...profile.commonFields]).toEqual(["id", "code"]);
    // Whole and fractional numbers share a column; nulls have no type.
    expect(Object.fromEntries(profile.mixedTypes)).toEqual({ code: ["number", "string"] });
  });

  it("starts over when cleared", () => {
    const { keyNames, keySets } = keySetsOf([{ a: 1 }, { a: "x", b: 2 }]);
    const tally = KeyTally.of(keyNames.length, keySets);
    tally.clear();
    expect(tally.documents).toBe(0);
    expect(tally.keyIds()).toEqual([]);
    tally.add(keySets[1]!);
    expect(tally.profile(keyNames).mixedTypes.size).toBe(0);
    expect(tally.presence(0)).toBe(1);
  });
});
