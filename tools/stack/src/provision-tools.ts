import { createHash } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { mkdir, readFile, readdir, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { delimiter, join, relative } from "node:path";

import { workspaceRoot } from "@conveyor/testing";

import { ProvisionError } from "./errors.ts";
import { Pins } from "./pins.ts";
import { runCommand } from "./run-command.ts";
import { goModRequirement, parseVersion } from "./versions.ts";

/** Options of {@link provisionTools}. */
export interface ProvisionOptions {
  /** The workspace root, which holds `.tools/`. @default the root above this package */
  workspace?: string;
  /** Environment for PATH lookups and `go`. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Where progress lines go. @default stderr */
  log?: (line: string) => void;
}

/** Absolute paths of the provisioned binaries. */
export interface ProvisionedTools {
  natsServer: string;
  ferretdb: string;
  natsCli: string;
}

interface Tool {
  binary: string;
  /** The pinned version, for messages. */
  version: string;
  /** What the stamp file must say for a `.tools/bin` binary to be current. */
  stamp: string;
  /** Whether a binary's own `--version` is trusted to prove it current. */
  selfReports: boolean;
  /** Whether a binary of the pinned version found on PATH will do instead of building one. */
  fromPath: boolean;
  build(binDir: string): Promise<void>;
}

/**
 * Ensures the pinned nats-server, FerretDB and `nats` CLI are in `<workspace>/.tools/bin`, building
 * with Go what is missing or of another version. A binary on PATH is used instead only when its
 * version is the pinned one, and never for FerretDB (ours embeds it with flags of its own). Idempotent and quick when everything is current.
 */
export async function provisionTools(options: ProvisionOptions = {}): Promise<ProvisionedTools> {
  return ensureTools(options, serverTools);
}

async function serverTools(
  workspace: string,
  go: GoRunner,
): Promise<Record<keyof ProvisionedTools, Tool>> {
  return {
    natsServer: goInstallTool(Pins.natsServer, go),
    ferretdb: await ferretdbTool(workspace, go),
    natsCli: goInstallTool(Pins.natsCli, go),
  };
}

/** What `npm run bench` needs besides {@link ProvisionedTools}. */
export interface ProvisionedBenchTools extends ProvisionedTools {
  vegeta: string;
}

/** {@link provisionTools}, plus the load generator only the bench uses (`Pins.vegeta`). */
export async function provisionBenchTools(
  options: ProvisionOptions = {},
): Promise<ProvisionedBenchTools> {
  return ensureTools(options, async (workspace, go) => ({
    ...(await serverTools(workspace, go)),
    // A `go install` build of vegeta prints an empty version: its stamp proves it current.
    vegeta: goInstallTool(Pins.vegeta, go, { selfReports: false }),
  }));
}

async function ensureTools<K extends string>(
  options: ProvisionOptions,
  toolsOf: (workspace: string, go: GoRunner) => Promise<Record<K, Tool>>,
): Promise<Record<K, string>> {
  const workspace = options.workspace ?? workspaceRoot(import.meta.dirname);
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const binDir = join(workspace, ".tools", "bin");
  const stampDir = join(workspace, ".tools", "stamps");
  const tools = await toolsOf(workspace, goRunner(env, log));
  const paths: Partial<Record<K, string>> = {};
  for (const [key, tool] of Object.entries(tools) as [K, Tool][]) {
    paths[key] = await ensureTool(tool, { binDir, stampDir, env, log, workspace });
  }
  return paths as Record<K, string>;
}

interface EnsureContext {
  binDir: string;
  stampDir: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  workspace: string;
}

async function ensureTool(tool: Tool, ctx: EnsureContext): Promise<string> {
  const local = join(ctx.binDir, tool.binary);
  const stampFile = join(ctx.stampDir, tool.binary);
  let staleVersion: string | undefined;
  if (isExecutable(local)) {
    if ((await readStamp(stampFile)) === tool.stamp) return local;
    if (tool.selfReports) {
      staleVersion = await reportedVersion(local);
      if (staleVersion === tool.version) {
        await writeStamp(stampFile, tool.stamp);
        return local;
      }
    }
  }
  const onPath = tool.fromPath ? findOnPath(tool.binary, ctx.env, ctx.binDir) : undefined;
  if (onPath !== undefined && (await reportedVersion(onPath)) === tool.version) {
    ctx.log(`provision: using ${onPath} (${tool.binary} ${tool.version})`);
    if (isExecutable(local) && (await realpath(local)) !== (await realpath(onPath))) {
      // The test harness, and the README's `.tools/bin/nats`, look in .tools/bin first: a build
      // of another version left there would be run. It becomes a link to the one used.
      const was = staleVersion === undefined ? "an unstamped build" : `a build of ${staleVersion}`;
      ctx.log(`provision: linking ${relative(ctx.workspace, local)} to it, in place of ${was}`);
      await rm(local, { force: true });
      await rm(stampFile, { force: true });
      await symlink(onPath, local);
    }
    return onPath;
  }
  ctx.log(
    `provision: building ${tool.binary} ${tool.version} into ${relative(ctx.workspace, ctx.binDir)}/`,
  );
  await mkdir(ctx.binDir, { recursive: true });
  await tool.build(ctx.binDir);
  if (tool.selfReports) {
    const built = await reportedVersion(local);
    if (built !== tool.version) {
      throw new ProvisionError(
        tool.binary,
        `built ${tool.binary} reports ${built ?? "no version"}, expected ${tool.version}`,
      );
    }
  }
  await writeStamp(stampFile, tool.stamp);
  return local;
}

type GoRunner = (
  args: readonly string[],
  opts: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    what: string;
    /** Whether a binary of the pinned version on PATH would do instead of a build. */
    fromPath: boolean;
  },
) => Promise<void>;

