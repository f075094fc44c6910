import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { workspaceRoot } from "@conveyor/testing";
import { describe, expect, it } from "vitest";

import { serviceNodeOptions } from "./service-process.ts";

describe("serviceNodeOptions", () => {
  it("are what the container image's entrypoint gives node", async () => {
    const dockerfile = await readFile(join(workspaceRoot(), "deploy", "Dockerfile"), "utf8");
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(entrypoint).toBeDefined();
    expect(JSON.parse(entrypoint ?? "[]")).toEqual(["node", ...serviceNodeOptions]);
  });
});
