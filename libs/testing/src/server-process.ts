import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

import { ServerStartError, WaitTimeoutError } from "./errors.ts";
import { assertNiceness, niceCommand, niceSession } from "./niceness.ts";
import { waitFor } from "./wait-for.ts";

/** Output kept per process for error messages, in characters. */
const outputLimit = 16_384;

/** Every server this process started and has not seen exit: killed if the test process exits. */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** Where util-linux's `setpriv` is on Linux systems. */
const setprivLocations = ["/usr/bin/setpriv", "/bin/setpriv"];
/**
 * `setpriv`, when it is there and knows `--pdeathsig` (util-linux 2.33 and later). Asked on the
 * first spawn, not when the module loads: every process importing this package would pay for
 * running `setpriv --help`, most of them never spawning anything.
 */
let setprivPath: string | null | undefined;
function setpriv(): string | undefined {
  if (setprivPath === undefined) {
    const path =
      process.platform === "linux"
        ? setprivLocations.find((candidate) => existsSync(candidate))
        : undefined;
    const help = path === undefined ? undefined : spawnSync(path, ["--help"], { encoding: "utf8" });
    setprivPath =
      path !== undefined && `${help?.stdout ?? ""}${help?.stderr ?? ""}`.includes("--pdeathsig")
        ? path
        : null;
  }
  return setprivPath ?? undefined;
}

/**
 * The command run so that the kernel sends it SIGTERM when this process dies (`setpriv
 * --pdeathsig`, which then execs it: same pid, niceness and session). The `exit` hook above does
 * not run when this process is killed outright (SIGKILL from the OOM killer or `kill -9`, a
 * test runner ending a worker with SIGTERM), and a server left running then holds its port and
 * its data directory, which the next `npm start` would start a second server on. Unchanged where
 * `setpriv` does not exist (macOS): there only the hook stops the servers.
 */
function dyingWithParent([command, args]: [string, string[]]): [string, string[]] {
  const wrapper = setpriv();
  return wrapper === undefined
    ? [command, args]
    : [wrapper, ["--pdeathsig", "TERM", command, ...args]];
}

/** A server child process with its recent output. */
export interface ServerProcess {
  /** The binary's file name, for messages. */
  readonly name: string;
  /** The process id (undefined when spawning failed). */
  readonly pid: number | undefined;
  /** Resolves with the exit code (or the signal's name) when the process exits. */
  readonly exited: Promise<number | string>;
  /** Whether the process is still running. */
  running(): boolean;
  /** The last {@link outputLimit} characters of stdout and stderr. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link spawnServer}. */
export interface SpawnServerOptions {
  /** Called with every chunk of stdout and stderr, e.g. to show the server's log. */
  onOutput?: (text: string, stream: "stdout" | "stderr") => void;
  /** Working directory. @default the current one */
  cwd?: string;
  /** The child's whole environment. @default process.env */
  env?: NodeJS.ProcessEnv;
  /**
   * Run in its own process group, so a terminal's Ctrl-C reaches only the parent, which then
   * stops the server in its own order. @default false
   */
  detached?: boolean;
  /**
   * How much nicer than this process the server runs, 0-19: it yields the CPU to the others when
   * they compete for it. Through `nice -n` (see {@link niceCommand}); a `detached` server's whole
   * session gets it too (see {@link niceSession}). @default 0, this process's niceness
   */
  niceness?: number;
}

/** Starts `binary` with `args`, capturing its output. */
export function spawnServer(
  name: string,
  binary: string,
  args: readonly string[],
  options: SpawnServerOptions = {},
): ServerProcess {
  const niceness = options.niceness ?? 0;
  assertNiceness(niceness);
  const detached = options.detached ?? false;
  const [command, commandArgs] = dyingWithParent(
    niceness > 0 ? niceCommand(name, binary, args, niceness) : [binary, [...args]],
  );
  const child = spawn(command, commandArgs, {
    stdio: ["ignore", "pipe", "pipe"],
    detached,
    cwd: options.cwd,
    env: options.env,
  });
  // A detached child has called setsid() by now: spawn returns once it has exec'd.
  if (niceness > 0 && detached && child.pid !== undefined) niceSession(child.pid, niceness);
  return superviseChild(name, child, options.onOutput);
}

/**
 * Watches a child process started with piped stdout and stderr (`spawn` or `fork`): keeps its
 * recent output, tells when it exits, stops it, and kills it if this process exits first.
 */
export function superviseChild(
  name: string,
  child: ChildProcess,
  onOutput?: (text: string, stream: "stdout" | "stderr") => void,
): ServerProcess {
  live.add(child);
  let output = "";
  const append = (chunk: Buffer, stream: "stdout" | "stderr") => {
    const text = chunk.toString("utf8");
    output = (output + text).slice(-outputLimit);
    onOutput?.(text, stream);
  };
  child.stdout?.on("data", (chunk: Buffer) => {
    append(chunk, "stdout");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    append(chunk, "stderr");
  });
  let isRunning = true;
  const exited = new Promise<number | string>((resolve) => {
    child.once("error", (err) => {
      append(Buffer.from(`spawn failed: ${err.message}\n`), "stderr");
      isRunning = false;
      live.delete(child);
      resolve("spawn-error");
    });
    child.once("exit", (code, signal) => {
      isRunning = false;
      live.delete(child);
      resolve(code ?? signal ?? "unknown");
    });
  });
  return {
    name,
    pid: child.pid,
    exited,
    running: () => isRunning,
    output: () => output,
    async stop(graceMs = 5000) {
      if (!isRunning) return;
      child.kill("SIGTERM");
      const done = await Promise.race([exited.then(() => true), sleep(graceMs, false)]);
      if (!done) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/**
 * Waits until `probe` succeeds, failing fast (with the process's output) if the process exits
 * first. On failure the process is stopped.
 */
export async function waitUntilReady(
  server: ServerProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const exitedEarly = async (): Promise<never> => {
    const code = await server.exited;
    throw new ServerStartError(
      server.name,
      `exited with ${String(code)} before it was ready`,
      server.output(),
    );
  };
  try {
    await Promise.race([
      // Once the process is gone the probe reports "done" so polling stops; the race has
      // already been decided by exitedEarly.
      waitFor(async () => !server.running() || (await probe()), {
        timeoutMs,
        intervalMs: 100,
        message: `${server.name} did not become ready`,
      }),
      exitedEarly(),
    ]);
    if (!server.running()) await exitedEarly();
  } catch (err) {
    await server.stop();
    if (err instanceof WaitTimeoutError) {
      throw new ServerStartError(server.name, err.message, server.output(), { cause: err.cause });
    }
    throw err;
  }
}
