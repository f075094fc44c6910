import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { workspaceRoot } from "@conveyor/testing";
import { describe, expect, it } from "vitest";

import { serviceNames, serviceNodeOptions, serviceOwnNodeOptions } from "./service-process.ts";
import type { ServiceName } from "./service-process.ts";

describe("serviceNodeOptions", () => {
  it("are what the container image's entrypoint gives node", async () => {
    const dockerfile = await readFile(join(workspaceRoot(), "deploy", "Dockerfile"), "utf8");
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(entrypoint).toBeDefined();
    expect(JSON.parse(entrypoint ?? "[]")).toEqual(["node", ...serviceNodeOptions]);
  });

  it.each(serviceNames)(
    "%s gets its own options first in its k8s args and its compose command",
    async (name: ServiceName) => {
      const entry = `services/${name}/dist/main.js`;
      const expected = [...serviceOwnNodeOptions(name), entry];
      const manifest = await readFile(join(workspaceRoot(), "k8s", "base", `${name}.yaml`), "utf8");
      const args = /^\s*args: (\[.*\])$/m.exec(manifest)?.[1];
      expect(JSON.parse(args ?? "[]")).toEqual(expected);
      const compose = await readFile(join(workspaceRoot(), "docker-compose.yml"), "utf8");
      const commands = [...compose.matchAll(/^\s*command: (\[.*\])$/gm)].map(
        (m) => JSON.parse(m[1] ?? "[]") as string[],
      );
      expect(commands.filter((c) => c.includes(entry))).toEqual([expected]);
    },
  );

  it("gives collection on one thread to the services on a job's path only", () => {
    expect(
      serviceNames.filter((n) => serviceOwnNodeOptions(n).includes("--single-threaded-gc")),
    ).toEqual(["gateway", "dispatcher", "worker"]);
  });
});
