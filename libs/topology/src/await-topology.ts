import { setTimeout as sleep } from "node:timers/promises";

import type { JetStreamManager } from "@nats-io/jetstream";

import { TopologyError } from "./errors.ts";
import { verifyTopology } from "./verify-topology.ts";

export interface AwaitTopologyOptions {
  /** How long to wait for a complete topology before throwing what is still missing; 0 checks once. */
  timeoutMs: number;
  /** Between checks. */
  pollMs?: number;
  /** Warned on the first incomplete check and whenever what is missing changes. */
  logger?: { warn(fields: { missing: readonly string[] }, message: string): void };
  signal?: AbortSignal;
}

/**
 * Resolves once {@link verifyTopology} finds everything, checking again every `pollMs` while
 * something is missing. A service started beside the topology's provisioning (the first
 * `kubectl apply`, where the topology Job and the Deployments start together) waits for it
 * instead of exiting and being restarted with a growing back-off. Throws the last
 * {@link TopologyError} after `timeoutMs`, and any other error (NATS, permissions) at once.
 */
export async function awaitTopology(
  jsm: JetStreamManager,
  { timeoutMs, pollMs = 1000, logger, signal }: AwaitTopologyOptions,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let reported = "";
  for (;;) {
    try {
      await verifyTopology(jsm);
      return;
    } catch (err) {
      if (!(err instanceof TopologyError) || Date.now() + pollMs > deadline) throw err;
      const missing = err.missing.join(", ");
      if (missing !== reported) {
        logger?.warn(
          { missing: err.missing },
          "waiting for the JetStream topology to be provisioned",
        );
      }
      reported = missing;
    }
    await sleep(pollMs, undefined, { signal });
  }
}
