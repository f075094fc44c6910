import { StreamName } from "@conveyor/contracts";
import { AckPolicy, DeliverPolicy, RetentionPolicy } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";

import { ceilingJobType, workAsQueuedConsumers } from "./event-mode.ts";

/**
 * Turns the fresh topology's `WORK` into the `work-as-queued` mode's: the same stream with interest
 * retention (a work item stays until every consumer it matches has acknowledged it), read by the
 * worker's consumer of the diagnostic's type and by a projector consumer of every work item.
 * Retention cannot be changed on an existing stream, so `WORK` is made again, empty.
 */
export async function useWorkAsQueued(jsm: JetStreamManager): Promise<void> {
  const { config } = await jsm.streams.info(StreamName.Work);
  await jsm.streams.delete(StreamName.Work);
  await jsm.streams.add({ ...config, retention: RetentionPolicy.Interest });
  const consumers = [
    { durable_name: workAsQueuedConsumers.worker, filter_subject: `work.*.${ceilingJobType}` },
    { durable_name: workAsQueuedConsumers.projector, filter_subject: "work.>" },
  ];
  for (const consumer of consumers) {
    await jsm.consumers.add(StreamName.Work, {
      ...consumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(30_000),
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: 10_000,
    });
  }
}
