import type { JobTypeDescriptor } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";

import { payloadIssues, schemaProblem } from "./payload-schema.ts";

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
