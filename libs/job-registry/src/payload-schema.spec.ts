import type { JobTypeDescriptor } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { backtrackingPatterns, payloadIssues, schemaProblem } from "./payload-schema.ts";

/** A schema as zod's `.meta({ $id })` emits it, read anew as every KV revision is. */
const schemaWithId = () =>
  JSON.parse(
    JSON.stringify({
      $id: "https://example.com/invoice.json",
      type: "object",
      properties: { amount: { type: "number" } },
      required: ["amount"],
    }),
  ) as Record<string, unknown>;

const descriptor = () => ({ payloadSchema: schemaWithId() }) as unknown as JobTypeDescriptor;

describe("payload schemas with an $id", () => {
  it("compile for every descriptor read of the type, not only the first", () => {
    const first = descriptor();
    const again = descriptor();
    expect(payloadIssues(first, { amount: 1 })).toEqual([]);
    expect(payloadIssues(again, {})).toEqual([{ path: "payload.amount", message: "required" }]);
    expect(payloadIssues(first, { amount: "1" })).toMatchObject([{ path: "payload.amount" }]);
  });

  it("can be checked any number of times", () => {
    expect(schemaProblem(schemaWithId())).toBeUndefined();
    expect(schemaProblem(schemaWithId())).toBeUndefined();
  });
});

describe("payload schemas compiled apart from one another", () => {
  it("lets one type's root $id be another type's nested $id, whichever is compiled first", () => {
    const nested = {
      type: "object",
      properties: { to: { $id: "urn:example:address", type: "string" } },
    };
    expect(schemaProblem(nested)).toBeUndefined();
    expect(schemaProblem({ $id: "urn:example:address", type: "string" })).toBeUndefined();
  });

  it("keeps compiling after a schema whose $id is the meta-schema's own", () => {
    schemaProblem({ $id: "https://json-schema.org/draft/2020-12/schema" });
    expect(schemaProblem({ type: "object" })).toBeUndefined();
    expect(
      schemaProblem({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "string" }),
    ).toBeUndefined();
  });

  it("still refuses a schema that is not a JSON Schema, saying why", () => {
    expect(schemaProblem({ type: 12 })).toContain("type");
  });

  it("refuses an asynchronous ($async) schema, whose validator would accept every payload", () => {
    expect(schemaProblem({ $async: true, type: "object", required: ["a"] })).toContain("$async");
    const asyncType = {
      payloadSchema: { $async: true, type: "object", required: ["a"] },
    } as unknown as JobTypeDescriptor;
    expect(() => payloadIssues(asyncType, {})).toThrow(/\$async/);
  });
});

describe("payload issues of record keys", () => {
  it("names the key a record's key schema refuses, and a key unevaluatedProperties refuses", () => {
    const labels = {
      payloadSchema: {
        type: "object",
        properties: {
          labels: { type: "object", propertyNames: { enum: ["en", "fr"] } },
          meta: { type: "object", properties: { a: {} }, unevaluatedProperties: false },
        },
      },
    } as unknown as JobTypeDescriptor;
    const issues = payloadIssues(labels, { labels: { en: "x", de: "y" }, meta: { a: 1, b: 2 } });
    const paths = issues.map((issue) => issue.path);
    expect(paths).toContain("payload.labels.de");
    expect(paths).toContain("payload.meta.b");
    expect(issues.find((issue) => issue.path === "payload.meta.b")?.message).toBe("unknown field");
  });
});

describe("payload patterns", () => {
  // On V8's backtracking engine each of these checks takes longer than the age of the universe.
  const slugs = {
    payloadSchema: {
      type: "object",
      properties: { title: { type: "string", pattern: String.raw`^(\w+\s?)*$` } },
      patternProperties: { [String.raw`^(a|a)*x$`]: { type: "number" } },
    },
  } as unknown as JobTypeDescriptor;

  it("check a client's string in linear time, whatever the pattern", () => {
    const title = `${"word ".repeat(10_000)}!`;
    expect(payloadIssues(slugs, { title })).toEqual([
      { path: "payload.title", message: String.raw`must match pattern "^(\w+\s?)*$"` },
    ]);
    expect(payloadIssues(slugs, { title: "a fine title", [`${"a".repeat(5_000)}x`]: "n" })).toEqual(
      [{ path: `payload.${"a".repeat(5_000)}x`, message: "must be number" }],
    );
    expect(payloadIssues(slugs, { [`${"a".repeat(5_000)}y`]: "n" })).toEqual([]);
  });

  it("name the patterns that run on a backtracking engine, and only those", () => {
    const schema = z.toJSONSchema(
      z.object({ host: z.hostname(), email: z.email(), code: z.string().regex(/^(a)\1$/) }),
    );
    expect(backtrackingPatterns(schema)).toEqual([
      (schema.properties?.host as { pattern: string }).pattern,
      String.raw`^(a)\1$`,
    ]);
    expect(backtrackingPatterns(slugs.payloadSchema as Record<string, unknown>)).toEqual([]);
  });
});
