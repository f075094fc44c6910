import { setTimeout as sleep } from "node:timers/promises";

import type { JetStreamManager } from "@nats-io/jetstream";

import { TopologyError } from "./errors.ts";
import { notAnsweringYet } from "./not-answering-yet.ts";
import { verifyTopology } from "./verify-topology.ts";

export interface AwaitTopologyOptions {
  /** How long to wait for a complete topology before throwing what is still missing; 0 checks once. */
  timeoutMs: number;
  /** Between checks. */
  pollMs?: number;
  /**
   * Warned on the first incomplete check and whenever what is missing changes, and when JetStream
   * first does not answer.
   */
  logger?: { warn(fields: { missing?: readonly string[]; err?: unknown }, message: string): void };
  signal?: AbortSignal;
}

/**
 * Resolves once {@link verifyTopology} finds everything, checking again every `pollMs` while
 * something is missing or JetStream does not answer yet. A service started beside the topology's
 * provisioning (the first `kubectl apply`, where nats-server, the topology Job and the
 * Deployments start together) waits for it instead of exiting and being restarted with a growing
 * back-off. After `timeoutMs` throws the last error (a {@link TopologyError} naming what is
 * missing); any other error (permissions) at once.
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
      const waiting = err instanceof TopologyError || notAnsweringYet(err);
      if (!waiting || Date.now() + pollMs > deadline) throw err;
      const now = err instanceof TopologyError ? err.missing.join(", ") : "(no answer)";
      if (now !== reported) {
        if (err instanceof TopologyError) {
          logger?.warn(
            { missing: err.missing },
            "waiting for the JetStream topology to be provisioned",
          );
        } else {
          logger?.warn({ err }, "waiting for JetStream to answer");
        }
      }
      reported = now;
    }
    await sleep(pollMs, undefined, { signal });
  }
}
