import { readFileSync } from "node:fs";
import { join } from "node:path";

import { workspaceRoot } from "@conveyor/testing";
import { describe, expect, it } from "vitest";

import { Pins } from "./pins.ts";
import { goModRequirement, parseVersion } from "./versions.ts";

describe("parseVersion", () => {
  it.each([
    ["nats-server: v2.14.9\n", "v2.14.9"],
    ["v0.5.1\n", "v0.5.1"],
    ["version: v1.24.2\ncommit: abc\n", "v1.24.2"],
    ["nats-server: v2.15.0-beta.1", "v2.15.0-beta.1"],
    ["1.2.3", "v1.2.3"],
  ])("reads %j as %s", (output, version) => {
    expect(parseVersion(output)).toBe(version);
  });

  it("returns undefined when the output names no version", () => {
    expect(parseVersion("flag provided but not defined: -version")).toBeUndefined();
    expect(parseVersion("")).toBeUndefined();
  });
});

describe("goModRequirement", () => {
  it("finds a requirement in a require block or on a require line", () => {
    const block =
      "module x\n\nrequire (\n\tgithub.com/a/b v1.2.3\n\tgithub.com/a/bc v9.9.9 // indirect\n)\n";
    expect(goModRequirement(block, "github.com/a/b")).toBe("v1.2.3");
    expect(goModRequirement("require github.com/a/b v0.1.0\n", "github.com/a/b")).toBe("v0.1.0");
    expect(goModRequirement(block, "github.com/a")).toBeUndefined();
  });

  it("deploy/ferretdb/go.mod requires the pinned FerretDB version", () => {
    const goMod = readFileSync(join(workspaceRoot(), Pins.ferretdb.sourceDir, "go.mod"), "utf8");
    expect(goModRequirement(goMod, Pins.ferretdb.module)).toBe(Pins.ferretdb.version);
  });
});
