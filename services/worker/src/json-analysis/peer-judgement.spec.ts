import { describe, expect, it } from "vitest";

import { analyzeDocuments } from "./storage-decision.ts";

/** A seeded pseudo-random generator (mulberry32), so every run sees the same batch. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function productRow(id: number): Record<string, unknown> {
  return { id, name: `product ${id}`, price: 9.5 + id, active: id % 2 === 0 };
}

function nestedOrder(id: number): Record<string, unknown> {
  return {
    id,
    customer: { name: `customer ${id}`, email: `c${id}@example.com` },
    lines: [{ sku: `S-${id}`, qty: 1 + (id % 3) }],
    total: 12.5 * id,
  };
}

interface SparseOptions {
  /** Keys are drawn from `attr0` .. `attr<pool - 1>`. */
  pool: number;
  minKeys: number;
  maxKeys: number;
}

/** A document with a few keys drawn at random from a pool; every value is an integer. */
function sparseDocument(
  random: () => number,
  { pool, minKeys, maxKeys }: SparseOptions,
): Record<string, unknown> {
  const count = minKeys + Math.floor(random() * (maxKeys - minKeys + 1));
  const document: Record<string, unknown> = {};
  while (Object.keys(document).length < Math.min(count, pool)) {
    const key = `attr${Math.floor(random() * pool)}`;
    document[key] = Math.floor(random() * 100);
  }
  return document;
}

/** Thirds of flat product rows, nested orders and sparse documents, interleaved. */
function mixedBatch(size: number, sparse: SparseOptions, seed = 1): unknown[] {
  const random = seededRandom(seed);
  return Array.from({ length: size }, (_, i) => {
    if (i % 3 === 0) return productRow(i);
    if (i % 3 === 1) return nestedOrder(i);
    return sparseDocument(random, sparse);
  });
}

const storages = (documents: readonly unknown[]) =>
  analyzeDocuments(documents).documents.map((d) => d.storage);

/** Storage counts per third of a {@link mixedBatch}: products, orders, sparse documents. */
function storageByKind(documents: readonly unknown[]) {
  const counts = ["product", "order", "sparse"].map((kind) => ({ kind, sql: 0, jsonb: 0 }));
  for (const d of analyzeDocuments(documents).documents) counts[d.index % 3]![d.storage] += 1;
  return counts;
}

