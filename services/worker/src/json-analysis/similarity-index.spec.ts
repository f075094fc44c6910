import { describe, expect, it } from "vitest";

import type { KeySet } from "./key-sets.ts";
import { SimilarityIndex, UnionFind } from "./similarity-index.ts";

const keySet = (...ids: number[]): KeySet => ({
  ids: Int32Array.from(ids),
  documents: 1,
  typeMasks: new Uint8Array(ids.length),
});

describe("SimilarityIndex", () => {
  it("finds the key sets overlapping at least half (Jaccard), itself included", () => {
    const sets = [keySet(0, 1, 2), keySet(0, 1), keySet(0, 3, 4), keySet(5, 6)];
    const index = new SimilarityIndex(sets);
    expect(index.similar(sets[0]!)).toEqual([
      { index: 0, similarity: 1 },
      { index: 1, similarity: 2 / 3 },
    ]);
    // {0, 1} and {0, 3, 4} share 1 of 4 keys; {0, 1, 9} and {0, 1} share 2 of 3.
    expect(index.similar(keySet(0, 1, 9)).map((s) => s.index)).toEqual([0, 1]);
    expect(index.similar(keySet(7))).toEqual([]);
  });

  it("counts exactly half as similar and does not carry counts between lookups", () => {
    const index = new SimilarityIndex([keySet(0, 1, 2, 3)]);
    expect(index.similar(keySet(0, 1))).toEqual([{ index: 0, similarity: 0.5 }]);
    expect(index.similar(keySet(0))).toEqual([]);
  });
});

describe("UnionFind", () => {
  it("merges sets transitively", () => {
    const sets = new UnionFind(5);
    sets.union(0, 1);
    sets.union(3, 1);
    expect(sets.find(3)).toBe(sets.find(0));
    expect(sets.find(2)).not.toBe(sets.find(0));
    expect(sets.find(4)).toBe(4);
  });
});
