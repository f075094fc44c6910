import { StreamName, Subject } from "@conveyor/contracts";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

import { followJobEvents, jobEventOf } from "./follow-job-events.ts";
import { JobStatusFold } from "./job-outcome.ts";
import type { JobOutcome } from "./job-outcome.ts";

/** How often a wait reads the job's stored events again besides those it hears. */
const rereadMs = 5000;

/**
 * Resolves with the outcome of the job's newest run once it has one, or undefined when `timeoutMs`
 * passes or `signal` aborts first: follows the job's events ({@link followJobEvents}), reading the
 * newest stored event of each kind from `EVENTS` with one direct get.
 *
 * @throws what reading the stored events threw, when it failed last and nothing was heard; why the
 *   subscription to the job's events ended (a permission refused), when no outcome came.
 */
export async function waitForOutcome(
  nc: NatsConnection,
  jsm: () => Promise<JetStreamManager>,
  jobId: string,
  options: { timeoutMs: number; readTimeoutMs: number; signal: AbortSignal | undefined },
): Promise<JobOutcome | undefined> {
  const fold = new JobStatusFold();
  const take = (subject: string, data: Uint8Array) => {
    const event = jobEventOf(jobId, subject, data);
    if (event !== undefined) fold.add(event);
  };
  const end = await followJobEvents(
    nc,
    jobId,
    {
      async read() {
        const stored = await (
          await jsm()
        ).direct.getLastMessagesFor(StreamName.Events, { multi_last: [Subject.eventsOf(jobId)] });
        for await (const msg of stored) take(msg.subject, msg.data);
      },
      heard: (msg) => {
        take(msg.subject, msg.data);
      },
      finished: () => fold.outcome !== undefined,
    },
    { ...options, rereadMs },
  );
  const outcome = fold.outcome;
  if (outcome !== undefined) return outcome;
  // Not allowed to hear the job's events: waiting could only run out.
  if (end.subscriptionError !== undefined) throw end.subscriptionError;
  if (!fold.known && end.lastReadError !== undefined) throw end.lastReadError;
  return undefined;
}