describe("judging each document against its peers", () => {
  it("stores the flat rows of a mixed batch as sql, among their own kind", () => {
    const batch = mixedBatch(100, { pool: 40, minKeys: 2, maxKeys: 6 });
    const result = analyzeDocuments(batch);
    expect(storageByKind(batch)).toEqual([
      { kind: "product", sql: 34, jsonb: 0 },
      { kind: "order", sql: 0, jsonb: 33 },
      { kind: "sparse", sql: 0, jsonb: 33 },
    ]);
    expect(result.documents[0]!.reason).toBe(
      "flat row of 4 scalar fields (id, name, price, active), consistent with the 34 documents of its shape",
    );
    expect(result.documents[1]!.reason).toBe(
      "arrays of objects at lines; nested objects at customer",
    );
  });

  it("still stores a batch of sparse random-key documents as jsonb", () => {
    for (const [seed, pool, minKeys, maxKeys] of [
      [1, 50, 1, 5],
      [2, 26, 2, 6],
      [3, 100, 3, 8],
      [4, 12, 1, 4],
    ] as const) {
      const random = seededRandom(seed);
      const batch = Array.from({ length: 300 }, () =>
        sparseDocument(random, { pool, minKeys, maxKeys }),
      );
      expect(analyzeDocuments(batch).summary, `pool ${pool}, ${minKeys}-${maxKeys} keys`).toEqual({
        sql: 0,
        jsonb: 300,
      });
    }
  });

  it("still stores a uniform flat batch as sql and a nested batch as jsonb", () => {
    const rows = Array.from({ length: 500 }, (_, i) => productRow(i));
    expect(analyzeDocuments(rows).summary).toEqual({ sql: 500, jsonb: 0 });
    const orders = Array.from({ length: 500 }, (_, i) => nestedOrder(i));
    expect(analyzeDocuments(orders).summary).toEqual({ sql: 0, jsonb: 500 });
  });

  it("names the documents of similar shape a row is judged against", () => {
    const users = [
      { id: 1, name: "a", nickname: "x" },
      { id: 2, name: "b" },
      { id: 3, name: "c" },
    ];
    const others = [1, 2, 3].map((id) => ({ sku: `S-${id}`, weight: id, color: "red" }));
    const result = analyzeDocuments([...users, ...others]);
    expect(result.summary).toEqual({ sql: 6, jsonb: 0 });
    expect(result.documents[0]!.reason).toBe(
      "flat row of 3 scalar fields (id, name, nickname), consistent with the 3 documents of similar shape",
    );
    expect(result.documents[3]!.reason).toBe(
      "flat row of 3 scalar fields (sku, weight, color), consistent with the 3 documents of its shape",
    );
  });

  it("judges field types among peers only", () => {
    const products = [1, 2, 3].map(productRow);
    const listings = [1, 2, 3].map((id) => ({ url: `u${id}`, price: `${id} EUR`, seller: "s" }));
    expect(storages([...products, ...listings])).toEqual(Array(6).fill("sql"));

    const codes = [
      { id: 1, code: 10 },
      { id: 2, code: "A-10" },
    ];
    const result = analyzeDocuments([...codes, ...products]);
    expect(result.documents[0]!.reason).toBe(
      "fields whose type varies across the 2 documents of its shape: code (number, string)",
    );
  });

  it("keeps a row whose keys mostly belong to documents of other shapes out of sql", () => {
    // Each key appears with different companions: the peers of {a, b} are a coincidence.
    const docs = [
      { a: 1, b: 1 },
      { a: 1, b: 1, c: 1 },
      { a: 1, d: 1, e: 1 },
      { a: 1, f: 1, g: 1 },
      { a: 1, h: 1, i: 1 },
      { b: 1, j: 1, k: 1 },
      { b: 1, l: 1, m: 1 },
      { b: 1, n: 1, o: 1 },
      ...[1, 2, 3].map((p) => ({ p, q: 1, r: 1 })),
    ];
    const result = analyzeDocuments(docs);
    expect(result.documents.slice(0, 2)).toMatchObject([
      {
        storage: "jsonb",
        reason:
          "heterogeneous keys: each of its 2 fields (a, b) also appears in many documents of other shapes",
      },
      {
        storage: "jsonb",
        reason:
          "heterogeneous keys: each of its fields in common with the 2 documents of similar shape (a, b) also appears in many documents of other shapes",
      },
    ]);
  });

  it("judges documents that share a single field against the whole batch", () => {
    const notes = [1, 2, 3].map((id) => ({ note: `n${id}` }));
    const docs = [...[1, 2, 3, 4, 5].map(productRow), ...notes, { note: "n4", author: "x" }];
    const result = analyzeDocuments(docs);
    expect(result.documents.map((d) => d.storage)).toEqual([
      ...Array<string>(5).fill("sql"),
      ...Array<string>(4).fill("jsonb"),
    ]);
    expect(result.documents[5]!.reason).toBe(
      "heterogeneous keys: 1 of its 1 field (note) appear in at most half of the documents; sparse: has 0 of the 4 common fields (lacks id, name, price, active)",
    );
  });

  it("judges a table with many optional fields the same alone and in a mixed batch", () => {
    const random = seededRandom(11);
    // Two rows share about half of their keys: peers are found through other rows too.
    const rows = Array.from({ length: 1500 }, (_, i) => {
      const row: Record<string, unknown> = { id: i, name: `n${i}`, created: "2025-01-01" };
      for (let k = 0; k < 14; k++) if (random() < 0.5) row[`option${k}`] = k;
      return row;
    });
    expect(new Set(rows.map((d) => Object.keys(d).sort().join(","))).size).toBeGreaterThan(1000);
    const alone = storages(rows);
    // Rows with few of the options lack most of the common fields: sparse.
    expect(alone.filter((s) => s === "sql").length).toBeGreaterThan(1300);
    const others = Array.from({ length: 1500 }, (_, i) =>
      i % 2 === 0 ? nestedOrder(i) : sparseDocument(random, { pool: 40, minKeys: 2, maxKeys: 6 }),
    );
    expect(storages([...rows, ...others]).slice(0, 1500)).toEqual(alone);
  });

  it("groups a mixed batch with more than 1000 distinct key sets", () => {
    const batch = mixedBatch(6000, { pool: 60, minKeys: 3, maxKeys: 9 }, 7);
    const shapes = new Set(
      batch.map((d) =>
        Object.keys(d as object)
          .sort()
          .join(","),
      ),
    );
    expect(shapes.size).toBeGreaterThan(1000);
    expect(storageByKind(batch)).toEqual([
      { kind: "product", sql: 2000, jsonb: 0 },
      { kind: "order", sql: 0, jsonb: 2000 },
      { kind: "sparse", sql: 0, jsonb: 2000 },
    ]);
  });
});
