import { createMissingTopology, ensureTopology } from "@conveyor/topology";
import type { TopologyOptions } from "@conveyor/topology";
import type { JetStreamManager } from "@nats-io/jetstream";

/** What {@link prepareStackTopology} did. */
export type StackTopology = "ensured" | "kept" | "completed";

/**
 * Gets the JetStream topology ready for the stack's services. On the stack's own nats-server
 * (`ownServer`) it is created or brought up to date with `topology`. On servers someone else runs
 * (`NATS_URL`) what exists is kept as its owner provisioned it (`kept`): updating it would apply
 * this machine's defaults (one replica, a week's retention) to a cluster's streams. What is missing
 * there is created (`completed`).
 */
export async function prepareStackTopology(
  jsm: JetStreamManager,
  topology: TopologyOptions,
  ownServer: boolean,
): Promise<StackTopology> {
  if (ownServer) {
    await ensureTopology(jsm, topology);
    return "ensured";
  }
  const created = await createMissingTopology(jsm, topology);
  return created.length === 0 ? "kept" : "completed";
}
