import { fork } from "node:child_process";

import { superviseChild } from "@conveyor/testing";
import type { ServerProcess } from "@conveyor/testing";

/** A Node child process running a bench entry point, with an IPC channel. */
export interface NodeChild extends ServerProcess {
  send(message: unknown): void;
  /** Calls `listener` with every IPC message from the child. */
  onMessage(listener: (message: unknown) => void): void;
  /** SIGTERM, then SIGKILL after `graceMs` (default 10 s). */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `entry` (a `.ts` file) on this Node with the workspace's source condition, an IPC channel,
 * and `env` as its whole environment. Its output is kept and it is killed if the bench exits
 * without stopping it, as the servers are (`superviseChild` of `@conveyor/testing`).
 */
export function forkChild(name: string, entry: string, env: NodeJS.ProcessEnv): NodeChild {
  const child = fork(entry, [], {
    execArgv: ["--conditions=conveyor-source"],
    env,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const supervised = superviseChild(name, child);
  return {
    name,
    pid: supervised.pid,
    exited: supervised.exited,
    running: () => supervised.running(),
    output: () => supervised.output(),
    send: (message) => {
      if (supervised.running() && child.connected) child.send(message as object);
    },
    onMessage: (listener) => {
      child.on("message", listener);
    },
    stop: (graceMs = 10_000) => supervised.stop(graceMs),
  };
}
