import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

/** Output kept per child for error messages, in characters. */
const outputLimit = 16_384;

/** Children still running: killed if the bench exits without stopping them. */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** A Node child process running a bench entry point, with an IPC channel. */
export interface NodeChild {
  readonly name: string;
  readonly pid: number | undefined;
  /** Resolves with the exit code (or signal name) once the child exits. */
  readonly exited: Promise<number | string>;
  running(): boolean;
  /** The last lines the child printed. */
  output(): string;
  send(message: unknown): void;
  /** Calls `listener` with every IPC message from the child. */
  onMessage(listener: (message: unknown) => void): void;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `entry` (a `.ts` file) on this Node with the workspace's source condition, an IPC channel,
 * and `env` as its whole environment.
 */
export function forkChild(name: string, entry: string, env: NodeJS.ProcessEnv): NodeChild {
  const child = fork(entry, [], {
    execArgv: ["--conditions=conveyor-source"],
    env,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  live.add(child);
  let output = "";
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-outputLimit);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  let isRunning = true;
  const exited = new Promise<number | string>((resolve) => {
    child.once("error", (err) => {
      output += `\nspawn failed: ${err.message}`;
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
    send: (message) => {
      if (isRunning && child.connected) child.send(message as object);
    },
    onMessage: (listener) => {
      child.on("message", listener);
    },
    async stop(graceMs = 10_000) {
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
