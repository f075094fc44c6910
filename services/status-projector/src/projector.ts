import { serverUsesListIndexes } from "@conveyor/read-model";
import { millis } from "@nats-io/transport-node";

import { deadLettersProjection } from "./dead-letters-projection.ts";
import type { ProjectorDeps } from "./deps.ts";
import { eventsProjection } from "./events-projection.ts";
import { JobCache } from "./job-cache.ts";
import { resolveProjectorOptions } from "./options.ts";
import type { ResolvedProjectorOptions } from "./options.ts";
import type { Projection } from "./projection.ts";
import { ProjectorLoop } from "./projector-loop.ts";

export interface Projector {
  /**
   * Stops pulling messages and resolves once the batches in progress are stored and
   * acknowledged, or, when MongoDB is unavailable, handed back unacknowledged (`nak`) for the
   * next projector.
   */
  stop(): Promise<void>;
  /**
   * Resolves once the projector has stopped: with `undefined` after {@link Projector.stop}, or with
   * the `ConsumerGoneError` that ended it when a consumer it reads was deleted (the other
   * mailbox is stopped too, its batch in progress stored first). Nothing is projected after that
   * until the consumer is provisioned again, so a service exits on it.
   */
  closed(): Promise<Error | undefined>;
}

/** Lease renewal when the consumer's ack wait is unknown, in milliseconds. */
const fallbackLeaseRenewMs = 10_000;

/**
 * The status projector: pulls the events stream and the dead-letter stream in batches and keeps
 * the MongoDB read models up to date (`jobs` and `rejections` from `EVENTS`, `dead_letters` from
 * `DLQ`). A batch is acknowledged only after it is stored; while MongoDB is down the batch is
 * retried with backoff (its messages kept leased with `working()`), so no message is lost.
 *
 * A document that cannot be stored as it is, or a message that cannot be decoded, is logged and
 * skipped (acknowledged) without holding back the others.
 *
 * Each mailbox handles one batch at a time and writes its own collections, which makes it the
 * only writer of each document. That holds only while exactly one projector reads each consumer:
 * two processes sharing one (two replicas, or an old and a new one overlapping in a rolling
 * update) interleave their read-merge-replace writes and can lose acknowledged events until a
 * rebuild. Stop the old projector before starting a new one; to scale out, partition by job id
 * (see docs/read-model.md).
 *
 * @throws when a consumer does not exist on its stream.
 */
export async function createProjector(deps: ProjectorDeps): Promise<Projector> {
  const options = resolveProjectorOptions({
    ...deps.options,
    fenceRevisions: deps.options?.fenceRevisions ?? (await serverUsesListIndexes(deps.db)),
  });
  const loops = [
    await createLoop(
      deps,
      options,
      eventsProjection(jobCache(options), options.fenceRevisions),
      options.consumer,
    ),
    await createLoop(
      deps,
      options,
      deadLettersProjection(options.fenceRevisions),
      options.deadLetterConsumer,
    ),
  ];
  let failure: Error | undefined;
  const running = loops.map((loop) =>
    loop.run().catch((err: unknown) => {
      failure ??= err instanceof Error ? err : new Error(String(err));
      for (const other of loops) other.stop();
    }),
  );
  const closed = Promise.all(running).then(() => failure);
  deps.logger.info(
    {
      consumer: options.consumer,
      deadLetterConsumer: options.deadLetterConsumer,
      batchSize: options.batchSize,
      batchMaxBytes: options.batchMaxBytes,
      batchLingerMs: options.batchLingerMs,
      deferMs: options.deferMs,
      newJobDeferMs: options.newJobDeferMs,
      deferLimit: options.deferLimit,
      deferMaxBytes: options.deferMaxBytes,
      cacheSize: options.cacheSize,
      fenceRevisions: options.fenceRevisions,
    },
    "projector started",
  );
  return {
    async stop() {
      for (const loop of loops) loop.stop();
      await closed;
    },
    closed: () => closed,
  };
}

function jobCache(options: ResolvedProjectorOptions): JobCache {
  return new JobCache({ maxDocuments: options.cacheSize, maxBytes: options.cacheMaxBytes });
}

async function createLoop(
  deps: ProjectorDeps,
  options: ResolvedProjectorOptions,
  projection: Projection,
  name: string,
): Promise<ProjectorLoop> {
  const consumer = await deps.js.consumers.get(projection.stream, name);
  const { config } = await consumer.info(true);
  const ackWaitMs = config.ack_wait === undefined ? 0 : millis(config.ack_wait);
  const leaseRenewMs =
    ackWaitMs > 0 ? Math.max(500, Math.floor(ackWaitMs / 3)) : fallbackLeaseRenewMs;
  return new ProjectorLoop(projection, { consumer, name, leaseRenewMs }, deps, options);
}
