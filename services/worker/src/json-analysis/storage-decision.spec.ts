import { describe, expect, it } from "vitest";

import { analyzeDocuments } from "./storage-decision.ts";

const decide = (documents: unknown[]) =>
  analyzeDocuments(documents).documents.map((d) => d.storage);
const reasonOf = (documents: unknown[], index = 0) =>
  analyzeDocuments(documents).documents[index]!.reason;

describe("analyzeDocuments", () => {
  it("stores flat rows with the same fields as sql", () => {
    const rows = [
      { id: 1, name: "Ada", email: "ada@example.com" },
      { id: 2, name: "Linus", email: null },
    ];
    const result = analyzeDocuments(rows);
    expect(result.documents.map((d) => d.storage)).toEqual(["sql", "sql"]);
    expect(result.documents[0]!.reason).toBe(
      "flat row of 3 scalar fields (id, name, email), consistent with the other documents",
    );
    expect(result.summary).toEqual({ sql: 2, jsonb: 0 });
  });

  it("stores a single flat row as sql", () => {
    expect(decide([{ id: 1, price: 9.99, inStock: true }])).toEqual(["sql"]);
  });

  it("stores a nested object as jsonb and names the path", () => {
    const doc = { id: 1, address: { city: "Oslo", zip: "0150" } };
    expect(decide([doc])).toEqual(["jsonb"]);
    expect(reasonOf([doc])).toBe("nested objects at address");
  });

  it("stores an array of objects as jsonb", () => {
    const order = { id: 1, lines: [{ sku: "a", qty: 2 }] };
    expect(decide([order])).toEqual(["jsonb"]);
    expect(reasonOf([order])).toContain("arrays of objects at lines");
  });

  it("stores an array of scalars as jsonb", () => {
    expect(reasonOf([{ id: 1, tags: ["a", "b"] }])).toBe("array values at tags");
  });

  it("stores documents with heterogeneous keys as jsonb", () => {
    const docs = [
      { id: 1, name: "Ada", email: "a@x" },
      { id: 2, name: "Bob", email: "b@x" },
      { sku: "X-1", weight: 3, color: "red" },
    ];
    expect(decide(docs)).toEqual(["sql", "sql", "jsonb"]);
    expect(reasonOf(docs, 2)).toContain(
      "heterogeneous keys: 3 of its 3 fields (sku, weight, color)",
    );
  });

  it("stores a sparse document (most common fields missing) as jsonb", () => {
    const full = { id: 1, name: "n", email: "e", phone: "p" };
    const docs = [full, { ...full, id: 2 }, { ...full, id: 3 }, { id: 4 }];
    expect(decide(docs)).toEqual(["sql", "sql", "sql", "jsonb"]);
    expect(reasonOf(docs, 3)).toBe(
      "sparse: has 1 of the 4 common fields (lacks name, email, phone)",
    );
  });

  it("tolerates a few optional fields in sql rows", () => {
    const docs = [
      { id: 1, name: "a", nickname: "x" },
      { id: 2, name: "b" },
      { id: 3, name: "c" },
    ];
    expect(decide(docs)).toEqual(["sql", "sql", "sql"]);
  });

  it("stores fields whose type varies across documents as jsonb", () => {
    const docs = [
      { id: 1, code: 10 },
      { id: 2, code: "A-10" },
      { id: 3, code: 12.5 },
    ];
    expect(decide(docs)).toEqual(["jsonb", "jsonb", "jsonb"]);
    expect(reasonOf(docs)).toBe(
      "fields whose type varies across the documents: code (number, string)",
    );
  });

  it("does not count null or integer-vs-fraction as a type conflict", () => {
    expect(decide([{ v: 1 }, { v: 2.5 }, { v: null }])).toEqual(["sql", "sql", "sql"]);
  });

  it("stores non-objects and empty objects as jsonb", () => {
    expect(analyzeDocuments([[1, 2], "text", {}]).documents.map((d) => d.reason)).toEqual([
      "the document is an array, not an object with fields",
      "the document is a string, not an object with fields",
      "the object has no fields",
    ]);
  });

  it("reports fields, depth and index for every document", () => {
    const result = analyzeDocuments([{ a: 1 }, { a: { b: 2 } }]);
    expect(result.documents[1]).toMatchObject({
      index: 1,
      depth: 2,
      fields: { a: "object", "a.b": "integer" },
    });
    expect(result.summary).toEqual({ sql: 0, jsonb: 2 });
  });
});
