import type { JobTypeDescriptor } from "@conveyor/contracts";
import { describe, expect, it } from "vitest";

import { lookUpUnseenTypes, maxTypesLookedUp } from "./unseen-types.ts";

/** A registry that knows `known` and records which names it was asked to read. */
function registryKnowing(...known: string[]) {
  const asked: string[] = [];
  return {
    asked,
    get: (type: string) =>
      known.includes(type) ? ({ type } as unknown as JobTypeDescriptor) : undefined,
    lookup: (type: string) => {
      asked.push(type);
      return Promise.resolve(undefined);
    },
  };
}

describe("lookUpUnseenTypes", () => {
  it("reads only names the registry does not know, each once, and skips what is not a name", async () => {
    const registry = registryKnowing("echo");
    await lookUpUnseenTypes(registry, ["echo", "fresh", "fresh", undefined, 7, "other"]);
    expect(registry.asked).toEqual(["fresh", "other"]);
  });

  it("reads at most a few names for a bulk of made-up types", async () => {
    const registry = registryKnowing();
    await lookUpUnseenTypes(
      registry,
      Array.from({ length: 1000 }, (_, i) => `made.up.${String(i)}`),
    );
    expect(registry.asked).toHaveLength(maxTypesLookedUp);
  });
});