function goRunner(env: NodeJS.ProcessEnv, log: (line: string) => void): GoRunner {
  return async (args, opts) => {
    let result;
    try {
      result = await runCommand("go", args, { cwd: opts.cwd, env: { ...env, ...opts.env } });
    } catch (err) {
      throw new ProvisionError(
        "go",
        `Go is required to build ${opts.what} but \`go\` was not found on PATH. Install Go 1.24 or ` +
          `later (https://go.dev/dl; a distribution's package may be older: check \`go version\`)` +
          (opts.fromPath ? `, or put ${opts.what} on PATH.` : "."),
        { cause: err },
      );
    }
    if (result.code !== 0) {
      log(result.output.trimEnd());
      throw new ProvisionError(
        opts.what.split(" ")[0] ?? "go",
        `\`go ${args.join(" ")}\` failed (exit ${String(result.code)}) while building ${opts.what}:\n${tail(result.output)}`,
      );
    }
  };
}

function goInstallTool(
  pin: { binary: string; module: string; version: string },
  go: GoRunner,
  { selfReports = true }: { selfReports?: boolean } = {},
): Tool {
  return {
    binary: pin.binary,
    version: pin.version,
    stamp: `${pin.module}@${pin.version}`,
    selfReports,
    // Built from the upstream module: an upstream binary of the pinned version is the same.
    fromPath: true,
    build: (binDir) =>
      go(["install", `${pin.module}@${pin.version}`], {
        env: { GOBIN: binDir },
        what: `${pin.binary} ${pin.version}`,
        fromPath: true,
      }),
  };
}

/**
 * What the ferretdb stamp must say: the pinned version and a hash of deploy/ferretdb's source (its
 * go.mod, go.sum and every `.go` file), so an edit there rebuilds it. Throws when go.mod does not
 * require the pinned version.
 */
export async function ferretdbStamp(workspace: string): Promise<string> {
  const pin = Pins.ferretdb;
  const sourceDir = join(workspace, pin.sourceDir);
  const hash = createHash("sha256");
  let goMod = "";
  // Every Go file counts: tests too, which only costs a rebuild when one of them is edited.
  const goFiles = (await readdir(sourceDir).catch(() => [])).filter((f) => f.endsWith(".go"));
  for (const file of ["go.mod", "go.sum", ...goFiles.sort()]) {
    const text = await readFile(join(sourceDir, file), "utf8").catch((err: unknown) => {
      throw new ProvisionError(pin.binary, `cannot read ${pin.sourceDir}/${file}`, { cause: err });
    });
    if (file === "go.mod") goMod = text;
    hash.update(`${file}\0${text}\0`);
  }
  const required = goModRequirement(goMod, pin.module);
  if (required !== pin.version) {
    throw new ProvisionError(
      pin.binary,
      `${pin.sourceDir}/go.mod requires ${pin.module} ${required ?? "(missing)"}, but the pin is ${pin.version}`,
    );
  }
  return `${pin.module}@${pin.version} source:${hash.digest("hex").slice(0, 16)}`;
}

async function ferretdbTool(workspace: string, go: GoRunner): Promise<Tool> {
  const pin = Pins.ferretdb;
  return {
    binary: pin.binary,
    version: pin.version,
    stamp: await ferretdbStamp(workspace),
    // Our embedding binary has no --version. An upstream FerretDB of the pinned version (its .deb
    // prints one) takes other flags and lacks our build's changes, so PATH never supplies it.
    selfReports: false,
    fromPath: false,
    build: (binDir) =>
      go(["build", "-buildvcs=false", "-o", join(binDir, pin.binary), "."], {
        cwd: join(workspace, pin.sourceDir),
        what: `${pin.binary} ${pin.version}`,
        fromPath: false,
      }),
  };
}

async function reportedVersion(binary: string): Promise<string | undefined> {
  try {
    const result = await runCommand(binary, ["--version"]);
    return result.code === 0 ? parseVersion(result.output) : undefined;
  } catch {
    return undefined;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(binary: string, env: NodeJS.ProcessEnv, exclude: string): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "" || dir === exclude) continue;
    const candidate = join(dir, binary);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function readStamp(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    return undefined;
  }
}

async function writeStamp(file: string, stamp: string): Promise<void> {
  await mkdir(join(file, ".."), { recursive: true });
  await writeFile(file, `${stamp}\n`);
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
