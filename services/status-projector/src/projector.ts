import { StreamName } from "@conveyor/contracts";
import { millis } from "@nats-io/transport-node";

import type { ProjectorDeps } from "./deps.ts";
import { resolveProjectorOptions } from "./options.ts";
import { ProjectorLoop } from "./projector-loop.ts";

export interface Projector {
  /**
   * Stops pulling events and resolves once the batch in progress is stored and acknowledged, or,
   * when MongoDB is unavailable, handed back unacknowledged (`nak`) for the next projector.
   */
  stop(): Promise<void>;
}

/** Lease renewal when the consumer's ack wait is unknown, in milliseconds. */
const fallbackLeaseRenewMs = 10_000;

/**
 * The status projector: pulls the events stream in batches and keeps the MongoDB read models up
 * to date. A batch is acknowledged only after it is stored; while MongoDB is down the batch is
 * retried with backoff (its messages kept leased with `working()`), so no event is lost.
 *
 * Batches are handled one at a time, which makes this the only writer of each job document; to
 * scale out, partition `events.<jobId>.>` by job id (see docs/read-model.md).
 *
 * @throws when the consumer does not exist on the events stream.
 */
export async function createProjector(deps: ProjectorDeps): Promise<Projector> {
  const options = resolveProjectorOptions(deps.options);
  const consumer = await deps.js.consumers.get(StreamName.Events, options.consumer);
  const { config } = await consumer.info(true);
  const ackWaitMs = config.ack_wait === undefined ? 0 : millis(config.ack_wait);
  const leaseRenewMs =
    ackWaitMs > 0 ? Math.max(500, Math.floor(ackWaitMs / 3)) : fallbackLeaseRenewMs;
  const loop = new ProjectorLoop(consumer, deps, options, leaseRenewMs);
  const running = loop.run();
  deps.logger.info(
    { consumer: options.consumer, batchSize: options.batchSize },
    "projector started",
  );
  return {
    async stop() {
      loop.stop();
      await running;
    },
  };
}
