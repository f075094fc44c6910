import type { KeySet } from "./key-sets.ts";

/**
 * Two key sets are similar when they overlap at least this much (Jaccard: shared keys over all
 * keys of the two), so `{id, name, nickname}` is similar to `{id, name}`.
 */
export const peerSimilarity = 0.5;

/** A key set found similar, by its index among the indexed ones. */
export interface SimilarKeySet {
  index: number;
  /** Jaccard similarity, from {@link peerSimilarity} to 1. */
  similarity: number;
}

/**
 * Finds the key sets similar to a given one among some, through an index from each key to the
 * sets having it: only sets sharing a key are looked at.
 */
export class SimilarityIndex {
  readonly #keySets: readonly KeySet[];
  readonly #setsWithKey = new Map<number, number[]>();
  /** Per indexed set, keys shared with the set being looked up; zero between lookups. */
  readonly #shared: Int32Array;

  constructor(keySets: readonly KeySet[]) {
    this.#keySets = keySets;
    this.#shared = new Int32Array(keySets.length);
    for (const [index, keySet] of keySets.entries()) {
      for (const id of keySet.ids) {
        const indexes = this.#setsWithKey.get(id) ?? [];
        indexes.push(index);
        this.#setsWithKey.set(id, indexes);
      }
    }
  }

  /** The indexed sets similar to `keySet` (itself included, if indexed), in index order. */
  similar(keySet: KeySet): SimilarKeySet[] {
    const touched: number[] = [];
    for (const id of keySet.ids) {
      for (const index of this.#setsWithKey.get(id) ?? []) {
        if (this.#shared[index] === 0) touched.push(index);
        this.#shared[index] = (this.#shared[index] ?? 0) + 1;
      }
    }
    const found: SimilarKeySet[] = [];
    for (const index of touched.sort((a, b) => a - b)) {
      const shared = this.#shared[index] ?? 0;
      this.#shared[index] = 0;
      const other = this.#keySets[index]?.ids.length ?? 0;
      const similarity = shared / (keySet.ids.length + other - shared);
      if (similarity >= peerSimilarity) found.push({ index, similarity });
    }
    return found;
  }
}

/** Disjoint sets of indexes 0..size-1, merged by {@link UnionFind.union}. */
export class UnionFind {
  readonly #parent: Int32Array;

  constructor(size: number) {
    this.#parent = Int32Array.from({ length: size }, (_, i) => i);
  }

  /** The representative of the set holding `index`. */
  find(index: number): number {
    let at = index;
    for (let parent = this.#parent[at] ?? at; parent !== at; parent = this.#parent[at] ?? at) {
      // Path halving keeps later lookups short.
      const grandparent = this.#parent[parent] ?? parent;
      this.#parent[at] = grandparent;
      at = grandparent;
    }
    return at;
  }

  union(a: number, b: number): void {
    const rootA = this.find(a);
    const rootB = this.find(b);
    if (rootA !== rootB) this.#parent[Math.max(rootA, rootB)] = Math.min(rootA, rootB);
  }
}
