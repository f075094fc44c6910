import { chmod, cp, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { workspaceRoot } from "@conveyor/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { ProvisionError } from "./errors.ts";
import { Pins } from "./pins.ts";
import { ferretdbStamp, provisionBenchTools, provisionTools } from "./provision-tools.ts";

/** A throwaway workspace with deploy/ferretdb copied in and fake binaries, so no Go build runs. */
let ws: string;
let pathDir: string;
const logs: string[] = [];
const log = (line: string) => logs.push(line);

async function fakeBinary(dir: string, name: string, versionOutput: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), `#!/bin/sh\necho "${versionOutput}"\n`);
  await chmod(join(dir, name), 0o755);
}

/**
 * Fills `.tools/bin` with fakes of the pinned versions and stamps ferretdb as built from the
 * workspace's source, so nothing needs building; returns the bin folder.
 */
async function currentToolsBin(): Promise<string> {
  const bin = join(ws, ".tools", "bin");
  await fakeBinary(bin, "nats-server", `nats-server: ${Pins.natsServer.version}`);
  await fakeBinary(bin, "nats", Pins.natsCli.version);
  await fakeBinary(bin, "ferretdb", "no version flag");
  await mkdir(join(ws, ".tools", "stamps"), { recursive: true });
  await writeFile(join(ws, ".tools", "stamps", "ferretdb"), `${await ferretdbStamp(ws)}\n`);
  return bin;
}

async function currentStamp(name: string): Promise<string> {
  return (await readFile(join(ws, ".tools", "stamps", name), "utf8")).trim();
}

beforeEach(async () => {
  ws = await mkdtemp(join(tmpdir(), "conveyor-ws-"));
  pathDir = join(ws, "path-bin");
  await cp(join(workspaceRoot(), Pins.ferretdb.sourceDir), join(ws, Pins.ferretdb.sourceDir), {
    recursive: true,
  });
  logs.length = 0;
});

afterEach(async () => {
  await rm(ws, { recursive: true, force: true });
});

