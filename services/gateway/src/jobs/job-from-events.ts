import { newestStoredMessages } from "@conveyor/client";
import { StreamName, Subject, jsonOrUndefined, parseJobEventJson } from "@conveyor/contracts";
import { applyEvent } from "@conveyor/read-model";
import type { JobDocument } from "@conveyor/read-model";
import type { NatsConnection } from "@nats-io/transport-node";

import { withTimeout } from "../http/with-timeout.ts";

/**
 * The document of a job that is in `EVENTS` but not yet in the read model (the projector holds an
 * unfinished job's events back for a while, and it may be behind): the newest event of each kind
 * (`events.<jobId>.<kind>`), folded by the read model's own merge, so it is the document the
 * projector would write from those events. Undefined when `EVENTS` holds nothing of the job.
 *
 * @throws {DeadlineError} when NATS does not answer within `timeoutMs`; a failed look-up (a
 *   stored event nats.js cannot read among them) rejects with its error.
 */
export async function jobFromEvents(
  nc: NatsConnection,
  jobId: string,
  timeoutMs: number,
): Promise<JobDocument | undefined> {
  const read = async () => {
    // One direct get for the newest message on each of the job's subjects (one per kind), read
    // without nats.js decoding the stored headers in its callback (an odd header name would end
    // the connection's read loop). Given longer than the deadline below, which answers first:
    // its own only ends the subscription.
    const stored = await newestStoredMessages(
      nc,
      StreamName.Events,
      Subject.eventsOf(jobId),
      2 * timeoutMs,
    );
    let doc: JobDocument | undefined;
    for (const { data } of stored) {
      const parsed = parseJobEventJson(jsonOrUndefined(data));
      // An event the projector would skip as invalid is skipped here too.
      if (parsed.success && parsed.data.jobId === jobId) doc = applyEvent(doc, parsed.data);
    }
    return doc;
  };
  return withTimeout(read(), timeoutMs, "NATS");
}
