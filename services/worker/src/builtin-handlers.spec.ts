import { describe, expect, it } from "vitest";
import { z } from "zod";

import { builtinHandlers } from "./builtin-handlers.ts";

describe("builtinHandlers", () => {
  it("offers echo, sleep, flaky and json.analyze", () => {
    expect(Object.keys(builtinHandlers).sort()).toEqual(["echo", "flaky", "json.analyze", "sleep"]);
  });

  it("gives every type a schema that converts to JSON Schema for the registry", () => {
    for (const definition of Object.values(builtinHandlers)) {
      expect(definition.schema).toBeDefined();
      expect(() => z.toJSONSchema(definition.schema!, { io: "input" })).not.toThrow();
    }
  });
});
