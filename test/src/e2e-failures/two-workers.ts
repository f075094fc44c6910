import type { ServerProcess } from "@conveyor/testing";

import { startServiceStack } from "../e2e/service-stack.ts";
import type { ServiceStack } from "../e2e/service-stack.ts";
import { printed, typesRegistered } from "./jobs-api.ts";

/** The two worker replicas' `WORKER_ID`s: `worker-a` is the stack's worker service, `worker-b` a replica. */
export const WorkerIds = ["worker-a", "worker-b"] as const;
export type WorkerId = (typeof WorkerIds)[number];

/** A service stack with two worker replicas sharing the work consumers. */
export interface TwoWorkerStack extends AsyncDisposable {
  stack: ServiceStack;
  process(id: WorkerId): ServerProcess;
  /**
   * Sends `signal` to one replica. worker-a is signalled through the stack, so that its exit is
   * not reported as a service dying on its own.
   */
  signal(id: WorkerId, signal: NodeJS.Signals): void;
}

/** Options of {@link startTwoWorkers}. */
export interface TwoWorkersOptions {
  /** Environment of every service (both workers included). */
  env?: Record<string, string>;
  /** Environment of worker-b only. */
  replicaEnv?: Record<string, string>;
}

/**
 * Starts the services plus a second worker replica, and waits until both workers consume and
 * `sleep` is registered.
 */
export async function startTwoWorkers(options: TwoWorkersOptions = {}): Promise<TwoWorkerStack> {
  const stack = await startServiceStack({ env: { ...options.env, WORKER_ID: "worker-a" } });
  try {
    const replica = stack.startReplica("worker", { ...options.replicaEnv, WORKER_ID: "worker-b" });
    const process = (id: WorkerId) => (id === "worker-a" ? stack.processes.worker : replica);
    for (const id of WorkerIds) await printed(process(id), "worker started");
    await typesRegistered(stack, ["sleep"]);
    return {
      stack,
      process,
      signal(id, signal) {
        if (id === "worker-a") void stack.signalService("worker", signal);
        else if (replica.pid !== undefined) globalThis.process.kill(replica.pid, signal);
      },
      [Symbol.asyncDispose]: () => stack[Symbol.asyncDispose](),
    };
  } catch (err) {
    await stack[Symbol.asyncDispose]();
    throw err;
  }
}

/** The other replica. */
export function otherWorker(id: WorkerId): WorkerId {
  return id === "worker-a" ? "worker-b" : "worker-a";
}

/** Narrows a `workerId` read from an event. */
export function isWorkerId(value: string): value is WorkerId {
  return (WorkerIds as readonly string[]).includes(value);
}
