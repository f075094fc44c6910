import { describe, expect, it } from "vitest";

import { describeDocument, jsonTypeOf } from "./document-shape.ts";

describe("describeDocument", () => {
  it("lists the fields of a flat row with their types, depth 1", () => {
    const shape = describeDocument({ id: 7, name: "Ada", score: 9.5, active: true, note: null });
    expect(shape).toMatchObject({
      kind: "object",
      depth: 1,
      fields: { active: "boolean", id: "integer", name: "string", note: "null", score: "number" },
      nestedObjects: [],
      objectArrays: [],
    });
  });

  it("names nested object paths and counts their depth", () => {
    const shape = describeDocument({ id: 1, address: { city: "Oslo", geo: { lat: 59.9 } } });
    expect(shape.fields).toEqual({
      id: "integer",
      address: "object",
      "address.city": "string",
      "address.geo": "object",
      "address.geo.lat": "number",
    });
    expect(shape.depth).toBe(3);
    expect(shape.nestedObjects).toEqual(["address", "address.geo"]);
  });

  it("describes arrays of objects with [] paths and mixed element types", () => {
    const shape = describeDocument({
      items: [
        { sku: "a", qty: 1 },
        { sku: "b", qty: null },
      ],
      tags: ["x"],
    });
    expect(shape.fields).toMatchObject({
      items: "array",
      "items[]": "object",
      "items[].sku": "string",
      "items[].qty": "integer|null",
      "tags[]": "string",
    });
    expect(shape.objectArrays).toEqual(["items"]);
    expect(shape.scalarArrays).toEqual(["tags"]);
    expect(shape.nestedObjects).toEqual([]);
    expect(shape.depth).toBe(3);
  });

  it("describes scalars and top-level arrays", () => {
    expect(describeDocument("text")).toMatchObject({ kind: "string", depth: 0, fields: {} });
    expect(describeDocument([{ a: 1 }])).toMatchObject({
      kind: "array",
      objectArrays: ["(root)"],
      depth: 2,
    });
  });

  it("survives very deep nesting without exhausting the stack", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = { d: deep };
    const shape = describeDocument(deep);
    expect(shape.depth).toBe(20_000);
    expect(Object.keys(shape.fields)).toHaveLength(32);
  });
});

describe("jsonTypeOf", () => {
  it("tells integers from other numbers", () => {
    expect([1, 1.5, -0, 1e21].map(jsonTypeOf)).toEqual(["integer", "number", "integer", "integer"]);
  });

  it("names a field called __proto__ like any other: keys are data", () => {
    const shape = describeDocument(JSON.parse('{"__proto__":1,"id":2}'));
    expect(JSON.stringify(shape.fields)).toBe('{"__proto__":"integer","id":"integer"}');
  });
});
