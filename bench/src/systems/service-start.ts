import { spawnService } from "@conveyor/stack";
import type { SpawnServiceOptions } from "@conveyor/stack";
import type { ServerProcess } from "@conveyor/testing";

import { BenchError } from "../errors.ts";

/** What a worker prints once its consumers pull: it is ready for work. */
export const workerReadyLine = '"msg":"worker started"';

/** A service being started: its process, and when it is ready. */
export interface StartingService {
  process: ServerProcess;
  /** Resolves once the service printed its ready line; rejects, with its output, if it exits first. */
  ready: Promise<void>;
}

/**
 * Spawns a service that says it is ready with a log line containing `readyLine` (a worker's
 * `"msg":"worker started"`). The process is returned at once, so that a caller can stop it
 * whether or not it gets ready.
 */
export function startService(
  options: Omit<SpawnServiceOptions, "onLine">,
  label: string,
  readyLine: string,
): StartingService {
  let printedReady: () => void = () => {};
  const printed = new Promise<void>((resolve) => {
    printedReady = resolve;
  });
  const proc = spawnService({
    ...options,
    onLine: (line) => {
      if (line.includes(readyLine)) printedReady();
    },
  });
  const exited = proc.exited.then((code) => {
    throw new BenchError(`${label} exited (${String(code)}) while starting:\n${proc.output()}`);
  });
  return { process: proc, ready: Promise.race([printed, exited]) };
}
