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

/**
 * V8 options of one service, after {@link serviceNodeOptions}. In the container image they come
 * first in the service's arguments: `args` in `k8s/base/<service>.yaml`, `command` in
 * `docker-compose.yml`.
 *
 * - `--single-threaded-gc` for the services on a job's path (gateway, dispatcher, worker): V8
 *   collects on the service's own thread instead of handing parts of each collection to helper
 *   threads. A service runs one event loop and is given about one core (a Kubernetes CPU limit,
 *   or a machine it shares with nats-server and the database), where the helper threads only
 *   compete with that loop and with the other processes. In A/B runs at 2,000 jobs/s the pickup
 *   p99 fell from 18.5-25 to 13-17 ms at the same CPU per job. It costs those services 25-60 MiB
 *   of RSS (a collection on one thread is slower, and V8 sizes the heap for it), which does not
 *   grow with the backlog. The status-projector keeps V8's helper threads: it is off the job's
 *   path, and with the flag its RSS grew 23 % from a 10k to a 1M backlog, past the 20 % the
 *   bench's target allows, as its bounded caches filled.
 *
 * Measurements in bench/README.md ("What changed").
 */
export function serviceOwnNodeOptions(name: ServiceName): readonly string[] {
  return name === "status-projector" ? [] : ["--single-threaded-gc"];
}

export function serviceCommand(
  name: ServiceName,
  workspace: string = workspaceRoot(),
  code: ServiceCode = ServiceCode.Source,
): ServiceCommand {
  const entry =
    code === ServiceCode.Source
      ? ["--conditions=conveyor-source", join("services", name, "src", "main.ts")]
      : [join("services", name, "dist", "main.js")];
  return {
    command: process.execPath,
    args: [...serviceNodeOptions, ...serviceOwnNodeOptions(name), ...entry],
    cwd: workspace,
  };
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
  /** How much nicer than this process the service runs (see `serviceNiceness`). @default 0 */
  niceness?: number;
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
    niceness: options.niceness ?? 0,
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
