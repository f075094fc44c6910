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