describe("provisionTools", () => {
  it("fails with a clear message when a build is needed and Go is missing", async () => {
    const err = await provisionTools({ workspace: ws, env: { PATH: pathDir }, log }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProvisionError);
    expect((err as ProvisionError).tool).toBe("go");
    expect((err as Error).message).toMatch(/Go is required to build nats-server v2\.14\.9/);
    expect((err as Error).message).toMatch(/or put nats-server v2\.14\.9 on PATH\.$/);
  });

  it("keeps current .tools binaries: self-reported versions for nats, the stamp for ferretdb", async () => {
    const bin = await currentToolsBin();

    const tools = await provisionTools({ workspace: ws, env: { PATH: pathDir }, log });
    expect(tools).toEqual({
      natsServer: join(bin, "nats-server"),
      ferretdb: join(bin, "ferretdb"),
      natsCli: join(bin, "nats"),
    });
    expect(logs.filter((l) => l.includes("building"))).toEqual([]);
    expect(await currentStamp("nats")).toBe(`${Pins.natsCli.module}@${Pins.natsCli.version}`);
  });

  it.each([
    ["main.go is edited", "main.go", "package main // edited\n"],
    ["another Go file of the module is added", "extra.go", "package main // added\n"],
  ])("rebuilds ferretdb when %s since the stamp", async (_, file, text) => {
    await currentToolsBin();

    await writeFile(join(ws, Pins.ferretdb.sourceDir, file), text);
    const err = await provisionTools({ workspace: ws, env: { PATH: pathDir }, log }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/Go is required to build ferretdb/);
    // Never taken from PATH: an upstream FerretDB lacks our build's changes.
    expect((err as Error).message).not.toMatch(/on PATH\.$/);
  });

  it("rebuilds a .tools binary that reports another version", async () => {
    await fakeBinary(join(ws, ".tools", "bin"), "nats-server", "nats-server: v2.10.0");
    await expect(provisionTools({ workspace: ws, env: { PATH: pathDir }, log })).rejects.toThrow(
      /Go is required to build nats-server/,
    );
  });

  it("uses a PATH binary only when its version is the pinned one", async () => {
    await fakeBinary(pathDir, "nats-server", `nats-server: ${Pins.natsServer.version}`);
    await fakeBinary(pathDir, "nats", "v0.0.1");
    const err = await provisionTools({ workspace: ws, env: { PATH: pathDir }, log }).catch(
      (e: unknown) => e,
    );
    expect(logs).toContain(
      `provision: using ${join(pathDir, "nats-server")} (nats-server ${Pins.natsServer.version})`,
    );
    // ferretdb is next and has no usable copy, so the build (and the missing Go) is reached.
    expect((err as Error).message).toMatch(/Go is required to build ferretdb/);
  });

  it("links .tools/bin to the pinned build it uses from PATH, in place of a stale one, so the tests run that", async () => {
    // The test harness looks in .tools/bin before PATH (findBinary).
    const bin = await currentToolsBin();
    await fakeBinary(bin, "nats-server", "nats-server: v2.14.0");
    await fakeBinary(pathDir, "nats-server", `nats-server: ${Pins.natsServer.version}`);
    const tools = await provisionTools({ workspace: ws, env: { PATH: pathDir }, log });
    expect(tools.natsServer).toBe(join(pathDir, "nats-server"));
    expect(await readlink(join(bin, "nats-server"))).toBe(join(pathDir, "nats-server"));
    expect(logs).toContain(
      "provision: linking .tools/bin/nats-server to it, in place of a build of v2.14.0",
    );
    // The next run finds the link current.
    logs.length = 0;
    expect((await provisionTools({ workspace: ws, env: { PATH: pathDir }, log })).natsServer).toBe(
      join(bin, "nats-server"),
    );
    expect(logs).toEqual([]);
  });

  it("refuses a PATH binary of another version and builds the pinned one", async () => {
    await fakeBinary(pathDir, "nats-server", "nats-server: v2.10.0");
    await expect(provisionTools({ workspace: ws, env: { PATH: pathDir }, log })).rejects.toThrow(
      /Go is required to build nats-server/,
    );
    expect(logs.filter((line) => line.startsWith("provision: using"))).toEqual([]);
  });

  it("never takes ferretdb from PATH: an upstream build of the pinned version takes other flags", async () => {
    const bin = await currentToolsBin();
    await rm(join(bin, "ferretdb"));
    await fakeBinary(pathDir, "ferretdb", `version: ${Pins.ferretdb.version}`);
    const err = await provisionTools({ workspace: ws, env: { PATH: pathDir }, log }).catch(
      (e: unknown) => e,
    );
    expect(logs.join("\n")).not.toContain(join(pathDir, "ferretdb"));
    expect((err as Error).message).toMatch(/Go is required to build ferretdb/);
  });

  it("refuses a deploy/ferretdb whose go.mod disagrees with the pin", async () => {
    const goModPath = join(ws, Pins.ferretdb.sourceDir, "go.mod");
    const goMod = await readFile(goModPath, "utf8");
    await writeFile(goModPath, goMod.replace(Pins.ferretdb.version, "v1.0.0"));
    await expect(provisionTools({ workspace: ws, env: { PATH: pathDir }, log })).rejects.toThrow(
      /requires github\.com\/FerretDB\/FerretDB v1\.0\.0, but the pin is v1\.24\.2/,
    );
  });
});

describe("provisionBenchTools", () => {
  it("adds the bench's vegeta, kept by its stamp (a `go install` build reports no version)", async () => {
    const bin = await currentToolsBin();
    await fakeBinary(bin, "vegeta", "Version: ");
    await writeFile(
      join(ws, ".tools", "stamps", "vegeta"),
      `${Pins.vegeta.module}@${Pins.vegeta.version}\n`,
    );

    const tools = await provisionBenchTools({ workspace: ws, env: { PATH: pathDir }, log });
    expect(tools.vegeta).toBe(join(bin, "vegeta"));
    expect(tools.natsServer).toBe(join(bin, "nats-server"));
    expect(logs.filter((l) => l.includes("building"))).toEqual([]);
  });

  it("builds vegeta when .tools has an unstamped one", async () => {
    const bin = await currentToolsBin();
    await fakeBinary(bin, "vegeta", "Version: ");

    await expect(
      provisionBenchTools({ workspace: ws, env: { PATH: pathDir }, log }),
    ).rejects.toThrow(/Go is required to build vegeta v12\.13\.0/);
  });
});
