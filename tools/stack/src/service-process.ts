import { join } from "node:path";

import { spawnServer, workspaceRoot } from "@conveyor/testing";
import type { ServerProcess } from "@conveyor/testing";

import { createLineSplitter } from "./line-splitter.ts";

/** The four Conveyor services, in the order `npm start` launches them. */
export const serviceNames = ["gateway", "dispatcher", "worker", "status-projector"] as const;
export type ServiceName = (typeof serviceNames)[number];

/**
 * What a service runs: its TypeScript sources (`node --conditions=conveyor-source
 * services/<name>/src/main.ts`, as `npm start` and the tests do), or the JavaScript that `nx build`
 * emits (`node services/<name>/dist/main.js`, as the container image does).
 */
export const ServiceCode = { Source: "source", Build: "build" } as const;
export type ServiceCode = (typeof ServiceCode)[keyof typeof ServiceCode];

/** How a service process is started. */
export interface ServiceCommand {
  /** The Node binary running this process (Node 24 under npm scripts and vitest). */
  command: string;
  args: string[];
  /** The workspace root, so the relative entry point and package resolution work. */
  cwd: string;
}

/**
 * V8 options every service runs with, here and in the container image (`deploy/Dockerfile`, whose
 * `ENTRYPOINT` must say the same). The services allocate fast and keep little (a few tens of MiB
 * live), and V8's defaults size their heaps for the allocation rate instead:
 *
 * - `--max-semi-space-size=16`: Node 24 grows the young generation to 64 MiB semi-spaces (128 MiB
 *   of new space) whatever the heap's limit, also in a container with a 512 MiB memory limit. At
 *   16 MiB young collections are more frequent but each copies less: in A/B runs of the bench the
 *   worker's pauses of 5 ms or more averaged 8-9 ms instead of 17, CPU per job stayed the same,
 *   and each service's peak RSS fell by 70-115 MiB.
 * - `--heap-growing-percent=50`: after a full collection the old generation may grow to 1.5 times
 *   what survived, instead of up to 4 times by V8's own estimate, so a service's RSS follows its
 *   live heap rather than how much it has processed: from a 10k to a 100k backlog every service's
 *   peak RSS then grew 1-16 % (12-54 % without), at the same CPU per job.
 *
 * Measurements in bench/README.md ("What changed").
 */
export const serviceNodeOptions: readonly string[] = [
  "--max-semi-space-size=16",
  "--heap-growing-percent=50",
];

export function serviceCommand(
  name: ServiceName,
  workspace: string = workspaceRoot(),
  code: ServiceCode = ServiceCode.Source,
): ServiceCommand {
  const entry =
    code === ServiceCode.Source
      ? ["--conditions=conveyor-source", join("services", name, "src", "main.ts")]
      : [join("services", name, "dist", "main.js")];
  return { command: process.execPath, args: [...serviceNodeOptions, ...entry], cwd: workspace };
}

/** Options of {@link spawnService}. */
export interface SpawnServiceOptions {
  name: ServiceName;
  /** The child's whole environment (NATS_URL, MONGO_URL, MONGO_DB, GATEWAY_PORT, LOG_LEVEL, ...). */
  env: NodeJS.ProcessEnv;
  /** @default the workspace root above this package */
  workspace?: string;
  /** Sources or the `nx build` output (which must exist). @default {@link ServiceCode.Source} */
  code?: ServiceCode;
  /** Called with each complete line the service prints. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** Own process group, so a terminal's Ctrl-C reaches only the parent. @default false */
  detached?: boolean;
}

/** Starts one service as its own process. Stop it with `stop()` (SIGTERM, then SIGKILL). */
export function spawnService(options: SpawnServiceOptions): ServerProcess {
  const { command, args, cwd } = serviceCommand(options.name, options.workspace, options.code);
  const onLine = options.onLine;
  const splitters = {
    stdout: createLineSplitter((line) => onLine?.(line, "stdout")),
    stderr: createLineSplitter((line) => onLine?.(line, "stderr")),
  };
  const proc = spawnServer(options.name, command, args, {
    cwd,
    env: options.env,
    detached: options.detached ?? false,
    onOutput: (text, stream) => {
      splitters[stream].write(text);
    },
  });
  void proc.exited.then(() => {
    splitters.stdout.flush();
    splitters.stderr.flush();
  });
  return proc;
}
